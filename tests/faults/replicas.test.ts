/**
 * Two replicas of trees and of sessions behind `ipv4:` targets (127.0.0.1 and 127.0.0.2, one
 * port): under load through the gateway both replicas of each serve a fair share, and when one
 * replica of each is stopped (SIGTERM) under load no call fails beyond those in flight to it.
 */

import { freePort } from "@tdt/test-support/ports";
import { type Replica, startReplica } from "@tdt/test-support/replica";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLIENTS = 16;
const LIST_TREES = "/tdt.trees.v1.TreesService/ListTrees";
const LIST_SESSIONS = "/tdt.sessions.v1.SessionsService/ListSessions";

let running: SystemWithAdmin;
let treesPort: number;
let sessionsPort: number;
const replicas: Replica[] = [];
let treeId: string;

const target = (port: number) => `ipv4:127.0.0.1:${port},127.0.0.2:${port}`;

beforeAll(async () => {
  [treesPort, sessionsPort] = await Promise.all([freePort(), freePort()]);
  const shared = {
    TREES_PORT: String(treesPort),
    SESSIONS_PORT: String(sessionsPort),
    TREES_TARGET: target(treesPort),
    SESSIONS_TARGET: target(sessionsPort),
    // Each service keeps answering briefly after SIGTERM, as under Kubernetes.
    SHUTDOWN_DELAY_MS: "300",
  };
  // Every list goes to a trees replica: this file is about spreading calls over replicas, and the
  // gateway's answer cache would serve the repeated list from memory (tests/system/caches.test.ts).
  running = await startSystemWithAdmin({ ...shared, GATEWAY_CACHE_MB: "0" });
  const { system, nats } = running;
  const common = {
    ...shared,
    LOG_LEVEL: "info",
    NATS_URL: nats.url,
    AUTH_PORT: system.addresses.auth.split(":")[1],
  };
  replicas.push(
    await startReplica("trees", "127.0.0.2", {
      ...common,
      ...nats.serviceEnv.trees,
      TREES_DATABASE_URL: system.databases.trees.url,
    }),
    await startReplica("sessions", "127.0.0.2", {
      ...common,
      ...nats.serviceEnv.sessions,
      SESSIONS_DATABASE_URL: system.databases.sessions.url,
    }),
  );
  const engineer = await running.client.engineer(running.admin);
  const created = await running.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: printerTree(),
  });
  expect(created.status).toBe(201);
  treeId = created.body.id;
}, 180_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await running?.stop();
});

/** Served calls of `path` by the stack's own process of `service` (on 127.0.0.1). */
function servedByFirst(service: "trees" | "sessions", path: string): number {
  return running.system.logs.filter(
    ({ service: from, line }) => from === service && line.msg === "rpc" && line.rpc === path,
  ).length;
}

type Outcomes = Record<string, number>;

/** CLIENTS loops of GET trees, GET sessions and, every fourth round, a new session (a write), until `signal`. */
async function load(signal: AbortSignal): Promise<Outcomes> {
  const outcomes: Outcomes = {};
  const { system, admin } = running;
  const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
  const count = (kind: string, status: number | string) => {
    const key = `${kind} ${status}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  const client = async () => {
    for (let round = 0; !signal.aborted; round++) {
      const calls: Array<[string, RequestInit & { path: string }]> = [
        ["GET trees", { path: "/api/v1/trees", headers }],
        ["GET sessions", { path: "/api/v1/sessions", headers }],
      ];
      if (round % 4 === 0) {
        calls.push([
          "POST sessions",
          { path: "/api/v1/sessions", method: "POST", headers, body: JSON.stringify({ tree_id: treeId }) },
        ]);
      }
      for (const [kind, { path, ...init }] of calls) {
        try {
          const response = await fetch(`${system.url}${path}`, init);
          await response.arrayBuffer();
          count(kind, response.status);
        } catch (error) {
          count(kind, (error as Error).name);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return outcomes;
}

const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));
const failures = (outcomes: Outcomes) =>
  Object.entries(outcomes)
    .filter(([key]) => !/ 20[01]$/.test(key))
    .reduce((sum, [, n]) => sum + n, 0);

describe("two replicas of trees and of sessions", () => {
  it("share the load: each replica serves a substantial part", async () => {
    const stop = new AbortController();
    const before = {
      trees: [servedByFirst("trees", LIST_TREES), replicas[0]?.served(LIST_TREES) ?? 0],
      sessions: [servedByFirst("sessions", LIST_SESSIONS), replicas[1]?.served(LIST_SESSIONS) ?? 0],
    };
    const outcomes = load(stop.signal);
    await sleep(4_000);
    stop.abort();
    const counted = await outcomes;
    const trees = [
      servedByFirst("trees", LIST_TREES) - (before.trees[0] ?? 0),
      (replicas[0]?.served(LIST_TREES) ?? 0) - (before.trees[1] ?? 0),
    ];
    const sessions = [
      servedByFirst("sessions", LIST_SESSIONS) - (before.sessions[0] ?? 0),
      (replicas[1]?.served(LIST_SESSIONS) ?? 0) - (before.sessions[1] ?? 0),
    ];
    console.info(
      `16 clients, 4 s: outcomes ${JSON.stringify(counted)}; ListTrees per replica ${trees.join(" / ")}; ListSessions per replica ${sessions.join(" / ")}`,
    );
    expect(failures(counted)).toBe(0);
    for (const split of [trees, sessions]) {
      const total = split.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(50);
      for (const share of split) expect(share / total).toBeGreaterThan(0.3);
    }
  }, 30_000);

  it("lose nothing beyond calls in flight when one replica of each stops under load", async () => {
    const stop = new AbortController();
    const outcomes = load(stop.signal);
    await sleep(1_500);
    const stopping = performance.now();
    await Promise.all(replicas.map((replica) => replica.stop()));
    const stoppedMs = Math.round(performance.now() - stopping);
    await sleep(2_500);
    stop.abort();
    const counted = await outcomes;
    console.info(
      `16 clients; one replica of trees and of sessions stopped (SIGTERM, exit in ${stoppedMs} ms): outcomes ${JSON.stringify(counted)}`,
    );
    // At most the calls in flight to the stopped replicas, one per client; the aim is none.
    expect(failures(counted)).toBeLessThanOrEqual(CLIENTS);
    expect(Object.values(counted).reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
  }, 30_000);
});
