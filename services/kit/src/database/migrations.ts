import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ReservedSql, Sql } from "postgres";
import { Umzug, type UmzugStorage } from "umzug";
import type { Logger } from "../observability/logger.js";
import { ORGANIZATION_WALL_MIGRATIONS } from "./organizations.js";

/** Any number will do; advisory locks are per database, so every service can use the same. */
const MIGRATION_LOCK_KEY = 7_317_001;

/** Umzug's record of applied migrations, kept in the service's own database. */
class PostgresStorage implements UmzugStorage<ReservedSql> {
  constructor(private readonly sql: ReservedSql) {}

  async ensureTable(): Promise<void> {
    await this.sql`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`;
  }
  async executed(): Promise<string[]> {
    const rows = await this.sql<{ name: string }[]>`select name from schema_migrations order by name`;
    return rows.map((row) => row.name);
  }
  async logMigration({ name }: { name: string }): Promise<void> {
    // Idempotent: the migration records itself inside its own transaction, then Umzug asks again.
    await this.sql`insert into schema_migrations (name) values (${name}) on conflict do nothing`;
  }
  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.sql`delete from schema_migrations where name = ${name}`;
  }
}

/**
 * A migration of a part the kit runs for its services (the outbox), shipped in the kit's code so
 * that every service image has it. Recorded as `kit/<name>`, apart from the service's own files.
 * It must find its work already done where a service's own migrations did it before the kit
 * owned it (docs/decisions/outbox-migration.md).
 */
export interface KitMigration {
  name: string;
  sql: string;
}

/**
 * Applies `kitMigrations`, then the `*.sql` files of `directory` in name order, each in its own
 * transaction, under a session advisory lock so that replicas starting together migrate once.
 * `thenUnderLock` runs last, still under the lock: setup that is not a migration but writes the
 * same catalog rows on every start (a role's password), which two replicas starting together
 * would otherwise write at once (Postgres: "tuple concurrently updated").
 */
export async function migrate(
  sql: Sql,
  directory: string,
  log: Logger,
  kitMigrations: readonly KitMigration[] = [],
  thenUnderLock?: (connection: ReservedSql) => Promise<void>,
): Promise<string[]> {
  const connection = await sql.reserve();
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const storage = new PostgresStorage(connection);
    await storage.ensureTable();
    const apply = async (name: string, text: string) => {
      await connection.unsafe("begin");
      try {
        await connection.unsafe(text);
        await storage.logMigration({ name });
        await connection.unsafe("commit");
      } catch (error) {
        await connection.unsafe("rollback");
        throw error;
      }
    };
    // The organization wall's functions are every database's: a service's migration may wall a table.
    const everyKit = [...kitMigrations, ...ORGANIZATION_WALL_MIGRATIONS].filter(
      (migration, index, all) => all.findIndex((other) => other.name === migration.name) === index,
    );
    const kit = everyKit.map((migration) => ({ name: `kit/${migration.name}`, text: async () => migration.sql }));
    const files = (await readdir(directory))
      .filter((name) => name.endsWith(".sql"))
      .sort()
      .map((name) => ({ name, text: () => readFile(join(directory, name), "utf8") }));
    const umzug = new Umzug({
      // An object, not the connection itself: Umzug would call a function context.
      context: { sql: connection },
      storage,
      logger: undefined,
      migrations: [...kit, ...files].map(({ name, text }) => ({ name, up: async () => apply(name, await text()) })),
    });
    const applied = await umzug.up();
    const names = applied.map((migration) => migration.name);
    if (names.length > 0) log.info({ migrations: names }, "migrations applied");
    await thenUnderLock?.(connection);
    return names;
  } finally {
    await connection`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    connection.release();
  }
}
