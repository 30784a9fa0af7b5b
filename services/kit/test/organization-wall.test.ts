/**
 * The database's wall between organizations, on a real PostgreSQL: a table walled off by
 * `tdt_org_wall`, read and written as the service's role made by `tdt_app_role`, shows a
 * transaction only the organization `inOrganization` names, whatever the query forgets to say.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createDatabase, dropDatabase, SERVER_URL, urlOf } from "@tdt/test-support/database";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction } from "../src/database/connection.js";
import { migrate } from "../src/database/migrations.js";
import { inOrganization, ORGANIZATION_WALL_MIGRATIONS, shareOwnerPassword } from "../src/database/organizations.js";
import { createLogger } from "../src/observability/logger.js";

const A = randomUUID();
const B = randomUUID();
let database: { name: string; url: string };
let owner: Sql;
let app: Sql;
let role: string;

beforeAll(async () => {
  database = await createDatabase("kit_org_wall");
  owner = connect(database.url);
  const empty = await mkdtemp(join(tmpdir(), "tdt-no-migrations-"));
  await migrate(owner, empty, createLogger("kit-test", "silent"), ORGANIZATION_WALL_MIGRATIONS);
  role = `${database.name}_app`;
  await owner`create table notes (id uuid primary key default gen_random_uuid(), org_id uuid not null, body text not null)`;
  await owner`create table entries (id bigserial primary key, org_id uuid not null, body text not null)`;
  await owner`select tdt_app_role(${role})`;
  await owner`select tdt_org_wall('notes', ${role})`;
  await owner`select tdt_org_wall('entries', ${role})`;
  // The owner (here a superuser, whom no policy binds) writes each organization's rows.
  await owner`insert into notes (org_id, body) values (${A}, 'a1'), (${A}, 'a2'), (${B}, 'b1')`;
  // One connection: every transaction below follows the one before on it.
  app = postgres(urlWithRole(), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
  if (database) await dropDatabase(database.name);
  if (role) {
    const server = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
    await server.unsafe(`drop role if exists "${role}"`);
    await server.end();
  }
});

const bodies = (rows: Array<{ body: string }>) => rows.map((row) => row.body).sort();

describe("the organization wall", () => {
  it("shows a transaction only its organization's rows, with no filter in the query", async () => {
    expect(bodies(await inOrganization(app, A, (tx) => tx<{ body: string }[]>`select body from notes`))).toEqual([
      "a1",
      "a2",
    ]);
    expect(bodies(await inOrganization(app, B, (tx) => tx<{ body: string }[]>`select body from notes`))).toEqual([
      "b1",
    ]);
  });

  it("shows nothing to a query that names no organization, and changes nothing for it", async () => {
    expect(await app`select body from notes`).toHaveLength(0);
    expect((await app`update notes set body = 'gone'`).count).toBe(0);
    expect((await app`delete from notes`).count).toBe(0);
    expect(await owner`select body from notes where body = 'gone'`).toHaveLength(0);
  });

  it("refuses a write into another organization, and an update that would move a row there", async () => {
    await expect(
      inOrganization(app, A, (tx) => tx`insert into notes (org_id, body) values (${B}, 'smuggled')`),
    ).rejects.toMatchObject({ code: "42501" });
    await expect(
      inOrganization(app, A, (tx) => tx`update notes set org_id = ${B} where body = 'a1'`),
    ).rejects.toMatchObject({ code: "42501" });
    // B's row cannot even be named from A: an update by its id changes nothing.
    const [b1] = await owner<{ id: string }[]>`select id from notes where body = 'b1'`;
    const renamed = await inOrganization(
      app,
      A,
      (tx) => tx`update notes set body = 'taken' where id = ${b1?.id ?? ""}`,
    );
    expect(renamed.count).toBe(0);
    expect(bodies(await owner<{ body: string }[]>`select body from notes`)).toEqual(["a1", "a2", "b1"]);
  });

  it("lets the role add rows to a walled table with a serial key, in its organization", async () => {
    const [added] = await inOrganization(
      app,
      A,
      (tx) => tx<{ id: string }[]>`insert into entries (org_id, body) values (${A}, 'first') returning id`,
    );
    expect(Number(added?.id)).toBeGreaterThan(0);
    expect(await inOrganization(app, B, (tx) => tx`select id from entries`)).toHaveLength(0);
  });

  it("leaves nothing behind on the pooled connection: after a transaction, or one that failed", async () => {
    await inOrganization(app, A, (tx) => tx`select 1`);
    expect(await app`select current_setting('app.org_id', true) as org`).toEqual([{ org: "" }]);
    await expect(
      inOrganization(app, A, async (tx) => {
        await tx`select 1`;
        throw new Error("the work failed");
      }),
    ).rejects.toThrow("the work failed");
    expect(await app`select body from notes`).toHaveLength(0);
  });

  it("keeps 200 concurrent transactions of two organizations apart", async () => {
    const pool = postgres(urlWithRole(), { max: 8, onnotice: () => {} });
    try {
      const seen = await Promise.all(
        Array.from({ length: 200 }, (_, n) => {
          const org = n % 2 === 0 ? A : B;
          return inOrganization(pool, org, async (tx) => {
            const rows = await tx<{ org_id: string }[]>`select org_id from notes`;
            await tx`select pg_sleep(0.001)`;
            const again = await tx<{ org_id: string }[]>`select org_id from notes`;
            return { org, orgs: [...rows, ...again].map((row) => row.org_id) };
          });
        }),
      );
      const crossed = seen.filter(({ org, orgs }) => orgs.some((other) => other !== org));
      const empty = seen.filter(({ orgs }) => orgs.length === 0);
      expect({ transactions: seen.length, crossed: crossed.length, empty: empty.length }).toEqual({
        transactions: 200,
        crossed: 0,
        empty: 0,
      });
    } finally {
      await pool.end();
    }
  });

  it("makes a role that cannot turn the wall off, even when asked twice", async () => {
    await owner`select tdt_app_role(${role})`;
    const [made] = await owner<{ rolsuper: boolean; rolbypassrls: boolean }[]>`
      select rolsuper, rolbypassrls from pg_roles where rolname = ${role}`;
    expect(made).toEqual({ rolsuper: false, rolbypassrls: false });
    await expect(app`alter table notes disable row level security`).rejects.toMatchObject({ code: "42501" });
    // Turning row security off for itself only makes a walled query fail, never show more.
    await expect(
      inTransaction(app, async (tx) => {
        await tx`set local row_security = off`;
        return tx`select body from notes`;
      }),
    ).rejects.toMatchObject({ code: "42501" });
  });
});

describe("replicas starting together", () => {
  // Each replica migrates (nothing is left to apply) and gives the role the owner's password, as
  // runService does. Both write the same pg_authid row; outside the migration lock two at once
  // fail one replica's start with "tuple concurrently updated" (a compose stack of two replicas did).
  it("give the role the owner's password one at a time: 8 at once, 15 rounds, none fails", async () => {
    const ownerUrl = new URL(database.url);
    ownerUrl.password = "owner's secret";
    const empty = await mkdtemp(join(tmpdir(), "tdt-no-migrations-"));
    const log = createLogger("kit-test", "silent");
    const pools = Array.from({ length: 8 }, () => connect(database.url));
    const outcomes: Record<string, number> = {};
    try {
      for (let round = 0; round < 15; round += 1) {
        const results = await Promise.allSettled(
          pools.map((pool) =>
            migrate(pool, empty, log, ORGANIZATION_WALL_MIGRATIONS, (connection) =>
              shareOwnerPassword(connection, role, ownerUrl.toString()),
            ),
          ),
        );
        for (const result of results) {
          const key = result.status === "fulfilled" ? "started" : String((result.reason as Error).message);
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    expect(outcomes).toEqual({ started: 120 });
    // And the password is the role's: the server keeps its hash.
    const [stored] = await owner<{ set: boolean }[]>`
      select rolpassword is not null as set from pg_authid where rolname = ${role}`;
    expect(stored?.set).toBe(true);
  });
});

describe("databases migrating at once", () => {
  // Roles are the server's: services of two databases (two services' first starts, parallel test
  // systems) make and set the same role at once, which no database's migration lock orders.
  it("make the same role and give it the owner's password: 6 databases at once, 3 rounds, none fails", async () => {
    const log = createLogger("kit-test", "silent");
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < 3; round += 1) {
      const shared = `kit_race_${randomUUID().slice(0, 8)}_app`;
      const dir = await mkdtemp(join(tmpdir(), "tdt-role-race-"));
      await writeFile(join(dir, "001_role.sql"), `select tdt_app_role('${shared}');\n`);
      const databases = await Promise.all(Array.from({ length: 6 }, () => createDatabase("kit_role_race")));
      const pools = databases.map((made) => connect(made.url));
      try {
        const results = await Promise.allSettled(
          pools.map((pool, index) => {
            const ownerUrl = new URL(databases[index]?.url ?? "");
            ownerUrl.password = "owner's secret";
            return migrate(pool, dir, log, ORGANIZATION_WALL_MIGRATIONS, (connection) =>
              shareOwnerPassword(connection, shared, ownerUrl.toString()),
            );
          }),
        );
        for (const result of results) {
          const key = result.status === "fulfilled" ? "started" : String((result.reason as Error).message);
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
        const [made] = await owner<{ rolsuper: boolean; rolbypassrls: boolean }[]>`
          select rolsuper, rolbypassrls from pg_roles where rolname = ${shared}`;
        expect(made).toEqual({ rolsuper: false, rolbypassrls: false });
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
        for (const made of databases) await dropDatabase(made.name);
        const server = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
        await server.unsafe(`drop role if exists "${shared}"`);
        await server.end();
      }
    }
    expect(outcomes).toEqual({ started: 18 });
  }, 120_000);
});

function urlWithRole(): string {
  const url = new URL(urlOf(database.name));
  url.username = role;
  return url.toString();
}
