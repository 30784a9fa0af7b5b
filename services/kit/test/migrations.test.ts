import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, databaseUrlFor, ensureDatabase, migrate, type Sql } from "@tdt/kit";
import { connect, createDatabase, dropDatabase, SERVER_URL, uniqueName, urlOf } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";

const log = testLogger("kit-migrations-test");

/** Everything a test made, undone in afterAll. */
const databases: string[] = [];
const directories: string[] = [];
const pools: Sql[] = [];

afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end({ timeout: 5 })));
  for (const name of databases) await dropDatabase(name);
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

async function freshDatabase(): Promise<{ name: string; url: string }> {
  const database = await createDatabase("kit_migr");
  databases.push(database.name);
  return database;
}

function pool(url: string): Sql {
  const sql = connect(url);
  pools.push(sql);
  return sql;
}

/** A directory of migration files, written in the order given (not name order). */
async function migrationDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kit-migrations-"));
  directories.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** The organization wall's functions (database/organizations.ts), which every database gets. */
const WALL = ["kit/0002_organization_wall", "kit/0003_app_role_once"];

async function recorded(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
  return rows.map((row) => row.name);
}

async function tableExists(sql: Sql, table: string): Promise<boolean> {
  const [row] = await sql<{ found: string | null }[]>`select to_regclass(${`public.${table}`})::text as found`;
  return row?.found != null;
}

