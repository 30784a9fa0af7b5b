/**
 * Measures the analytics rebuild (issue 31) on one stream: events per second and the peak
 * resident memory of the process that rebuilds, for the CLI as built (dist/cli.js) and for any
 * other implementation of `rebuildAnalytics(sql, nc, log)` given as a module path (the code of
 * before, say), each in a process of its own on the same data. Run by hand:
 *   npx tsx services/trees/test/support/rebuild-bench.ts 200000 [module.ts …]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connectNats, type Logger } from "@tdt/kit";
import { startPrivateNats } from "@tdt/test-support/nats";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres from "postgres";
import {
  CLI,
  cliEnv,
  generateSessions,
  handledCount,
  liveConsumer,
  publishEvents,
  sessionStream,
  treesDatabase,
} from "./session-stream.js";

/** The peak resident memory of a running process (VmHWM), in MB, sampled until it ends. */
function watchPeak(pid: number) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) peak = Math.max(peak, Number(match[1]) / 1024);
    } catch {
      // ended
    }
  }, 100);
  return () => {
    clearInterval(timer);
    return Math.round(peak);
  };
}

async function child(modulePath: string) {
  const sql = postgres(process.env.TREES_DATABASE_URL as string, { max: 2, onnotice: () => {} });
  const nc = await connectNats(
    {
      natsUrl: process.env.NATS_URL as string,
      natsCredentials: { user: process.env.NATS_USER as string, password: process.env.NATS_PASSWORD as string },
    },
    "bench",
    testLogger(),
  );
  const { rebuildAnalytics } = (await import(modulePath)) as {
    rebuildAnalytics(sql: unknown, nc: unknown, log: Logger): Promise<unknown>;
  };
  const started = Date.now();
  const result = await rebuildAnalytics(sql, nc, testLogger());
  const ms = Date.now() - started;
  console.log(JSON.stringify({ ms, result, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
  await nc.close();
  await sql.end();
}

async function main() {
  const [count = "200000", ...modules] = process.argv.slice(2);
  const nats = await startPrivateNats();
  const database = await treesDatabase("rebuild_bench");
  try {
    const sessions = await sessionStream(nats);
    const { events } = generateSessions(Number(count));
    let started = Date.now();
    await publishEvents(sessions, events);
    console.log(`published ${events.length} events in ${Date.now() - started} ms`);
    if (process.env.BENCH_LIVE) {
      started = Date.now();
      const stop = await liveConsumer(nats, database.app);
      const unique = new Set(events.map(({ item }) => item.event.event_id)).size;
      while ((await handledCount(database.owner)) < unique) await new Promise((wake) => setTimeout(wake, 200));
      const ms = Date.now() - started;
      console.log(`live consumer: ${unique} events in ${ms} ms, ${Math.round((unique * 1000) / ms)} events/s`);
      await stop();
    }
    for (const modulePath of modules) {
      const spawned = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--child", modulePath], {
        env: cliEnv(database, nats),
        stdio: ["ignore", "pipe", "inherit"],
      });
      const peak = watchPeak(spawned.pid as number);
      let output = "";
      spawned.stdout.on("data", (chunk) => {
        output += chunk;
      });
      await new Promise((done) => spawned.on("exit", done));
      const { ms } = JSON.parse(output) as { ms: number };
      console.log(
        `${modulePath}: ${events.length} events in ${ms} ms, ${Math.round((events.length * 1000) / ms)} events/s, ` +
          `peak rss ${peak()} MB (${output.trim()})`,
      );
    }
    const spawned = spawn(process.execPath, [CLI, "rebuild-analytics"], {
      // BENCH_CLI_NODE_OPTIONS: the CLI's own, e.g. a smaller heap, to see what it needs.
      env: cliEnv(database, nats, {
        REBUILD_PROGRESS_SECONDS: "2",
        NODE_OPTIONS: process.env.BENCH_CLI_NODE_OPTIONS ?? "",
      }),
      stdio: ["ignore", "inherit", "inherit"],
    });
    const peak = watchPeak(spawned.pid as number);
    started = Date.now();
    await new Promise((done) => spawned.on("exit", done));
    const ms = Date.now() - started;
    console.log(
      `cli: ${events.length} events in ${ms} ms (process), ${Math.round((events.length * 1000) / ms)} events/s, peak rss ${peak()} MB`,
    );
    await sessions.close();
  } finally {
    await database.drop();
    await nats.dispose();
  }
}

if (process.argv[2] === "--child") await child(process.argv[3] as string);
else await main();
