/**
 * Issue 31: `rebuild-analytics` streams the SESSION_EVENTS stream in batches, in bounded memory,
 * while the live consumer keeps applying new events. Each test has its own database and its own
 * NATS (so its own stream), and runs the CLI as built (dist/cli.js) as the operator would, with
 * the trees service's NATS user. The projection a rebuild comes to is checked row by row against
 * what the events say (`expectedProjection`) and against what the live consumer alone made.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { AckPolicy, DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connectNats, type NatsConnection } from "@tdt/kit";
import { SESSION_EVENTS } from "@tdt/proto/contracts/session-events";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterEach, describe, expect, it } from "vitest";
import { ANALYTICS_CONSUMER, readAnalytics } from "../src/analytics.js";
import {
  CLI,
  cliEnv,
  digestOf,
  expectedProjection,
  expectSameProjection,
  type GeneratedStream,
  generateSessions,
  handledCount,
  liveConsumer,
  type Projection,
  projection,
  projectionDigest,
  publishEvents,
  sessionStream,
  type TreesDatabase,
  treesDatabase,
} from "./support/session-stream.js";

/** What a test started, stopped after it whatever happened. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

interface Setup {
  nats: PrivateNats;
  database: TreesDatabase;
  /** As sessions, the stream's owner and publisher. */
  sessions: NatsConnection;
}

async function setup(label: string): Promise<Setup> {
  const nats = await startPrivateNats();
  cleanups.push(() => nats.dispose());
  const database = await treesDatabase(label);
  cleanups.push(() => database.drop());
  const sessions = await sessionStream(nats);
  cleanups.push(() => sessions.close());
  return { nats, database, sessions };
}

/**
 * Makes the durable consumer `trees-analytics` start after what the stream holds now, as the
 * consumer of a service that has kept up (it had applied all of it before the rebuild started).
 */
async function liveConsumerUpToDate(nats: PrivateNats) {
  const nc = await connectNats(nats.as("trees"), "test-position", testLogger());
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(SESSION_EVENTS.stream, {
      durable_name: ANALYTICS_CONSUMER,
      filter_subject: SESSION_EVENTS.subjects,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: 30 * 1e9,
    });
  } finally {
    await nc.close();
  }
}

interface Rebuild {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The exit code, once it exited. */
  exited: Promise<number | null>;
  /** The highest VmHWM (peak resident memory) seen in /proc while it ran, in MB. */
  peakMb: () => number;
}

