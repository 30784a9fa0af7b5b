/**
 * Issue 12's yardstick: each hot path against TDT (through the gateway) and against the
 * one-process baseline (bench/baseline), with the same data and the same load generator in one
 * run, printed as one table:
 *   npm run bench          (BENCH_SECONDS per measurement, default 8 as in the issue)
 *   BENCH_PATHS=refresh,me npm run bench   (only the rows whose request names one of these words)
 *   BENCH_PROFILE=/tmp/prof npm run bench   (every process writes a CPU profile there; the hottest
 *                                            functions of each are printed after the table)
 *   BENCH_TRACING=on npm run bench   (TDT exports every span with OTLP to a receiver in this
 *                                     process, as it would to a collector: what tracing costs)
 */
import { mkdirSync, readFileSync } from "node:fs";
import { startOtlpReceiver } from "@tdt/test-support/otlp-receiver";
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { type RunningBaseline, startBaseline } from "./baseline/start.js";
import { cpuMeter, type ProcessSet, postgresBackendsOf, stackProcesses } from "./cpu.js";
import { type LoadResult, load, type Probe, printTable } from "./measure.js";
import { printProfiles, profileClock } from "./profile-summary.js";
import { loadCorpus, searchRepeated, searchUnrepeated } from "./tree-corpus.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
/** Words of the rows to run (e.g. `refresh,sessions`); all rows when unset. */
const only = (process.env.BENCH_PATHS ?? "")
  .split(",")
  .map((word) => word.trim().toLowerCase())
  .filter(Boolean);
const chosen = (request: string) => only.length === 0 || only.some((word) => request.toLowerCase().includes(word));
const READERS = 50; // the 50 connections for the reads
const SEARCH_TREES = Number(process.env.BENCH_TREES ?? 10_000); // the 10,000 trees for search
const WRITERS = 16; // and 16 clients for refresh and the session steps
const DEMO_TREES = [
  "printer-not-printing",
  "email-not-syncing",
  "laptop-will-not-boot",
  "pos-terminal-card-payments",
  "slow-computer",
  "vpn-cannot-connect",
  "wifi-no-connection",
];
const COPIES = 3; // 21 trees: a page of 20 is a full page

interface DemoNode {
  id: string;
  type: string;
  next?: string;
  options?: Array<{ id: string; next: string }>;
}
interface DemoTree {
  title: string;
  root_node_id: string;
  nodes: DemoNode[];
}
const demo = (name: string) =>
  JSON.parse(readFileSync(new URL(`../services/trees/demo/${name}.json`, import.meta.url), "utf8")) as DemoTree;

