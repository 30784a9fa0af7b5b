/**
 * What the organization wall (docs/decisions/organizations.md) costs a step's write, measured on
 * the database alone: the sessions store writes a step as one compare-and-set statement with no
 * transaction, and under the wall that statement must run after `app.org_id` is set. Each way is
 * run in the same run against the first (today's), on a table of sessions like the store's.
 *
 *   npm run bench:wall        (BENCH_SECONDS per round, default 5; BENCH_WORKERS, default 16)
 */
import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, inOrganization, migrate, ORGANIZATION_WALL_MIGRATIONS } from "@tdt/kit";
import { createDatabase, dropDatabase, SERVER_URL, urlOf } from "@tdt/test-support/database";
import postgres, { type Sql } from "postgres";
import { load, printTable } from "./measure.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const workers = Number(process.env.BENCH_WORKERS ?? 16);
const ROUNDS = 3;
const ORG = randomUUID();
const OTHER = randomUUID();

const database = await createDatabase("bench_wall");
const role = `${database.name}_app`;
const owner = postgres(database.url, { max: 4, onnotice: () => {} });
try {
  await migrate(owner, await mkdtemp(join(tmpdir(), "tdt-bench-")), createLogger("bench", "silent"), [
    ...ORGANIZATION_WALL_MIGRATIONS,
  ]);
  for (const table of ["open_sessions", "walled_sessions"]) {
    await owner.unsafe(`create table ${table} (
      id uuid primary key, org_id uuid not null, revision integer not null default 0,
      steps jsonb not null default '[]', updated_at timestamptz not null default now())`);
  }
  await owner`select tdt_app_role(${role})`;
  await owner`select tdt_org_wall('walled_sessions', ${role})`;
  // One session per worker in the organization measured, and as many of another beside them.
  const ids = Array.from({ length: workers }, () => randomUUID());
  for (const table of ["open_sessions", "walled_sessions"]) {
    for (const id of ids) {
      await owner.unsafe(`insert into ${table} (id, org_id) values ($1, $2), ($3, $4)`, [id, ORG, randomUUID(), OTHER]);
    }
  }
  const appUrl = new URL(urlOf(database.name));
  appUrl.username = role;
  const app = postgres(appUrl.toString(), { max: workers, onnotice: () => {} });
  const runtime = postgres(database.url, { max: workers, onnotice: () => {} });

  type Step = (sql: Sql, id: string, revision: number) => Promise<number | undefined>;
  const stepQuery = (sql: Sql, table: string, id: string, revision: number) =>
    sql<{ revision: number }[]>`
      update ${sql(table)} set revision = revision + 1, steps = steps || '[{"op":"answer"}]', updated_at = now()
      where id = ${id} and revision = ${revision}
      returning revision`;
  const step = (table: string) => (sql: Sql, id: string, revision: number) =>
    stepQuery(sql, table, id, revision).then(([row]) => row?.revision);
  const ways: Array<{ way: string; sql: Sql; write: Step }> = [
    { way: "one statement, no wall (today)", sql: runtime, write: step("open_sessions") },
    {
      way: "inOrganization: begin, set_config, statement, commit",
      sql: app,
      write: (sql, id, revision) =>
        inOrganization(sql, ORG, (tx) => step("walled_sessions")(tx as unknown as Sql, id, revision)),
    },
    {
      way: "the same, pipelined (no await between)",
      sql: app,
      write: (sql, id, revision) =>
        sql
          .begin((tx) => [
            tx`select set_config('app.org_id', ${ORG}, true)`,
            stepQuery(tx as unknown as Sql, "walled_sessions", id, revision),
          ])
          .then((results) => (results[1] as Array<{ revision: number }>)[0]?.revision),
    },
  ];

  // Does a set_config in the statement itself reach the policy? (It would save the transaction.)
  const [inline] = await app<{ n: number }[]>`
    with org as (select set_config('app.org_id', ${ORG}, true))
    select count(*)::int as n from walled_sessions, org`;
  console.log(
    `set_config in the statement's own CTE: the policy saw ${inline?.n ?? 0} of ${workers} rows (${
      inline?.n === workers ? "it works" : "it does not: the transaction is needed"
    })`,
  );

  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { way, sql, write } of ways) {
      const revisions = new Map<string, number>();
      const result = await load({
        workers,
        seconds,
        setup: async (worker) => {
          const id = ids[worker] as string;
          const [row] = await owner<{ revision: number }[]>`
            select revision from ${owner(way.includes("today") ? "open_sessions" : "walled_sessions")} where id = ${id}`;
          revisions.set(id, row?.revision ?? 0);
          return id;
        },
        step: async (id) => {
          const next = await write(sql, id, revisions.get(id) ?? 0);
          if (next === undefined) return false;
          revisions.set(id, next);
          return true;
        },
      });
      results.set(way, [...(results.get(way) ?? []), result.perSecond]);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const today = median(results.get(ways[0]?.way ?? "") ?? []);
  printTable(
    `A step's write, ${workers} workers, ${ROUNDS} rounds of ${seconds} s each (median writes/s)`,
    ways.map(({ way }) => {
      const perSecond = median(results.get(way) ?? []);
      return { way, "writes/s": perSecond, "ratio to today": (perSecond / today).toFixed(2) };
    }),
  );
  // Each way wrote only its own organization's rows.
  const [others] = await owner<{ n: number }[]>`
    select count(*)::int as n from walled_sessions where org_id = ${OTHER} and revision > 0`;
  console.log(`rows of the other organization written: ${others?.n ?? 0}`);
  await app.end();
  await runtime.end();
} finally {
  await owner.end();
  await dropDatabase(database.name);
  const server = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await server.unsafe(`drop role if exists "${role}"`);
  await server.end();
}
