/**
 * Issue 12's yardstick: each hot path against TDT (through the gateway) and against the
 * one-process baseline (bench/baseline), with the same data and the same load generator in one
 * run, printed as one table:
 *   npm run bench          (BENCH_SECONDS per measurement, default 8 as in the issue)
 *   BENCH_PATHS=refresh,me npm run bench   (only the rows whose request names one of these words)
 *   BENCH_PROFILE=/tmp/prof npm run bench   (every process writes a CPU profile there; the hottest
 *                                            functions of each are printed after the table)
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startSystemWithAdmin } from "@tdt/test-support/system";
import { type RunningBaseline, startBaseline } from "./baseline/start.js";
import { type LoadResult, load, printTable } from "./measure.js";
import { hottestFunctions, profileClock } from "./profile-summary.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
/** Words of the rows to run (e.g. `refresh,sessions`); all rows when unset. */
const only = (process.env.BENCH_PATHS ?? "")
  .split(",")
  .map((word) => word.trim().toLowerCase())
  .filter(Boolean);
const chosen = (request: string) => only.length === 0 || only.some((word) => request.toLowerCase().includes(word));
const READERS = 50; // the 50 connections for the reads
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

const profileDir = process.env.BENCH_PROFILE;
if (profileDir) {
  mkdirSync(profileDir, { recursive: true });
  process.env.TDT_CPU_PROF_DIR = profileDir; // read by the stack and the baseline when they spawn
}
const { system, client, admin, stop } = await startSystemWithAdmin({ LOG_LEVEL: "warn" });
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
  for (let copy = 1; copy <= COPIES; copy++) {
    for (const name of DEMO_TREES) {
      const tree = demo(name);
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
  const row = (request: string, a: LoadResult, b: LoadResult) => ({
    request,
    "one-process req/s": a.perSecond,
    "p50 ms": a.p50,
    "p99 ms": a.p99,
    "TDT req/s": b.perSecond,
    "TDT p50 ms": b.p50,
    "TDT p99 ms": b.p99,
    ratio: (b.perSecond / a.perSecond).toFixed(2),
    failures: `${a.failures}/${b.failures}`,
  });
  /** Each hot path on one server, to be run later: a name and its measurement. */
  const hotPaths = async (server: Target) => {
    const readerToken = (await userOf(server)).access_token;
    const readTree = () =>
      load({
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", `/trees/${printerId}`, { token: readerToken })),
      });
    const list = () =>
      load({
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", "/trees?limit=20", { token: readerToken })),
      });
    const me = () =>
      load({
        workers: READERS,
        seconds,
        setup: async () => null,
        step: () => ok(server.call("GET", "/auth/me", { token: readerToken })),
      });
    // Each client walks its own token chain: every refresh spends the token the last one returned.
    const refresh = () =>
      load({
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
    const steps = () =>
      load<Walker>({
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
      { request: `GET /trees/{id}, ${READERS} connections`, measure: readTree },
      { request: "GET /trees?limit=20", measure: list },
      { request: "GET /auth/me", measure: me },
      { request: `POST /auth/refresh, ${WRITERS} chained clients`, measure: refresh },
      { request: `PUT /sessions/{id}, ${WRITERS} technicians`, measure: steps },
    ];
  };

  // Each path on the baseline and right after on TDT: one at a time, so neither competes with the
  // other's load, and side by side, so both see the same machine (it is shared).
  const [onePaths, tdtPaths] = [await hotPaths(baseline), await hotPaths(tdt)];
  measuringFrom = profileClock();
  const rows = [];
  for (const [i, path] of onePaths.entries()) {
    if (!chosen(path.request)) continue;
    const one = await path.measure();
    const them = await (tdtPaths[i] as typeof path).measure();
    rows.push(row(path.request, one, them));
  }

  printTable(
    `One process vs TDT: ${seconds} s each, ${READERS} clients for GETs, ${WRITERS} for refresh and PUT; the same ${(printerBytes.byteLength / 1024).toFixed(1)} KB tree bytes from both`,
    rows,
  );
} finally {
  await baselineProcess?.stop();
  await stop();
}

if (profileDir) {
  for (const file of readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"))) {
    const { samples, busy, functions } = hottestFunctions(join(profileDir, file), 15, measuringFrom);
    console.log(`\n${file}: ${busy} busy of ${samples} samples while measuring; share of the busy ones by self time:`);
    for (const { name, where, percent } of functions) console.log(`${String(percent).padStart(5)}%  ${name}  ${where}`);
  }
}