/** `node dist/cli.js rebuild-analytics` against the test's database and NATS. */
function rebuild({ database, nats }: Setup, env: NodeJS.ProcessEnv = {}): Rebuild {
  const child = spawn(process.execPath, [CLI, "rebuild-analytics"], {
    env: cliEnv(database, nats, { REBUILD_PROGRESS_SECONDS: "0", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  let peak = 0;
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (match) peak = Math.max(peak, Number(match[1]) / 1024);
    } catch {
      // It ended.
    }
  };
  const sampler = setInterval(sample, 100);
  const exited = new Promise<number | null>((done) =>
    child.on("exit", (code) => {
      clearInterval(sampler);
      done(code);
    }),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited, peakMb: () => peak };
}

/** The projection in `database` is `expected`: by digest, and row by row when they differ. */
async function expectProjection(database: TreesDatabase, expected: Projection) {
  const digest = await projectionDigest(database.owner);
  if (JSON.stringify(digest) !== JSON.stringify(digestOf(expected)))
    expectSameProjection(await projection(database.owner), expected);
  expect(digest).toEqual(digestOf(expected));
}

/**
 * The events of the first test: 150,000 keep it within a minute on a busy 2-core machine (about
 * half of that on a quiet one); REBUILD_TEST_EVENTS=200000 (or 1000000) for more.
 */
const MANY = Number(process.env.REBUILD_TEST_EVENTS ?? 150_000);

const uniqueIds = (events: GeneratedStream["events"]) => new Set(events.map(({ item }) => item.event.event_id)).size;

/** The progress lines the CLI wrote: events read, of how many, applied. */
const progressOf = (stderr: string) =>
  [
    ...stderr.matchAll(/rebuild-analytics: (done, )?(\d+) of (\d+) events read .*?, (\d+) applied, (\d+) events\/s/g),
  ].map((match) => ({
    done: Boolean(match[1]),
    read: Number(match[2]),
    total: Number(match[3]),
    applied: Number(match[4]),
  }));

describe("rebuild-analytics", () => {
  it("streams many events in batches, with progress, in under 256 MB, to the projection the events make", async () => {
    const running = await setup("rebuild_many");
    const { events } = generateSessions(MANY);
    await publishEvents(running.sessions, events);

    const started = Date.now();
    const cli = rebuild(running, { REBUILD_PROGRESS_SECONDS: "2" });
    // Worked out while the rebuild runs (a process of its own).
    const expected = digestOf(expectedProjection(events));
    expect(await cli.exited, cli.stderr()).toBe(0);
    const seconds = (Date.now() - started) / 1000;

    const unique = uniqueIds(events);
    expect(cli.stdout().trim()).toBe(`analytics rebuilt from ${unique} session events`);
    // Progress while it ran, then the total; the memory of the whole run, as the process saw it and as /proc did.
    const progress = progressOf(cli.stderr());
    expect(progress.length, cli.stderr()).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toEqual({ done: true, read: events.length, total: events.length, applied: unique });
    expect(progress.slice(0, -1).every((line) => !line.done && line.read < events.length)).toBe(true);
    const reported = Number(/peak rss (\d+) MB/.exec(cli.stderr())?.[1]);
    expect(reported).toBeLessThan(256);
    expect(cli.peakMb()).toBeGreaterThan(0);
    expect(cli.peakMb()).toBeLessThan(256);
    console.info(
      `rebuild of ${events.length} events: ${seconds.toFixed(1)} s (${Math.round(events.length / seconds)} events/s ` +
        `with the process's start), peak rss ${Math.round(cli.peakMb())} MB`,
    );

    const digest = await projectionDigest(running.database.owner);
    if (JSON.stringify(digest) !== JSON.stringify(expected))
      expectSameProjection(await projection(running.database.owner), expectedProjection(events));
    expect(digest).toEqual(expected);
  }, 120_000);

  it("comes to what the live consumer alone made: the same rows, the same answers", async () => {
    const running = await setup("rebuild_same");
    const { events, trees } = generateSessions(1_500, 7);
    const stop = await liveConsumer(running.nats, running.database.app);
    cleanups.push(stop);
    await publishEvents(running.sessions, events);
    const unique = uniqueIds(events);
    await expect.poll(() => handledCount(running.database.owner), { timeout: 45_000, interval: 200 }).toBe(unique);
    const answers = async () =>
      Promise.all(trees.map(({ id }) => readAnalytics(running.database.owner, { treeId: id })));
    const live = await projection(running.database.owner);
    const liveAnswers = await answers();
    expectSameProjection(live, expectedProjection(events));

    const cli = rebuild(running, { REBUILD_BATCH_SIZE: "100" });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout().trim()).toBe(`analytics rebuilt from ${unique} session events`);
    expect(await projection(running.database.owner)).toEqual(live);
    expect(await answers()).toEqual(liveAnswers);
    expect(liveAnswers.some((answer) => answer.sessions?.started && answer.paths.length > 0)).toBe(true);
  }, 90_000);

  it("has the live consumer catch up on a backlog in batches, to the projection the events make", async () => {
    // The same 3,000 events waiting for a consumer that was away, applied one by one (as before
    // batches) and in batches, each into its own database: the same projection, and the time of
    // each for the record (docs/decisions/scale.md), not judged here.
    const { events } = generateSessions(3_000, 13);
    const expected = digestOf(expectedProjection(events));
    const seconds: Record<string, number> = {};
    for (const [label, oneByOne] of [
      ["one by one", true],
      ["in batches", false],
    ] as const) {
      const running = await setup(`catch_up_${oneByOne ? "single" : "batch"}`);
      await publishEvents(running.sessions, events);
      const started = performance.now();
      cleanups.push(await liveConsumer(running.nats, running.database.app, { oneByOne }));
      await expect
        .poll(() => handledCount(running.database.owner), { timeout: 90_000, interval: 100 })
        .toBe(uniqueIds(events));
      seconds[label] = (performance.now() - started) / 1000;
      expect(await projectionDigest(running.database.owner)).toEqual(expected);
    }
    console.log(
      `catching up on ${events.length} events: ${Object.entries(seconds)
        .map(([label, s]) => `${label} ${s.toFixed(1)} s`)
        .join(", ")}`,
    );
  }, 240_000);

  it("lets the live consumer apply new events while it runs, each counted once", async () => {
    const running = await setup("rebuild_live");
    const { events } = generateSessions(60_000, 11);
    await publishEvents(running.sessions, events);
    await liveConsumerUpToDate(running.nats);
    const stop = await liveConsumer(running.nats, running.database.app);
    cleanups.push(stop);

    const cli = rebuild(running, { REBUILD_BATCH_SIZE: "1000" });
    let ended = false;
    void cli.exited.then(() => {
      ended = true;
    });
    // Once it has applied its first batch, the rebuild has read the last sequence it goes to.
    await expect.poll(() => progressOf(cli.stderr()).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
    const later = generateSessions(300, 12, Date.UTC(2026, 11, 1)).events;
    await publishEvents(running.sessions, later);
    const laterIds = [...new Set(later.map(({ item }) => item.event.event_id))];
    const appliedOf = async () =>
      (
        await running.database.owner<{ n: number }[]>`
          select count(*)::int as n from analytics_handled_events where event_id = any(${laterIds}::uuid[])`
      )[0]?.n;
    // All of them in the projection, the rebuild still running.
    await expect.poll(appliedOf, { timeout: 30_000, interval: 50 }).toBe(laterIds.length);
    const before = await handledCount(running.database.owner);
    expect(ended).toBe(false);
    expect(before).toBeLessThan(uniqueIds(events) + laterIds.length);

    expect(await cli.exited, cli.stderr()).toBe(0);
    // The rebuild applied the events up to where it started, the live consumer those after.
    expect(cli.stdout().trim()).toBe(`analytics rebuilt from ${uniqueIds(events)} session events`);
    expect(progressOf(cli.stderr()).at(-1)).toMatchObject({ done: true, read: events.length, total: events.length });
    await expectProjection(running.database, expectedProjection([...events, ...later]));
  }, 90_000);

  it("killed midway, ends right when run again, the live consumer's events meanwhile included", async () => {
    const running = await setup("rebuild_killed");
    const { events } = generateSessions(60_000, 13);
    await publishEvents(running.sessions, events);
    await liveConsumerUpToDate(running.nats);
    const stop = await liveConsumer(running.nats, running.database.app);
    cleanups.push(stop);
    const unique = uniqueIds(events);

    const first = rebuild(running, { REBUILD_BATCH_SIZE: "1000" });
    await expect
      .poll(() => handledCount(running.database.owner), { timeout: 30_000, interval: 20 })
      .toBeGreaterThan(5_000);
    first.process.kill("SIGKILL");
    await first.exited;
    const partial = await handledCount(running.database.owner);
    expect(partial).toBeLessThan(unique);

    // Events after the kill: the live consumer's, and on the stream before the next run.
    const later = generateSessions(200, 14, Date.UTC(2026, 11, 1)).events;
    await publishEvents(running.sessions, later);
    await expect.poll(() => handledCount(running.database.owner), { timeout: 30_000 }).toBe(partial + uniqueIds(later));

    const again = rebuild(running);
    expect(await again.exited, again.stderr()).toBe(0);
    // It applied everything again, the events of the live consumer too (its truncation removed them).
    expect(again.stdout().trim()).toBe(`analytics rebuilt from ${unique + uniqueIds(later)} session events`);
    await expectProjection(running.database, expectedProjection([...events, ...later]));
  }, 90_000);
});