async function advisoryLocksHeld(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from pg_locks
    where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`;
  return row?.count ?? -1;
}

/**
 * Three migrations whose effects only work in name order; each appends its name to `applied`
 * (created by the first), so a migration run twice or out of order shows.
 */
const ORDERED = {
  // Written in this (non-)order on purpose.
  "010_add_column.sql":
    "alter table things add column colour text not null default 'red';\ninsert into applied (name) values ('010');\n",
  "001_create.sql":
    "create table applied (id serial primary key, name text not null);\ncreate table things (id int primary key);\ninsert into applied (name) values ('001');\n",
  "002_insert.sql": "insert into things (id) values (1), (2);\ninsert into applied (name) values ('002');\n",
};

describe("migrate", () => {
  it("applies the .sql files in name order and records each in schema_migrations", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir({ ...ORDERED, "README.md": "not a migration" });
    const sql = pool(url);

    const applied = await migrate(sql, dir, log);

    // The organization wall's functions come first, into every database.
    expect(applied).toEqual([...WALL, "001_create.sql", "002_insert.sql", "010_add_column.sql"]);
    expect(await recorded(sql)).toEqual(["001_create.sql", "002_insert.sql", "010_add_column.sql", ...WALL]);
    const order = await sql<{ name: string }[]>`select name from applied order by id`;
    expect(order.map((row) => row.name)).toEqual(["001", "002", "010"]);
    const things = await sql<{ id: number; colour: string }[]>`select id, colour from things order by id`;
    expect(things).toEqual([
      { id: 1, colour: "red" },
      { id: 2, colour: "red" },
    ]);
    expect(await advisoryLocksHeld(sql)).toBe(0);
  });

  it("applies nothing when run again, and only a new file when one is added", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir(ORDERED);
    const sql = pool(url);
    await migrate(sql, dir, log);

    expect(await migrate(sql, dir, log)).toEqual([]);
    expect(await recorded(sql)).toHaveLength(3 + WALL.length);

    await writeFile(join(dir, "011_more.sql"), "insert into applied (name) values ('011');");
    expect(await migrate(sql, dir, log)).toEqual(["011_more.sql"]);
    const order = await sql<{ name: string }[]>`select name from applied order by id`;
    expect(order.map((row) => row.name)).toEqual(["001", "002", "010", "011"]);
  });

  it("applies each migration exactly once when three pools migrate one fresh database at the same time", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir({
      ...ORDERED,
      // Slow enough that the three runs overlap if nothing serialises them.
      "005_slow.sql": "select pg_sleep(0.2);\ninsert into applied (name) values ('005');\n",
    });
    const [a, b, c] = [pool(url), pool(url), pool(url)];

    const results = await Promise.all([a, b, c].map((sql) => migrate(sql, dir, log)));

    const all = results.flat().sort();
    expect(all).toEqual(["001_create.sql", "002_insert.sql", "005_slow.sql", "010_add_column.sql", ...WALL]);
    expect(await recorded(a)).toEqual(all);
    const order = await a<{ name: string }[]>`select name from applied order by id`;
    expect(order.map((row) => row.name)).toEqual(["001", "002", "005", "010"]);
    expect(await advisoryLocksHeld(a)).toBe(0);
  });

  it("rolls back a failing file entirely, keeps the earlier ones, and stops there", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir({
      "001_ok.sql": "create table first_table (id int primary key);",
      "002_broken.sql": "create table half_table (id int primary key);\nselec this is not sql;\n",
      "003_after.sql": "create table third_table (id int primary key);",
    });
    const sql = pool(url);

    await expect(migrate(sql, dir, log)).rejects.toThrow(/002_broken\.sql/);

    expect(await tableExists(sql, "first_table")).toBe(true);
    expect(await tableExists(sql, "half_table")).toBe(false);
    expect(await tableExists(sql, "third_table")).toBe(false);
    expect(await recorded(sql)).toEqual(["001_ok.sql", ...WALL]);
    // The lock is released, so another replica (another pool) is not blocked.
    expect(await advisoryLocksHeld(sql)).toBe(0);

    // Once the file is fixed, the next run picks up where the failed one stopped.
    await writeFile(join(dir, "002_broken.sql"), "create table half_table (id int primary key);");
    expect(await migrate(pool(url), dir, log)).toEqual(["002_broken.sql", "003_after.sql"]);
    expect(await tableExists(sql, "half_table")).toBe(true);
    expect(await tableExists(sql, "third_table")).toBe(true);
  });

  it("applies the kit's migrations before the service's files, recorded as kit/<name>, once", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir(ORDERED);
    const sql = pool(url);
    // The service's first file appends to `applied`, so the kit's migration must have made it.
    const kit = [{ name: "0001_base", sql: "create table applied (id serial primary key, name text not null);" }];
    await writeFile(
      join(dir, "001_create.sql"),
      "create table things (id int primary key);\ninsert into applied (name) values ('001');\n",
    );

    expect(await migrate(sql, dir, log, kit)).toEqual([
      "kit/0001_base",
      ...WALL,
      "001_create.sql",
      "002_insert.sql",
      "010_add_column.sql",
    ]);
    expect(await migrate(sql, dir, log, kit)).toEqual([]);
    // A replica of a release without the kit's migration ignores its record.
    expect(await migrate(sql, dir, log)).toEqual([]);
    expect(await recorded(sql)).toEqual([
      "001_create.sql",
      "002_insert.sql",
      "010_add_column.sql",
      "kit/0001_base",
      ...WALL,
    ]);
  });

  it("leaves the failed connection usable and outside any transaction", async () => {
    const { url } = await freshDatabase();
    const dir = await migrationDir({ "001_broken.sql": "create table t (id int);\nselect 1/0;\n" });
    // One connection, so the query after the failure runs on the very connection that failed.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    pools.push(sql);

    await expect(migrate(sql, dir, log)).rejects.toThrow(/001_broken\.sql/);

    // If the failed migration's transaction were left open, this write would be rolled back
    // or refused; it must commit and be visible from another pool.
    await sql`create table after_failure (id int)`;
    expect(await tableExists(pool(url), "after_failure")).toBe(true);
    expect(await tableExists(pool(url), "t")).toBe(false);
  });
});

describe("ensureDatabase", () => {
  async function exists(name: string): Promise<boolean> {
    const admin = connect(SERVER_URL);
    try {
      const rows = await admin`select 1 from pg_database where datname = ${name}`;
      return rows.length === 1;
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  it("creates a missing database, and is a no-op when it exists", async () => {
    const name = uniqueName("kit_ensure");
    databases.push(name);
    expect(await exists(name)).toBe(false);

    await ensureDatabase(SERVER_URL, name, log);
    expect(await exists(name)).toBe(true);

    await expect(ensureDatabase(SERVER_URL, name, log)).resolves.toBeUndefined();
    expect(await exists(name)).toBe(true);
  });

  it("succeeds for every caller when three create the same new database at once", async () => {
    const name = uniqueName("kit_race");
    databases.push(name);

    await Promise.all([1, 2, 3].map(() => ensureDatabase(SERVER_URL, name, log)));

    expect(await exists(name)).toBe(true);
  });

  it("still fails on errors other than a lost race", async () => {
    const url = new URL(SERVER_URL);
    url.pathname = `/${uniqueName("kit_absent_server_db")}`;
    // The admin connection itself goes to a database that does not exist.
    await expect(ensureDatabase(url.toString(), uniqueName("kit_never"), log)).rejects.toMatchObject({
      code: "3D000",
    });
  });
});

describe("connectDatabase", () => {
  it("creates the service's database on the server and returns a pool on it", async () => {
    const name = uniqueName("kit_connect");
    databases.push(name);

    const sql = await connectDatabase({ serverUrl: SERVER_URL, database: name, max: 2, log });
    pools.push(sql);

    const [row] = await sql<{ db: string }[]>`select current_database() as db`;
    expect(row?.db).toBe(name);
  });

  it("uses an explicit URL as is and creates nothing", async () => {
    const existing = await freshDatabase();
    const neverCreated = uniqueName("kit_unused");
    databases.push(neverCreated);

    const sql = await connectDatabase({
      serverUrl: SERVER_URL,
      database: neverCreated,
      explicitUrl: existing.url,
      log,
    });
    pools.push(sql);

    const [row] = await sql<{ db: string }[]>`select current_database() as db`;
    expect(row?.db).toBe(existing.name);
    const [found] = await sql`select 1 from pg_database where datname = ${neverCreated}`;
    expect(found).toBeUndefined();
  });
});

describe("databaseUrlFor", () => {
  it("puts the database name into the server URL's path", () => {
    expect(databaseUrlFor("postgres://postgres@127.0.0.1:5432/postgres", "tdt_auth")).toBe(
      "postgres://postgres@127.0.0.1:5432/tdt_auth",
    );
  });

  it("keeps credentials, port and query parameters", () => {
    expect(databaseUrlFor("postgresql://app:s3cret@db.internal:6543/postgres?sslmode=require", "tdt_trees")).toBe(
      "postgresql://app:s3cret@db.internal:6543/tdt_trees?sslmode=require",
    );
  });

  it("adds a path to a server URL without one", () => {
    expect(databaseUrlFor("postgres://db:5432", "tdt_sessions")).toBe("postgres://db:5432/tdt_sessions");
  });

  it("returns the explicit URL unchanged when one is given", () => {
    expect(databaseUrlFor("postgres://db/postgres", "tdt_auth", "postgres://other/custom_name")).toBe(
      "postgres://other/custom_name",
    );
  });

  it("ignores an empty explicit URL", () => {
    expect(databaseUrlFor("postgres://db/postgres", "tdt_auth", "")).toBe("postgres://db/tdt_auth");
  });

  it("agrees with the test support's own URL helper", () => {
    expect(databaseUrlFor(SERVER_URL, "tdt_x")).toBe(urlOf("tdt_x"));
  });
});
