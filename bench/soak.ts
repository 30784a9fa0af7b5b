/**
 * The soak of issue 31: "a one-hour soak at a steady mixed load: every process's memory flat (no
 * growth beyond 10 % after warm-up), p99 steady." The whole system once (startSystemWithAdmin:
 * private NATS, fresh databases, every service a real process), a modest corpus (40 trees by an
 * engineer, 6 technicians), then an open-loop load at a fixed rate through the gateway: requests
 * are sent on a clock, never waiting for the one before, so the machine is not saturated and the
 * latencies mean something. The mix: tree reads, tree list pages, never-repeated searches, session
 * starts and steps to completion, session list pages, JSON reports, token refreshes and an
 * occasional tree edit. Every 10 s it reads each process's memory from /proc (VmRSS and RssAnon
 * of the five services and this system's nats-server, and of its databases' Postgres backends),
 * and it keeps every latency by minute. It prints the memory of each process after warm-up, the
 * p99 of each minute, the requests and failures, writes the samples as JSON under /tmp, and exits
 * non-zero when a service or NATS grew past 10 % after warm-up, a service exited, or a request
 * failed with a 5xx or a network error.
 *
 * Never run in CI (an hour long; only by hand, on a quiet machine):
 *   npm run bench:soak                                         (60 minutes, the first 5 warm-up)
 *   npx tsx bench/soak.ts --minutes 3 --warmup-minutes 1        (a short look; dist already built)
 *   --rate 40   requests per second, all kinds together
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { postgresBackendsOf, processesNamed } from "./cpu.js";
import { percentile, printTable } from "./measure.js";
import { loadCorpus, WORDS } from "./tree-corpus.js";

const { values: flags } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    "warmup-minutes": { type: "string", default: "5" },
    rate: { type: "string", default: "40" },
  },
});
const minutes = Number(flags.minutes);
const warmupMinutes = Number(flags["warmup-minutes"]);
const rate = Number(flags.rate);
if (!(minutes > 0) || !(warmupMinutes >= 0) || warmupMinutes >= minutes || !(rate > 0 && rate <= 500)) {
  console.error("usage: tsx bench/soak.ts [--minutes 60] [--warmup-minutes 5] [--rate 40] (warm-up < minutes)");
  process.exit(2);
}

const TREES = 40;
const TECHNICIANS = 6;
/** Sessions in progress at most; a start past them takes a step instead. */
const WALKS = 12;
/** Completed sessions kept for report reads. */
const REPORTS = 100;
const SAMPLE_SECONDS = 10;
/** Requests in flight at most; past them the clock's request is skipped (and counted): the system has stalled. */
const MAX_IN_FLIGHT = 400;
/** The growth after warm-up a process may show (issue 31). */
const GROWTH_LIMIT = 10;
const PARTS = ["power", "cable", "driver", "firmware", "fan", "port", "adapter", "update", "password", "signal"];

/** The mix, in parts of 100 of the requests. */
const MIX = {
  "tree read": 25,
  "tree list page": 10,
  search: 12,
  "session start": 6,
  "session step": 25,
  "session list page": 8,
  "report json": 6,
  refresh: 7,
  "tree edit": 1,
} as const;
type Kind = keyof typeof MIX;
/** What is counted: each kind, and a session's completion (sent by a step at a solution). */
type Op = Kind | "session complete";

/** A small seeded generator (mulberry32): the same run of choices every time. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const kinds = Object.entries(MIX) as Array<[Kind, number]>;
const totalWeight = kinds.reduce((sum, [, weight]) => sum + weight, 0);
function nextKind(): Kind {
  let roll = random() * totalWeight;
  for (const [kind, weight] of kinds) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return "tree read";
}

/** A process's memory from /proc/<pid>/status, in KiB, or undefined once it is gone. */
function memoryOf(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: field("VmRSS"), anon: field("RssAnon") };
  } catch {
    return undefined;
  }
}

/** The `cursor` of a list answer's `Link: <…>; rel="next"`, or undefined at the last page. */
function nextCursor(headers: Headers): string | undefined {
  const next = headers
    .get("link")
    ?.split(",")
    .find((part) => /rel="?next"?/.test(part));
  const url = next?.match(/<([^>]*)>/)?.[1];
  return url ? (new URL(url, "http://x").searchParams.get("cursor") ?? undefined) : undefined;
}