/** One server under test: where its API is, and how a client calls it (the same for both). */
interface Target {
  base: string;
  call(method: string, path: string, options?: { token?: string; json?: unknown }): Promise<Response>;
}
function target(base: string): Target {
  return {
    base,
    call: (method, path, options = {}) =>
      fetch(`${base}${path}`, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.json !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
      }),
  };
}
/** A request that must succeed, with its body read whole (as a client would). */
async function ok(response: Promise<Response>): Promise<boolean> {
  const answer = await response;
  await answer.arrayBuffer();
  return answer.ok;
}
async function json<T>(response: Promise<Response>, what: string): Promise<T> {
  const answer = await response;
  if (!answer.ok) throw new Error(`${what}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()) as T;
}

/** The longest walk from the root to a solution without revisiting a node: the steps to send. */
function longestWalk(tree: DemoTree): Array<{ op: string; node_id: string; option_id?: string }> {
  const nodes = new Map(tree.nodes.map((node) => [node.id, node]));
  const walk = (id: string, seen: Set<string>): Array<{ op: string; node_id: string; option_id?: string }> => {
    const node = nodes.get(id);
    if (!node || node.type === "solution") return [];
    const choices =
      node.type === "action"
        ? [{ step: { op: "continue", node_id: id }, next: node.next ?? "" }]
        : (node.options ?? []).map((option) => ({
            step: { op: "answer", node_id: id, option_id: option.id },
            next: option.next,
          }));
    let best: Array<{ op: string; node_id: string; option_id?: string }> | undefined;
    for (const choice of choices) {
      if (seen.has(choice.next)) continue;
      const rest = walk(choice.next, new Set([...seen, choice.next]));
      if (nodes.get(choice.next)?.type !== "solution" && rest.length === 0) continue; // a dead end
      if (!best || rest.length + 1 > best.length) best = [choice.step, ...rest];
    }
    return best ?? [];
  };
  return walk(tree.root_node_id, new Set([tree.root_node_id]));
}

/** A load's figures and the CPU milliseconds each request cost, summed over the serving processes. */
interface Measured extends LoadResult {
  cpuPerRequest: number;
}

const latencies = (result: LoadResult) => ({
  "req/s": result.perSecond,
  "p50 ms": result.p50,
  "p95 ms": result.p95,
  "p99 ms": result.p99,
  failures: String(result.failures),
});

/** Each goal of issue 12 with what this run measured; a goal whose rows were not run is left out. */
function goalRows(
  results: Partial<Record<"tree" | "list" | "me" | "refresh" | "step", { one: Measured; tdt: Measured }>>,
  search: { repeated: LoadResult; unrepeated: LoadResult } | undefined,
): Array<Record<string, string>> {
  const goals: Array<Record<string, string>> = [];
  const goal = (name: string, measured: number, target: string, met: boolean) =>
    goals.push({ goal: name, measured: measured.toFixed(2), target, met: met ? "yes" : "NO" });
  const { tree, list, me, refresh, step } = results;
  if (tree) {
    const ratio = tree.tdt.perSecond / tree.one.perSecond;
    goal("GET /trees/{id}: TDT ÷ one process, req/s", ratio, "≥ 0.8", ratio >= 0.8);
    const p99 = tree.tdt.p99 / tree.one.p99;
    goal("GET /trees/{id}: TDT p99 ÷ one-process p99", p99, "≤ 1.5", p99 <= 1.5);
    for (const [name, other] of [
      ["GET /trees?limit=20", list],
      ["GET /auth/me", me],
    ] as const) {
      if (!other) continue;
      const ratio = other.tdt.perSecond / tree.tdt.perSecond;
      goal(`${name} ÷ GET /trees/{id}, TDT req/s`, ratio, "≥ 1", ratio >= 1);
    }
  }
  if (refresh) {
    const ratio = refresh.tdt.perSecond / refresh.one.perSecond;
    goal("POST /auth/refresh: TDT ÷ one process, req/s", ratio, "≥ 0.8", ratio >= 0.8);
  }
  if (step) {
    const ratio = step.tdt.perSecond / step.one.perSecond;
    goal("PUT /sessions/{id}: TDT ÷ one process, req/s", ratio, "≥ 0.7", ratio >= 0.7);
  }
  // Issue 31: the write paths' CPU per request over every process, against the one process's.
  for (const [name, measuredPair] of [
    ["POST /auth/refresh", refresh],
    ["PUT /sessions/{id}", step],
  ] as const) {
    if (!measuredPair) continue;
    const ratio = measuredPair.tdt.cpuPerRequest / measuredPair.one.cpuPerRequest;
    goal(`${name}: CPU ms per request, TDT ÷ one process`, ratio, "≤ 1.5", ratio <= 1.5);
  }
  if (search) {
    goal("search, repeated queries: p95 ms", search.repeated.p95, "≤ 20", search.repeated.p95 <= 20);
    goal("search, never repeated: p95 ms", search.unrepeated.p95, "≤ 20", search.unrepeated.p95 <= 20);
  }
  return goals;
}

const profileDir = process.env.BENCH_PROFILE;
if (profileDir) {
  mkdirSync(profileDir, { recursive: true });
  process.env.TDT_CPU_PROF_DIR = profileDir; // read by the stack and the baseline when they spawn
}
const tracing = process.env.BENCH_TRACING === "on" ? await startOtlpReceiver({ keep: false }) : undefined;
const { system, client, admin, stop } = await startSystemWithAdmin({
  LOG_LEVEL: "warn",
  ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: tracing.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" } : {}),
});
console.log(`tracing ${tracing ? "on: every span exported with OTLP (http/json)" : "off"}`);
/** When the measurements began: the profiles are read from then on (start-up is not a hot path). */
let measuringFrom = 0;
let baselineProcess: RunningBaseline | undefined;
try {
  baselineProcess = await startBaseline();
  const tdt = target(`${system.url}/api/v1`);
  const baseline = target(baselineProcess.url);

  // The same trees in both: published through TDT's API, then TDT's own answers (the tree
  // document and its list summary) stored in the baseline, so both send the same bytes.
  const ids: string[] = [];
  // The shared sub-tree two demo trees link to ("tree_id": "demo:<name>"), published first.
  const shared = await json<{ id: string }>(
    tdt.call("POST", "/trees", { token: admin, json: demo("home-internet-check") }),
    "publish home-internet-check",
  );
  const withLinks = (tree: DemoTree): DemoTree =>
    JSON.parse(JSON.stringify(tree).replaceAll('"demo:home-internet-check"', JSON.stringify(shared.id)));
  for (let copy = 1; copy <= COPIES; copy++) {
    for (const name of DEMO_TREES) {
      const tree = withLinks(demo(name));
      const title = copy === 1 ? tree.title : `${tree.title} (${copy})`;
      const created = await json<{ id: string }>(
        tdt.call("POST", "/trees", { token: admin, json: { ...tree, title } }),
        `publish ${name}`,
      );
      ids.push(created.id);
    }
  }
  const reader = (await client.user("reader")).tokens.access_token;
  const summaries: Array<{ id: string; title: string }> = [];
  for (let skip = 0; skip < ids.length; skip += 20) {
    summaries.push(
      ...(await json<typeof summaries>(tdt.call("GET", `/trees?limit=20&skip=${skip}`, { token: reader }), "list")),
    );
  }
  for (const summary of summaries) {
    const document = await (await tdt.call("GET", `/trees/${summary.id}`, { token: reader })).text();
    await json(
      baseline.call("POST", "/bench/trees", { json: { id: summary.id, title: summary.title, summary, document } }),
      "load tree",
    );
  }
  const printerId = ids[0] as string;

  // Users: a login on TDT, a first token pair from the baseline (its users need no password).
  let users = 0;
  const userOf = async (server: Target): Promise<{ access_token: string; refresh_token: string }> => {
    if (server === tdt) return (await client.user("bench")).tokens;
    users += 1;
    return json(
      baseline.call("POST", "/bench/users", {
        json: { email: `bench-${users}@example.com`, full_name: "Bench User", role: "technician" },
      }),
      "baseline user",
    );
  };

  const bytesOf = async (server: Target) => {
    const token = (await userOf(server)).access_token;
    return Buffer.from(await (await server.call("GET", `/trees/${printerId}`, { token })).arrayBuffer());
  };
  const [printerBytes, baselineBytes] = await Promise.all([bytesOf(tdt), bytesOf(baseline)]);
  if (!printerBytes.equals(baselineBytes)) throw new Error("the baseline does not send TDT's tree bytes");

  const walk = longestWalk(demo("printer-not-printing"));
  const row = (request: string, a: Measured, b: Measured) => ({
    request,
    "one-process req/s": a.perSecond,
    "p50 ms": a.p50,
    "p99 ms": a.p99,
    "TDT req/s": b.perSecond,
    "TDT p50 ms": b.p50,
    "TDT p99 ms": b.p99,
    ratio: (b.perSecond / a.perSecond).toFixed(2),
    "CPU ms/req one": a.cpuPerRequest.toFixed(2),
    "CPU ms/req TDT": b.cpuPerRequest.toFixed(2),
    "CPU ratio": (b.cpuPerRequest / a.cpuPerRequest).toFixed(2),
    failures: `${a.failures}/${b.failures}`,
  });
  // The CPU a request costs, summed over every process serving it (bench/cpu.ts): the baseline's
  // one process and its database's backends; TDT's services, its NATS and its databases' backends.
  const baselineProcessOf = baselineProcess as RunningBaseline;
  const oneProcesses: ProcessSet = {
    name: "one process",
    pids: () => [
      { pid: baselineProcessOf.pid, label: "one process" },
      ...postgresBackendsOf({ baseline: baselineProcessOf.database }),
    ],
  };
  const tdtDatabases = Object.fromEntries(
    Object.entries(system.databases).map(([service, database]) => [service, database.name]),
  );
  const tdtProcesses = stackProcesses(system.stack.processes, tdtDatabases);
  const cpuShares: Array<Record<string, string>> = [];
  const measured = async (
    set: ProcessSet,
    measure: (probe: Probe) => Promise<LoadResult>,
    request: string,
  ): Promise<Measured> => {
    const meter = cpuMeter(set);
    const result = await measure(meter);
    const { millis, byLabel } = meter;
    const requests = Math.max(1, result.requests + result.failures);
    for (const [label, spent] of [...byLabel].sort((a, b) => b[1] - a[1])) {
      if (spent > 0)
        cpuShares.push({ request, server: set.name, process: label, "CPU ms/req": (spent / requests).toFixed(2) });
    }
    return { ...result, cpuPerRequest: millis / requests };
  };
  /** Each hot path on one server, to be run later: a name and its measurement. */
  const hotPaths = async (server: Target) => {
    const readerToken = (await userOf(server)).access_token;
    const readTree = (probe?: Probe) =>
      load({
        probe,
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", `/trees/${printerId}`, { token: readerToken })),
      });
    const list = (probe?: Probe) =>
      load({
        probe,
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", "/trees?limit=20", { token: readerToken })),
      });
    const me = (probe?: Probe) =>
      load({
        probe,
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", "/auth/me", { token: readerToken })),
      });
    // Each client walks its own token chain: every refresh spends the token the last one returned.
    const refresh = (probe?: Probe) =>
      load({
        probe,
        workers: WRITERS,
        seconds,
        setup: async () => ({ token: (await userOf(server)).refresh_token }),
        step: async (state) => {
          const response = await server.call("POST", "/auth/refresh", { json: { refresh_token: state.token } });
          if (!response.ok) return false;
          state.token = ((await response.json()) as { refresh_token: string }).refresh_token;
          return true;
        },
      });
    // Each technician walks their own session, always a valid step, and starts anew at the end.
    interface Walker {
      token: string;
      session: string;
      step: number;
    }
    const startSession = async (walker: Walker) => {
      const started = await json<{ id: string }>(
        server.call("POST", "/sessions", { token: walker.token, json: { tree_id: printerId } }),
        "start session",
      );
      walker.session = started.id;
      walker.step = 0;
    };
    const steps = (probe?: Probe) =>
      load<Walker>({
        probe,
        workers: WRITERS,
        seconds,
        setup: async () => {
          const walker = { token: (await userOf(server)).access_token, session: "", step: 0 };
          await startSession(walker);
          return walker;
        },
        step: async (walker) => {
          const answered = await ok(
            server.call("PUT", `/sessions/${walker.session}`, {
              token: walker.token,
              json: { ...walk[walker.step], note: "ok" },
            }),
          );
          walker.step += 1;
          if (walker.step === walk.length) await startSession(walker);
          return answered;
        },
      });
    return [
      { key: "tree", request: `GET /trees/{id}, ${READERS} connections`, measure: readTree },
      { key: "list", request: "GET /trees?limit=20", measure: list },
      { key: "me", request: "GET /auth/me", measure: me },
      { key: "refresh", request: `POST /auth/refresh, ${WRITERS} chained clients`, measure: refresh },
      { key: "step", request: `PUT /sessions/{id}, ${WRITERS} technicians`, measure: steps },
    ] as const;
  };

  // Each path on the baseline and right after on TDT: one at a time, so neither competes with the
  // other's load, and side by side, so both see the same machine (it is shared).
  const [onePaths, tdtPaths] = [await hotPaths(baseline), await hotPaths(tdt)];
  measuringFrom = profileClock();
  const rows = [];
  const results: Partial<Record<(typeof onePaths)[number]["key"], { one: Measured; tdt: Measured }>> = {};
  for (const [i, path] of onePaths.entries()) {
    if (!chosen(path.request)) continue;
    const one = await measured(oneProcesses, path.measure, path.request);
    const them = await measured(tdtProcesses, (tdtPaths[i] as typeof path).measure, path.request);
    rows.push(row(path.request, one, them));
    results[path.key] = { one, tdt: them };
  }

  printTable(
    `One process vs TDT: ${seconds} s each, ${READERS} clients for GETs, ${WRITERS} for refresh and PUT; the same ${(printerBytes.byteLength / 1024).toFixed(1)} KB tree bytes from both`,
    rows,
  );

  printTable("CPU per request by process (user + system time from /proc, summed over the measurement)", cpuShares);

  // Search over the corpus, TDT alone (the baseline has no search): last, as its trees would
  // change the listing above.
  let search: { repeated: LoadResult; unrepeated: LoadResult } | undefined;
  if (chosen("search")) {
    const corpus = await loadCorpus(client, admin, SEARCH_TREES);
    const reader = (await userOf(tdt)).access_token;
    search = {
      repeated: await searchRepeated(client, reader, WRITERS, seconds),
      unrepeated: await searchUnrepeated(client, reader, WRITERS, seconds),
    };
    printTable(
      `TDT search over ${SEARCH_TREES} more trees (loaded through the API in ${corpus.seconds.toFixed(0)} s): ${WRITERS} clients, ${seconds} s each`,
      [
        { request: "GET /trees/search, word and prefix (110 queries people repeat)", ...latencies(search.repeated) },
        { request: "GET /trees/search, never repeated (no cache can answer)", ...latencies(search.unrepeated) },
      ],
    );
  }
  printTable("Issue 12's goals, from this run", goalRows(results, search));
} finally {
  await baselineProcess?.stop();
  await stop();
  if (tracing) console.log(`spans exported: ${tracing.received()}`);
  await tracing?.close();
}

if (profileDir) printProfiles(profileDir, measuringFrom);
