/**
 * The outbox table is the kit's since v0.1.0, whose services made it in their own migrations
 * (docs/decisions/outbox-migration.md). For each service, against v0.1.0's migration files as
 * released (CHANGELOG.md names the commit): a new database gets the same table, a v0.1.0 database
 * is upgraded in place without waiting for an old replica's writes, and v0.1.0 beside this release
 * finds nothing to apply on a database this release made.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, OUTBOX_MIGRATIONS, type Sql } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import { within } from "@tdt/test-support/within";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";
import { previousRelease } from "../containers/releases.js";

const log = testLogger("outbox-migration");
const release = previousRelease();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshDatabase(label: string): Promise<Sql> {
  const database = await createDatabase(label);
  const sql = connect(database.url);
  cleanups.push(
    () => dropDatabase(database.name),
    () => sql.end(),
  );
  return sql;
}

/** The service's migration files as the previous release shipped them. */
async function releasedMigrations(service: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), `${service}-released-`));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const archive = execFileSync("git", ["archive", release.commit, `services/${service}/migrations`], { cwd: ROOT });
  execFileSync("tar", ["-x", "-C", folder], { input: archive });
  return join(folder, "services", service, "migrations");
}

/** Columns, constraints and indexes of the outbox table, as Postgres describes them. */
async function outboxShape(sql: Sql) {
  const columns = await sql`
    select column_name, data_type, is_nullable, column_default from information_schema.columns
    where table_schema = current_schema() and table_name = 'outbox' order by ordinal_position`;
  const constraints = await sql`
    select conname, pg_get_constraintdef(oid) as definition from pg_constraint
    where conrelid = 'outbox'::regclass order by conname`;
  const indexes = await sql`
    select indexname, indexdef from pg_indexes
    where schemaname = current_schema() and tablename = 'outbox' order by indexname`;
  return { columns: [...columns], constraints: [...constraints], indexes: [...indexes] };
}

/** An event as v0.1.0's kit writes it (writeOutboxEvent). */
const insertEvent = (sql: Sql) =>
  sql`insert into outbox (id, subject, payload, trace_context)
    values (gen_random_uuid(), 'test.event', ${Buffer.from([1])}, null)`;

describe.each(["auth", "trees", "sessions"])(`the %s outbox, from ${release.version} on`, (service) => {
  const current = join(ROOT, "services", service, "migrations");

  it(`is made by the kit on a new database, as ${release.version}'s own migrations made it`, async () => {
    const made = await freshDatabase(`${service}_outbox_new`);
    const released = await freshDatabase(`${service}_outbox_old`);

    const applied = await migrate(made, current, log, OUTBOX_MIGRATIONS);
    await migrate(released, await releasedMigrations(service), log);

    expect(applied[0]).toBe("kit/0001_outbox");
    expect((await outboxShape(made)).columns).toHaveLength(7);
    expect(await outboxShape(made)).toEqual(await outboxShape(released));
  });

  it(`is left as it is on a ${release.version} database, without waiting for an old replica's writes`, async () => {
    const sql = await freshDatabase(`${service}_outbox_upgrade`);
    await migrate(sql, await releasedMigrations(service), log);
    await insertEvent(sql);
    const before = await outboxShape(sql);

    // An old replica's write, still uncommitted while the new one migrates.
    const writer = await sql.reserve();
    await writer`begin`;
    await insertEvent(writer);

    expect(await within(5000, migrate(sql, current, log, OUTBOX_MIGRATIONS))).toContain("kit/0001_outbox");
    await writer`commit`;
    writer.release();
    expect(await outboxShape(sql)).toEqual(before);
    const [row] = await sql<{ count: number }[]>`select count(*)::int as count from outbox`;
    expect(row?.count).toBe(2);
  });

  it(`needs nothing of ${release.version}'s migrations on a database this release made`, async () => {
    const sql = await freshDatabase(`${service}_outbox_mixed`);
    await migrate(sql, current, log, OUTBOX_MIGRATIONS);

    expect(await migrate(sql, await releasedMigrations(service), log)).toEqual([]);
    await insertEvent(sql);
  });
});

// Auth and trees added the column in a migration of their own (sessions made its outbox with it).
it.each(["auth", "trees"])(
  "adds the trace context to the %s outbox of a database from before that column",
  async (service) => {
    const released = await releasedMigrations(service);
    const column = (await readdir(released)).find((name) => name.includes("outbox_trace_context")) ?? "";
    for (const name of await readdir(released)) if (name >= column) await rm(join(released, name));
    const sql = await freshDatabase(`${service}_outbox_traceless`);
    await migrate(sql, released, log);
    const made = await freshDatabase(`${service}_outbox_new`);
    const current = join(ROOT, "services", service, "migrations");
    await migrate(made, current, log, OUTBOX_MIGRATIONS);

    await migrate(sql, current, log, OUTBOX_MIGRATIONS);

    expect(await outboxShape(sql)).toEqual(await outboxShape(made));
  },
);
