/**
 * Operator commands against the trees database and NATS (same configuration as the service):
 *   node dist/cli.js rebuild-analytics
 * rebuilds the analytics projection from the whole SESSION_EVENTS stream while the service runs
 * (src/analytics.ts): in batches, in bounded memory, while the service's consumer keeps applying
 * new events. Meanwhile the analytics grow back from zero. It prints its progress on stderr (how
 * many events of how many, the rate, the resident memory) every REBUILD_PROGRESS_SECONDS (5) and
 * at the end, and one line on stdout when done; REBUILD_BATCH_SIZE events per transaction (2000).
 * Exit codes: 0 done, 1 failed, 2 usage.
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
import { REBUILD_BATCH_SIZE, type RebuildProgress, rebuildAnalytics } from "./analytics.js";

const config = loadConfig({
  databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
  ownDatabaseUrl: env.optional("TREES_DATABASE_URL"),
  natsUrl: shared.natsUrl,
  natsCredentials: shared.natsCredentials,
  // How often the rebuild says how far it is (0: after every batch), and its events per transaction.
  progressSeconds: env.int("REBUILD_PROGRESS_SECONDS", 5, 0, 3600),
  batchSize: env.int("REBUILD_BATCH_SIZE", REBUILD_BATCH_SIZE, 1, 50_000),
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
    let lastReport = 0;
    const done = await rebuildAnalytics(sql, nc, log, {
      batchSize: config.batchSize,
      onProgress: (progress) => {
        // The last batch's line would say what the closing line says, a moment before it.
        if (progress.done || progress.read >= progress.total) return;
        if (Date.now() - lastReport < config.progressSeconds * 1000) return;
        lastReport = Date.now();
        console.error(progressLine(progress));
      },
    });
    console.error(progressLine(done));
    console.log(`analytics rebuilt from ${done.applied} session events`);
  } finally {
    await nc.close();
  }
} catch (error) {
  console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}

/** One line of progress: events read of those due, events applied, the rate, the process's memory. */
function progressLine(progress: RebuildProgress): string {
  const seconds = progress.elapsedMs / 1000;
  const rate = Math.round(progress.read / Math.max(seconds, 0.001));
  const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
  const memory = progress.done
    ? `peak rss ${mb(process.resourceUsage().maxRSS * 1024)}`
    : `rss ${mb(process.memoryUsage.rss())}`;
  const share = progress.total > 0 ? ` (${Math.floor((100 * progress.read) / progress.total)} %)` : "";
  return [
    `rebuild-analytics: ${progress.done ? "done, " : ""}${progress.read} of ${progress.total} events read${share}`,
    `${progress.applied} applied`,
    `${rate} events/s`,
    `${seconds.toFixed(1)} s`,
    memory,
  ].join(", ");
}
