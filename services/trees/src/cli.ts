/**
 * Operator commands against the trees database and NATS (same configuration as the service):
 *   node dist/cli.js rebuild-analytics
 * rebuilds the analytics projection from the whole SESSION_EVENTS stream while the service runs
 * (src/analytics.ts). Exit codes: 0 done, 1 failed, 2 usage.
 */
import {
  connectDatabase,
  connectNats,
  createLogger,
  env,
  loadConfig,
  migrate,
  OUTBOX_MIGRATIONS,
  shared,
} from "@tdt/kit";
import { rebuildAnalytics } from "./analytics.js";

const config = loadConfig({
  databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
  ownDatabaseUrl: env.optional("TREES_DATABASE_URL"),
  natsUrl: shared.natsUrl,
  natsCredentials: shared.natsCredentials,
});
const log = createLogger("trees-cli", process.env.LOG_LEVEL ?? "warn");
const command = process.argv[2];

if (command !== "rebuild-analytics") {
  console.error("usage: cli.js rebuild-analytics");
  process.exit(2);
}

const sql = await connectDatabase({
  serverUrl: config.databaseUrl,
  explicitUrl: config.ownDatabaseUrl,
  database: "tdt_trees",
  log,
  max: 2,
});
await migrate(sql, new URL("../migrations", import.meta.url).pathname, log, OUTBOX_MIGRATIONS);
try {
  const nc = await connectNats(config, "trees-cli", log);
  try {
    const applied = await rebuildAnalytics(sql, nc, log);
    console.log(`analytics rebuilt from ${applied} session events`);
  } finally {
    await nc.close();
  }
} catch (error) {
  console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}