const { system, client, admin, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
let stopped = false;
const stopSystem = async () => {
  if (stopped) return;
  stopped = true;
  await stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the services`);
    void stopSystem()
      .catch(() => {})
      .finally(() => process.exit(130));
  });
}

interface Actor {
  name: string;
  access: string;
  refresh: string;
  refreshing: boolean;
  /** Where this actor's next session list page starts (undefined: the first page). */
  sessionsCursor?: string | undefined;
}
interface NodeLike {
  id: string;
  type: string;
  options?: Array<{ id: string }>;
}
interface Walk {
  id: string;
  owner: Actor;
  node: NodeLike;
  busy: boolean;
}

const base = `${system.url}/api/v1`;
const counts = new Map<string, number>();
const latencies = new Map<Op, number[]>();
const byMinute: number[][] = [];
const failuresByMinute: number[] = [];
const otherByMinute: number[] = [];
const lateByMinute: number[] = [];
const loadByMinute: number[] = [];
const networkErrors: string[] = [];
let loadStarted = 0;
const minuteNow = () => Math.floor((performance.now() - loadStarted) / 60_000);

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}
/** One request through the gateway, its status counted and its time (to the body's last byte) kept by minute. */
async function send(
  op: Op,
  method: string,
  path: string,
  token: string | undefined,
  json?: unknown,
): Promise<Answer | undefined> {
  const t0 = performance.now();
  const minute = minuteNow();
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(json !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
    const text = await response.text();
    const ms = performance.now() - t0;
    const key = `${op} ${response.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (loadStarted > 0) {
      if (!byMinute[minute]) byMinute[minute] = [];
      byMinute[minute]?.push(ms);
      if (!latencies.has(op)) latencies.set(op, []);
      latencies.get(op)?.push(ms);
      if (response.status >= 500) failuresByMinute[minute] = (failuresByMinute[minute] ?? 0) + 1;
      else if (response.status >= 300) otherByMinute[minute] = (otherByMinute[minute] ?? 0) + 1;
    }
    if (response.status >= 300 && (counts.get(key) ?? 0) <= 3)
      console.warn(`[soak] ${op}: ${method} ${path} answered ${response.status} ${text.slice(0, 300)}`);
    return { status: response.status, text, headers: response.headers };
  } catch (error) {
    const key = `${op} network error`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    failuresByMinute[minute] = (failuresByMinute[minute] ?? 0) + 1;
    if (networkErrors.length < 20) networkErrors.push(`${op} ${method} ${path}: ${String(error)}`);
    return undefined;
  }
}

// The corpus: an engineer (with a refresh token of their own) makes the trees; technicians sign up.
console.log(`[soak] system up at ${system.url}; seeding ${TREES} trees, ${TECHNICIANS} technicians, an engineer`);
const engineerAccount = await client.register(client.uniqueEmail("engineer"));
const promoted = await client.call("PATCH", `/api/v1/auth/users/${engineerAccount.id}`, {
  token: admin,
  json: { role: "engineer" },
});
if (promoted.status !== 200) throw new Error(`promotion failed: ${promoted.status}`);
const engineerTokens = await client.login(engineerAccount.email, engineerAccount.password);
const engineer: Actor = {
  name: "engineer",
  access: engineerTokens.access_token,
  refresh: engineerTokens.refresh_token,
  refreshing: false,
};
const { ids } = await loadCorpus(client, engineer.access, TREES);
const trees = await Promise.all(
  ids.map(async (id) => {
    const read = await client.call<{
      title: string;
      description: string;
      category: string;
      tags: string[];
      version: number;
    }>("GET", `/api/v1/trees/${id}`, { token: engineer.access });
    if (read.status !== 200) throw new Error(`tree ${id}: ${read.status}`);
    return { id, ...read.body, editing: false, edits: 0 };
  }),
);
const technicians: Actor[] = [];
for (let i = 0; i < TECHNICIANS; i++) {
  const { tokens } = await client.user(`technician${i}`);
  technicians.push({
    name: `technician${i}`,
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    refreshing: false,
  });
}
const everyone = [...technicians, engineer];

// The state the load walks through.
let turn = 0;
const technician = () => technicians[turn++ % technicians.length] as Actor;
const walks: Walk[] = [];
const completed: Array<{ id: string; owner: Actor }> = [];
let searches = 0;
let treesCursor: string | undefined;
let refreshTurn = 0;
let editTurn = 0;
let stepOption = 0;

async function startSession(): Promise<void> {
  const owner = technician();
  const tree = pick(trees);
  const answer = await send("session start", "POST", "/sessions", owner.access, { tree_id: tree.id });
  if (answer?.status !== 201) return;
  const session = JSON.parse(answer.text) as { id: string; current_node: NodeLike };
  walks.push({ id: session.id, owner, node: session.current_node, busy: false });
}

async function step(walk: Walk): Promise<void> {
  walk.busy = true;
  try {
    if (walk.node.type === "solution") {
      const answer = await send("session complete", "POST", `/sessions/${walk.id}/complete`, walk.owner.access);
      walks.splice(walks.indexOf(walk), 1);
      if (answer?.status === 200) {
        completed.push({ id: walk.id, owner: walk.owner });
        if (completed.length > REPORTS) completed.shift();
      }
      return;
    }
    const operation =
      walk.node.type === "question"
        ? {
            op: "answer",
            node_id: walk.node.id,
            option_id: (walk.node.options?.[stepOption++ % (walk.node.options?.length ?? 1)] ?? { id: "" }).id,
            note: "soak",
          }
        : { op: "continue", node_id: walk.node.id };
    const answer = await send("session step", "PUT", `/sessions/${walk.id}`, walk.owner.access, operation);
    if (answer?.status === 200) walk.node = (JSON.parse(answer.text) as { current_node: NodeLike }).current_node;
    else walks.splice(walks.indexOf(walk), 1); // lost track of it: let it be
  } finally {
    walk.busy = false;
  }
}

async function dispatch(kind: Kind): Promise<void> {
  switch (kind) {
    case "tree read":
      await send(kind, "GET", `/trees/${pick(trees).id}`, technician().access);
      return;
    case "tree list page": {
      const answer = await send(
        kind,
        "GET",
        `/trees?limit=20${treesCursor ? `&cursor=${encodeURIComponent(treesCursor)}` : ""}`,
        technician().access,
      );
      treesCursor = answer?.status === 200 ? nextCursor(answer.headers) : undefined;
      return;
    }
    case "search": {
      // Never repeated in the run (44,000 of them): word, a prefix of 2 to 5 letters of a part, a page size.
      const n = searches++;
      const part = PARTS[Math.floor(n / WORDS.length) % PARTS.length] as string;
      const q = `${WORDS[n % WORDS.length]} ${part.slice(0, 2 + (Math.floor(n / 110) % 4))}`;
      const limit = 1 + (Math.floor(n / 440) % 100);
      await send(kind, "GET", `/trees/search?q=${encodeURIComponent(q)}&limit=${limit}`, technician().access);
      return;
    }
    case "session start": {
      const idle = walks.find((walk) => !walk.busy);
      if (walks.length >= WALKS && idle) return step(idle);
      return startSession();
    }
    case "session step": {
      const idle = walks.filter((walk) => !walk.busy);
      if (idle.length === 0) return startSession();
      return step(pick(idle));
    }
    case "session list page": {
      const owner = technician();
      const cursor = owner.sessionsCursor;
      const answer = await send(
        kind,
        "GET",
        `/sessions?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        owner.access,
      );
      owner.sessionsCursor = answer?.status === 200 ? nextCursor(answer.headers) : undefined;
      return;
    }
    case "report json": {
      if (completed.length === 0) return dispatch("tree read");
      const report = pick(completed);
      await send(kind, "POST", `/sessions/${report.id}/export?format=json`, report.owner.access);
      return;
    }
    case "refresh": {
      // Each actor's own chain, one refresh at a time: every refresh spends the token the last one returned.
      const actor = everyone
        .map((_, i) => everyone[(refreshTurn + i) % everyone.length] as Actor)
        .find((a) => !a.refreshing);
      refreshTurn += 1;
      if (!actor) return dispatch("tree read");
      actor.refreshing = true;
      try {
        const answer = await send(kind, "POST", "/auth/refresh", undefined, { refresh_token: actor.refresh });
        if (answer?.status === 200) {
          const pair = JSON.parse(answer.text) as { access_token: string; refresh_token: string };
          actor.access = pair.access_token;
          actor.refresh = pair.refresh_token;
        }
      } finally {
        actor.refreshing = false;
      }
      return;
    }
    case "tree edit": {
      const tree = trees[editTurn++ % trees.length];
      if (!tree || tree.editing) return dispatch("tree read");
      tree.editing = true;
      try {
        tree.edits += 1;
        const body = printerTree({
          title: tree.title,
          description: `${tree.description.replace(/ \(edit \d+\)$/, "")} (edit ${tree.edits})`,
          category: tree.category,
          tags: tree.tags,
          change_note: `Soak edit ${tree.edits}`,
        });
        const answer = await send(kind, "PUT", `/trees/${tree.id}`, engineer.access, {
          ...body,
          version: tree.version,
        });
        if (answer?.status === 200) {
          const saved = JSON.parse(answer.text) as { version: number; description: string };
          tree.version = saved.version;
          tree.description = saved.description;
        }
      } finally {
        tree.editing = false;
      }
      return;
    }
  }
}

// Memory, every SAMPLE_SECONDS: the five services, this system's nats-server, its databases' backends.
const SERVICES = ["gateway", "auth", "trees", "sessions", "hooks"] as const;
const natsPort = new URL(system.nats.url).port;
const natsPid = processesNamed("nats-server").find((pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(natsPort);
  } catch {
    return false;
  }
});
const databaseNames = Object.fromEntries(
  Object.entries(system.databases).map(([service, database]) => [service, database.name]),
);
interface ProcessSample {
  pid: number;
  rss: number;
  anon: number;
}
interface Sample {
  /** Seconds since the load began. */
  t: number;
  processes: Record<string, ProcessSample | null>;
  /** Each database's backends together: how many, and their VmRSS and RssAnon summed (KiB). */
  postgres: Record<string, { backends: number; rss: number; anon: number }>;
}
const samples: Sample[] = [];
const firstPids = new Map<string, number>();
const restarted = new Set<string>();
function sample(): void {
  const processes: Sample["processes"] = {};
  for (const name of SERVICES) {
    const child = system.stack.processes.get(name);
    const pid = child?.exitCode === null ? child.pid : undefined;
    const memory = pid ? memoryOf(pid) : undefined;
    processes[name] = pid && memory ? { pid, ...memory } : null;
    if (!pid || !memory || (firstPids.has(name) && firstPids.get(name) !== pid)) restarted.add(name);
    if (pid && !firstPids.has(name)) firstPids.set(name, pid);
  }
  if (natsPid) {
    const memory = memoryOf(natsPid);
    processes["nats-server"] = memory ? { pid: natsPid, ...memory } : null;
    if (!memory) restarted.add("nats-server");
  }
  const postgres: Sample["postgres"] = {};
  for (const { pid, label } of postgresBackendsOf(databaseNames)) {
    const memory = memoryOf(pid);
    if (!memory) continue;
    const sum = postgres[label] ?? { backends: 0, rss: 0, anon: 0 };
    postgres[label] = sum;
    sum.backends += 1;
    sum.rss += memory.rss;
    sum.anon += memory.anon;
  }
  samples.push({ t: Math.round((performance.now() - loadStarted) / 1000), processes, postgres });
}

// The load: one request every 1/rate s on the clock, whatever the ones before are doing.
const seconds = minutes * 60;
const warmupSeconds = warmupMinutes * 60;
console.log(
  `[soak] ${new Date().toISOString()}: ${rate} requests/s for ${minutes} min (the first ${warmupMinutes} warm-up); ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}`,
);
const startedAt = new Date();
loadStarted = performance.now();
sample();
const sampler = setInterval(sample, SAMPLE_SECONDS * 1000);
const minuteTicker = setInterval(() => {
  const minute = minuteNow() - 1;
  loadByMinute[minute] = loadavg()[0] ?? 0;
  const done = byMinute[minute] ?? [];
  const sorted = [...done].sort((a, b) => a - b);
  const last = samples[samples.length - 1];
  const rss = SERVICES.map((name) => `${name} ${((last?.processes[name]?.rss ?? 0) / 1024).toFixed(0)}`).join(", ");
  console.log(
    `[soak] minute ${minute + 1}/${minutes}: ${done.length} requests, p50 ${percentile(sorted, 50).toFixed(1)} p99 ${percentile(sorted, 99).toFixed(1)} ms, ${failuresByMinute[minute] ?? 0} failed, load ${loadByMinute[minute]?.toFixed(1)}; RSS MiB: ${rss}`,
  );
}, 60_000);
let inFlight = 0;
let sent = 0;
let skipped = 0;
const interval = 1000 / rate;
const end = loadStarted + seconds * 1000;
for (let i = 0; ; i++) {
  const due = loadStarted + i * interval;
  if (due >= end) break;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((wake) => setTimeout(wake, wait));
  const late = performance.now() - due;
  const minute = minuteNow();
  lateByMinute[minute] = Math.max(lateByMinute[minute] ?? 0, late);
  if (inFlight >= MAX_IN_FLIGHT) {
    skipped += 1;
    continue;
  }
  inFlight += 1;
  sent += 1;
  void dispatch(nextKind())
    .catch((error) => {
      if (networkErrors.length < 20) networkErrors.push(`driver: ${String(error)}`);
    })
    .finally(() => {
      inFlight -= 1;
    });
}
const loadSeconds = (performance.now() - loadStarted) / 1000;
clearInterval(sampler);
clearInterval(minuteTicker);
sample();
for (let waited = 0; inFlight > 0 && waited < 30_000; waited += 100) await new Promise((wake) => setTimeout(wake, 100));
const stillInFlight = inFlight;

// What the run showed.
const fmtMiB = (kib: number | undefined) => (kib === undefined ? "—" : (kib / 1024).toFixed(1));
const pct = (value: number) => `${value >= 0 ? "+" : ""}${value.toFixed(1)} %`;
/** The least-squares slope of `points` (t in s, value), per hour. */
function slopePerHour(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanT = points.reduce((s, [t]) => s + t, 0) / n;
  const meanV = points.reduce((s, [, v]) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - meanT) * (v - meanV);
    den += (t - meanT) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}
const atWarmup = samples.find((s) => s.t >= warmupSeconds - 1) ?? samples[0];
const after = samples.filter((s) => s.t >= (atWarmup?.t ?? 0));
const lastSample = samples[samples.length - 1];
/** The median of `value` over `some` samples (those where it is known). */
function medianOf(some: Sample[], value: (s: Sample) => number | undefined): number | undefined {
  const known = some.flatMap((s) => value(s) ?? []).sort((a, b) => a - b);
  return known.length ? known[Math.floor((known.length - 1) / 2)] : undefined;
}
interface Growth {
  process: string;
  judged: boolean;
  start: number | undefined;
  warm: number | undefined;
  max: number | undefined;
  end: number | undefined;
  growth: number;
  slope: number;
}
const growthOf = (process: string, judged: boolean, value: (s: Sample) => number | undefined): Growth => {
  // A process's memory rises and falls with its garbage collections: each end is the median of a minute's samples.
  const warm = medianOf(
    samples.filter((s) => s.t <= (atWarmup?.t ?? 0) && s.t >= (atWarmup?.t ?? 0) - 60),
    value,
  );
  const end = medianOf(
    samples.filter((s) => s.t >= (lastSample?.t ?? 0) - 60),
    value,
  );
  const points = after.flatMap((s) => {
    const v = value(s);
    return v === undefined ? [] : [[s.t, v] as [number, number]];
  });
  const max = points.length ? Math.max(...points.map(([, v]) => v)) : undefined;
  const growth = warm && end !== undefined ? ((end - warm) / warm) * 100 : Number.NaN;
  const slope = warm ? (slopePerHour(points) / warm) * 100 : Number.NaN;
  return { process, judged, start: samples[0] ? value(samples[0]) : undefined, warm, max, end, growth, slope };
};
const growths: Growth[] = [
  ...[...SERVICES, ...(natsPid ? ["nats-server"] : [])].map((name) =>
    growthOf(name, true, (s) => s.processes[name]?.rss),
  ),
  ...Object.keys(lastSample?.postgres ?? {})
    .sort()
    .flatMap((label) => [
      growthOf(`${label}, VmRSS sum`, false, (s) => s.postgres[label]?.rss),
      growthOf(`${label}, RssAnon sum`, false, (s) => s.postgres[label]?.anon),
    ]),
];
const grew = growths.filter((g) => g.judged && !(g.growth <= GROWTH_LIMIT));
printTable(
  `Memory (MiB, VmRSS unless named): at the load's start; over the last minute of the ${warmupMinutes}-min warm-up and over the last minute of the run (the median of the minute's samples); the largest sample after warm-up; the growth from the one to the other, and the least-squares slope of every sample after warm-up`,
  growths.map((g) => ({
    process: g.process,
    start: fmtMiB(g.start),
    "warm-up end": fmtMiB(g.warm),
    "max after": fmtMiB(g.max),
    end: fmtMiB(g.end),
    growth: pct(g.growth),
    "slope %/h": pct(g.slope),
    judged: g.judged ? (g.growth <= GROWTH_LIMIT ? "flat" : "GREW") : "reported only",
  })),
);
const postgresBackends = Object.entries(lastSample?.postgres ?? {})
  .map(([label, sum]) => `${label} ${sum.backends}`)
  .join(", ");
console.log(
  `\nPostgres backends at the end: ${postgresBackends || "none"} (their VmRSS counts the shared buffers they touched, and the pools' connections come and go: reported, not judged)`,
);

const minuteRows = byMinute.map((done, minute) => {
  const sorted = [...(done ?? [])].sort((a, b) => a - b);
  return {
    minute: String(minute + 1),
    requests: String(sorted.length),
    "p50 ms": percentile(sorted, 50),
    "p95 ms": percentile(sorted, 95),
    "p99 ms": percentile(sorted, 99),
    "max ms": sorted[sorted.length - 1] ?? Number.NaN,
    "5xx/net": String(failuresByMinute[minute] ?? 0),
    "other non-2xx": String(otherByMinute[minute] ?? 0),
    "driver late ms": lateByMinute[minute] ?? 0,
    load1: loadByMinute[minute] ?? loadavg()[0] ?? 0,
  };
});
printTable("Latency by minute (every request of the mix, to its body's last byte)", minuteRows);
const steadyP99 = minuteRows
  .slice(warmupMinutes)
  .filter((row) => Number(row.requests) > rate * 30) // whole minutes only
  .map((row) => row["p99 ms"]);
const p99Max = Math.max(...steadyP99);
const p99Min = Math.min(...steadyP99);
console.log(
  `\np99 per minute after warm-up (${steadyP99.length} minutes): min ${p99Min.toFixed(1)} ms, max ${p99Max.toFixed(1)} ms, max/min ${(p99Max / p99Min).toFixed(2)}`,
);

const failedRequests = [...counts].filter(([key]) => / (5\d\d|network error)$/.test(key));
const failures = failedRequests.reduce((sum, [, count]) => sum + count, 0);
printTable(
  "Requests by kind (after the seeding): count, latency, statuses",
  [...latencies.keys()].sort().map((op) => {
    const sorted = [...(latencies.get(op) ?? [])].sort((a, b) => a - b);
    const statuses = [...counts]
      .filter(([key]) => key.startsWith(`${op} `))
      .map(([key, count]) => `${key.slice(op.length + 1)}: ${count}`)
      .join(", ");
    return {
      request: op,
      count: String(sorted.length),
      "p50 ms": percentile(sorted, 50),
      "p99 ms": percentile(sorted, 99),
      statuses,
    };
  }),
);
const answered = byMinute.reduce((sum, done) => sum + (done?.length ?? 0), 0);
console.log(
  `\n${sent} requests sent in ${loadSeconds.toFixed(0)} s (${(sent / loadSeconds).toFixed(1)}/s; a session step at a solution sends its completion instead), ${answered} answered, ${failures} failed with a 5xx or a network error, ${skipped} skipped (over ${MAX_IN_FLIGHT} in flight), ${stillInFlight} still in flight at the end`,
);
for (const error of networkErrors) console.log(`  ${error}`);
if (restarted.size > 0) console.log(`processes that exited or changed pid: ${[...restarted].join(", ")}`);

const file = `/tmp/tdt-soak-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(
  file,
  JSON.stringify(
    {
      started_at: startedAt.toISOString(),
      minutes,
      warmup_minutes: warmupMinutes,
      rate,
      mix: MIX,
      corpus: { trees: TREES, technicians: TECHNICIANS, engineers: 1 },
      sample_seconds: SAMPLE_SECONDS,
      samples,
      minutes_table: minuteRows,
      growth: growths,
      counts: Object.fromEntries(counts),
      sent,
      skipped,
      network_errors: networkErrors,
      restarted: [...restarted],
    },
    null,
    1,
  ),
);
console.log(`\nsamples written to ${file}`);

let stopError: unknown;
await stopSystem().catch((error) => {
  stopError = error;
});
if (stopError) console.log(`stopping the system: ${String(stopError)}`);
const verdicts = [
  ...grew.map((g) => `${g.process} grew ${pct(g.growth)} after warm-up (limit ${GROWTH_LIMIT} %)`),
  ...(failures > 0 ? [`${failures} requests failed with a 5xx or a network error`] : []),
  ...(restarted.size > 0 ? [`processes exited: ${[...restarted].join(", ")}`] : []),
  ...(stopError ? ["the system did not stop cleanly"] : []),
];
console.log(verdicts.length ? `\nSOAK FAILED:\n  ${verdicts.join("\n  ")}` : "\nsoak passed: memory flat, no failures");
process.exit(verdicts.length ? 1 : 0);
