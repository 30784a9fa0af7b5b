/**
 * Where a slow figure of `npm run bench:scale` spends its time in Postgres: the plans of the
 * services' own statements, as they run them, with EXPLAIN (ANALYZE, BUFFERS) through auto_explain.
 *
 *   npx tsx bench/scale/explain.ts 1        (a loaded fraction: here tdt_scale100_*)
 *
 * auto_explain is loaded for the fraction's trees and sessions databases only (ALTER DATABASE …
 * SET session_preload_libraries, reset at the end); the system is started on them, each slow
 * request is sent once (and timed, with its size), and every statement over
 * SCALE_EXPLAIN_MS (default 20 ms) is printed from the server's log (SCALE_PG_LOG, default the
 * Debian cluster's).
 */
import { readFileSync, statSync } from "node:fs";
import { PASSWORD, sessionIdOf, treeIdOf } from "./corpus.js";
import { finishedLoad, prefixOf } from "./load.js";
import { databaseNames, serverSql, startScaleSystemPatiently } from "./system.js";

const fraction = Number(process.argv[2] ?? "1");
const prefix = prefixOf(fraction);
const threshold = Number(process.env.SCALE_EXPLAIN_MS ?? 20);
const logFile = process.env.SCALE_PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log";
const record = await finishedLoad(prefix);
if (!record) throw new Error(`no finished load in ${prefix}*`);
const names = databaseNames(prefix);
const explained = [names.trees, names.sessions];

await serverSql(async (sql) => {
  for (const database of explained) {
    await sql.unsafe(`alter database "${database}" set session_preload_libraries = 'auto_explain'`);
    await sql.unsafe(`alter database "${database}" set auto_explain.log_min_duration = '${threshold}ms'`);
    await sql.unsafe(`alter database "${database}" set auto_explain.log_analyze = on`);
    await sql.unsafe(`alter database "${database}" set auto_explain.log_buffers = on`);
    await sql.unsafe(`alter database "${database}" set auto_explain.log_timing = on`);
    // The statements inside functions too: search's matching runs in one (migration 0014).
    await sql.unsafe(`alter database "${database}" set auto_explain.log_nested_statements = on`);
  }
});
const logStart = statSync(logFile).size;
try {
  const system = await startScaleSystemPatiently(prefix);
  try {
    const login = async (email: string) => (await system.client.login(email, PASSWORD)).access_token;
    const admin = await login("admin0@alpha.scale.example");
    const engineer = await login("engineer0@alpha.scale.example");
    const technician = await login("tech0@alpha.scale.example");
    const busiest = treeIdOf(record.plan.busiest);
    const to = new Date(record.plan.end - 30 * 86_400_000);
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const requests: Array<[string, string, string, string]> = [
      ["search", "GET", "/api/v1/trees/search?q=printer%20po&limit=20", technician],
      ["tree list, page 1", "GET", "/api/v1/trees?limit=50", admin],
      ["sessions, all, page 1", "GET", "/api/v1/sessions?all=true&limit=50", admin],
      ["technician's own sessions", "GET", "/api/v1/sessions?limit=50", technician],
      ["technician's own sessions, again", "GET", "/api/v1/sessions?limit=50", technician],
      ["sessions by tree", "GET", `/api/v1/sessions?all=true&tree_id=${busiest}&limit=50`, admin],
      ["sessions by outcome", "GET", "/api/v1/sessions?all=true&outcome=escalated&limit=50", admin],
      [
        "sessions by time range",
        "GET",
        `/api/v1/sessions?all=true&from=${from.toISOString()}&to=${to.toISOString()}&limit=50`,
        admin,
      ],
      ["analytics of the busiest tree", "GET", `/api/v1/trees/${busiest}/analytics`, engineer],
      ["report, JSON", "POST", `/api/v1/sessions/${sessionIdOf(0)}/export?format=json`, engineer],
      ["report, PDF", "POST", `/api/v1/sessions/${sessionIdOf(0)}/export?format=pdf`, engineer],
    ];
    for (const [name, method, path, token] of requests) {
      const t0 = performance.now();
      const answer = await fetch(`${system.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      const body = await answer.arrayBuffer();
      console.log(
        `${name}: ${answer.status}, ${(performance.now() - t0).toFixed(0)} ms, ${body.byteLength.toLocaleString("en")} bytes`,
      );
    }
    // A request past the gateway's deadline leaves its statements running: their plans come when they end.
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const [busy] = await serverSql(
        (sql) => sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = any(${explained}) and state = 'active' and pid <> pg_backend_pid()`,
      );
      if (!busy?.n) break;
      await new Promise((wake) => setTimeout(wake, 2000));
    }
  } finally {
    await system.stop();
  }
} finally {
  await serverSql(async (sql) => {
    for (const database of explained) await sql.unsafe(`alter database "${database}" reset all`);
  });
}
// The plans auto_explain logged since the start, each with its statement's first line.
const log = readFileSync(logFile, "utf8").slice(logStart);
const plans = log.split(/\n(?=\S)/).filter((entry) => entry.includes("LOG:  duration:") && entry.includes("plan:"));
console.log(`\n${plans.length} statements over ${threshold} ms:\n`);
for (const plan of plans) console.log(`${plan.trim()}\n`);
