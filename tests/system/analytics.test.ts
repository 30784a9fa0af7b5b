/**
 * Issue 15, session events and analytics: the sessions service announces every start, step,
 * completion and abandonment through its outbox (none lost while NATS is down), and the trees
 * service's projection turns them into a tree's analytics, checked here number by number against
 * sessions this test walked, unchanged by a redelivered event and by a rebuild from the stream.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { connectNats, type NatsConnection } from "@tdt/kit";
import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { encodeSessionEvent, SESSION_SUBJECTS, type SessionEvent } from "@tdt/proto/contracts/session-events";
import { type EventLog, recordSessionEvents } from "@tdt/test-support/events";
import { testLogger } from "@tdt/test-support/silent-logger";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);

/** The answer's `sessions`: these counts, and 0 for each other outcome of the contract. */
const countsOf = (counts: Record<string, number>) => ({
  ...Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])),
  ...counts,
});
const CLI = fileURLToPath(new URL("../../services/trees/dist/cli.js", import.meta.url));

let running: SystemWithAdmin;
let engineer: string;
let events: EventLog<SessionEvent>;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  running = await startSystemWithAdmin();
  engineer = await running.client.engineer(running.admin);
  events = await recordSessionEvents(running.nats.as("trees"));
});

afterAll(async () => {
  await events?.close();
  await Promise.all(connections.map((nc) => nc.close()));
  await running?.stop();
});

async function newTree(): Promise<string> {
  const created = await running.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: printerTree(),
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

interface Walker {
  id: string;
  step(body: Record<string, unknown>): Promise<void>;
  complete(outcome?: string): Promise<void>;
}

/** A technician's session on `treeId`, driven step by step through the gateway. */
async function walk(treeId: string, token?: string): Promise<Walker> {
  const technician = token ?? (await running.client.user("walker")).tokens.access_token;
  const started = await running.client.call<{ id: string }>("POST", "/api/v1/sessions", {
    token: technician,
    json: { tree_id: treeId },
  });
  expect(started.status).toBe(201);
  const id = started.body.id;
  return {
    id,
    async step(body) {
      const answer = await running.client.call("PUT", `/api/v1/sessions/${id}`, { token: technician, json: body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    },
    async complete(outcome) {
      const done = await running.client.call("POST", `/api/v1/sessions/${id}/complete`, {
        token: technician,
        json: outcome ? { outcome } : {},
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
    },
  };
}

const answer = (node_id: string, option_id: string) => ({ op: "answer", node_id, option_id });
const proceed = (node_id: string) => ({ op: "continue", node_id });

/** What the stream says of one session: subject, and the step's op and nodes. */
function eventsOf(sessionId: string) {
  return events.events
    .filter((item) => item.event.session_id === sessionId)
    .map((item) => {
      const event = item.event as unknown as Record<string, unknown>;
      return [item.subject.split(".").at(-1), event.op ?? event.outcome ?? "", event.node_id, event.next_node_id ?? ""];
    });
}

describe("session events", () => {
  it("announce a session's start, each step forward or back, and its completion, once each", async () => {
    const tree = await newTree();
    const session = await walk(tree);
    await session.step(answer("power", "yes"));
    await session.step({ op: "back" });
    await session.step({ op: "note", notes: "the cable was loose" });
    await session.step(answer("power", "no"));
    await session.step(proceed("plug"));
    await session.step(answer("power2", "no"));
    await session.complete();
    await expect
      .poll(() => eventsOf(session.id))
      .toEqual([
        ["started", "", "power", ""],
        ["step", "answer", "power", "paper"],
        ["step", "back", "paper", "power"],
        ["step", "answer", "power", "plug"],
        ["step", "continue", "plug", "power2"],
        ["step", "answer", "power2", "repair"],
        ["completed", "escalated", "repair", ""],
      ]);
    const ids = events.events.filter((item) => item.event.session_id === session.id).map((item) => item.event.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    const step = events.events.find(
      (item) => item.event.session_id === session.id && item.subject === SESSION_SUBJECTS.step,
    );
    expect(step?.event).toMatchObject({ tree_id: tree, tree_version: 1, seq: 1, option_id: "yes" });
  });

  it("lose none while NATS is down: the outbox sends them once it is back", async () => {
    const tree = await newTree();
    const technician = (await running.client.user("offline")).tokens.access_token;
    await running.nats.stop();
    let session: Walker;
    try {
      session = await walk(tree, technician);
      await session.step(answer("power", "yes"));
      await session.step(answer("paper", "yes"));
      await session.complete();
    } finally {
      await running.nats.start();
    }
    await expect
      .poll(() => eventsOf(session.id), { timeout: 15_000, interval: 200 })
      .toEqual([
        ["started", "", "power", ""],
        ["step", "answer", "power", "paper"],
        ["step", "answer", "paper", "toner"],
        ["completed", "resolved", "toner", ""],
      ]);
  });
});

interface Analytics {
  sessions: Record<string, number>;
  resolution_rate: number;
  duration_ms: { median: number; p90: number };
  nodes: Array<{
    node_id: string;
    visits: number;
    exits: number;
    time_ms: { median: number; p90: number };
    options: Array<{ option_id: string; count: number }>;
  }>;
  paths: Array<{ node_ids: string[]; count: number }>;
  days: Array<{ day: string; started: number; completed: number; resolved: number }>;
}

const analytics = (treeId: string, query = "", token = engineer) =>
  running.client.call<Analytics & { detail?: unknown }>("GET", `/api/v1/trees/${treeId}/analytics${query}`, { token });

describe("a tree's analytics", () => {
  let tree: string;
  let lastSession: string;

  beforeAll(async () => {
    tree = await newTree();
    // Two resolved the short way, one resolved after a refill, one escalated, one given up
    // (unresolved) at a question, one abandoned (its user deactivated), one still running.
    for (let i = 0; i < 2; i++) {
      const short = await walk(tree);
      await short.step(answer("power", "yes"));
      await short.step(answer("paper", "yes"));
      await short.complete();
    }
    const refill = await walk(tree);
    await refill.step(answer("power", "yes"));
    await refill.step(answer("paper", "no"));
    await refill.step(proceed("refill"));
    await refill.complete();
    const escalated = await walk(tree);
    await escalated.step(answer("power", "no"));
    await escalated.step(proceed("plug"));
    await escalated.step(answer("power2", "no"));
    await escalated.complete();
    const givenUp = await walk(tree);
    await givenUp.step(answer("power", "yes"));
    await givenUp.complete("unresolved");
    const leaver = await running.client.user("leaver");
    await walk(tree, leaver.tokens.access_token);
    const deactivated = await running.client.call("PATCH", `/api/v1/auth/users/${leaver.id}`, {
      token: running.admin,
      json: { is_active: false },
    });
    expect(deactivated.status).toBe(200);
    // The abandonment goes auth → sessions → trees: wait for it, so the last step below is what the
    // one-second promise is measured from.
    const deadline = Date.now() + 10_000;
    while (!events.events.some((item) => item.subject === SESSION_SUBJECTS.abandoned) && Date.now() < deadline) {
      await new Promise((wake) => setTimeout(wake, 50));
    }
    const running_ = await walk(tree);
    await running_.step(answer("power", "yes"));
    lastSession = running_.id;
  });

  it("counts what the sessions walked, within a second of the last step", async () => {
    await expect
      .poll(async () => (await analytics(tree)).body.sessions, { timeout: 1000, interval: 50 })
      .toEqual(countsOf({ started: 7, completed: 5, resolved: 3, escalated: 1, unresolved: 1, abandoned: 1 }));
    // The running session's last step is in too (its answer at power: the fifth "yes"), within the same second.
    await expect.poll(() => eventsOf(lastSession).length).toBe(2);
    await expect
      .poll(async () => (await analytics(tree)).body.nodes.find((node) => node.node_id === "power")?.options, {
        timeout: 1000,
        interval: 50,
      })
      .toEqual([
        { option_id: "yes", count: 5 },
        { option_id: "no", count: 1 },
      ]);
    const { body } = await analytics(tree);
    expect(body.resolution_rate).toBeCloseTo(3 / 5, 10);
    // By the day they started (all today, UTC; a run across midnight may split them in two).
    expect(body.days.every((day) => /^\d{4}-\d{2}-\d{2}$/.test(day.day))).toBe(true);
    const sum = (key: "started" | "completed" | "resolved") => body.days.reduce((total, day) => total + day[key], 0);
    expect([sum("started"), sum("completed"), sum("resolved")]).toEqual([7, 5, 3]);
    expect(body.duration_ms.p90).toBeGreaterThanOrEqual(body.duration_ms.median);
    const node = (id: string) => body.nodes.find((candidate) => candidate.node_id === id);
    expect(node("power")).toMatchObject({
      visits: 7,
      exits: 1,
      options: [
        { option_id: "yes", count: 5 },
        { option_id: "no", count: 1 },
      ],
    });
    expect(node("paper")).toMatchObject({
      visits: 5,
      exits: 1,
      options: [
        { option_id: "yes", count: 2 },
        { option_id: "no", count: 1 },
      ],
    });
    expect(node("toner")).toMatchObject({ visits: 2, exits: 2, options: [] });
    expect(node("refilled")).toMatchObject({ visits: 1, exits: 1 });
    expect(node("repair")).toMatchObject({ visits: 1, exits: 1 });
    for (const each of body.nodes) expect(each.time_ms.p90).toBeGreaterThanOrEqual(each.time_ms.median);
    expect(body.paths[0]).toEqual({ node_ids: ["power", "paper", "toner"], count: 2 });
    expect(body.paths).toHaveLength(5);
    expect(body.paths.map((path) => path.count)).toEqual([2, 1, 1, 1, 1]);
    expect(body.paths).toContainEqual({ node_ids: ["power", "plug", "power2", "repair"], count: 1 });
  });

  it("filters by version and by when sessions started", async () => {
    const none = countsOf({ started: 0, completed: 0, abandoned: 0 });
    expect((await analytics(tree, "?version=2")).body.sessions).toEqual(none);
    expect((await analytics(tree, "?version=1")).body.sessions.started).toBe(7);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect((await analytics(tree, `?from=${encodeURIComponent(later)}`)).body).toMatchObject({
      sessions: none,
      resolution_rate: 0,
      nodes: [],
      paths: [],
      days: [],
    });
    const earlier = new Date(Date.now() - 3_600_000).toISOString();
    expect((await analytics(tree, `?from=${encodeURIComponent(earlier)}`)).body.sessions.started).toBe(7);
    expect((await analytics(tree, `?to=${encodeURIComponent(earlier)}`)).body.sessions.started).toBe(0);
    const backwards = await analytics(tree, `?from=${encodeURIComponent(later)}&to=${encodeURIComponent(earlier)}`);
    expect(backwards.status).toBe(422);
  });

  it("are for engineers and admins: a technician gets 403, an unknown tree 404, a bad query 422", async () => {
    const technician = (await running.client.user("curious")).tokens.access_token;
    expect((await analytics(tree, "", technician)).status).toBe(403);
    expect((await analytics(tree, "", running.admin)).status).toBe(200);
    expect((await analytics(randomUUID())).status).toBe(404);
    expect((await analytics(tree, "?version=0")).status).toBe(422);
    expect((await analytics(tree, "?from=yesterday")).status).toBe(422);
  });

  it("are unchanged by a redelivered event, and by a rebuild from the stream", async () => {
    const before = (await analytics(tree)).body;
    // The same event again under another message id (JetStream would drop the same id).
    const nc = await connectNats(running.nats.as("sessions"), "test-redeliver", testLogger());
    connections.push(nc);
    const again = events.events.filter((item) => item.event.tree_id === tree);
    expect(again.length).toBeGreaterThan(20);
    for (const item of again) {
      await jetstream(nc).publish(item.subject, encodeSessionEvent(item), { msgID: randomUUID() });
    }
    // Something after them, to know the consumer got past them.
    const marker = await walk(tree);
    await expect
      .poll(async () => (await analytics(tree)).body.sessions.started, { timeout: 5000, interval: 100 })
      .toBe(8);
    const after = (await analytics(tree)).body;
    expect(after.sessions).toEqual({ ...before.sessions, started: 8 });
    const power = (body: Analytics) => body.nodes.find((node) => node.node_id === "power");
    expect(power(after)?.visits).toBe((power(before)?.visits ?? 0) + 1);
    expect(power(after)?.options).toEqual(power(before)?.options);
    expect(after.paths).toEqual(before.paths);
    expect(marker.id).toBeTruthy();

    // The operator's command, while the service runs.
    const trees = running.nats.as("trees").natsCredentials;
    const { stdout } = await run(process.execPath, [CLI, "rebuild-analytics"], {
      env: {
        ...process.env,
        TREES_DATABASE_URL: running.system.databases.trees.url,
        NATS_URL: running.nats.as("trees").natsUrl,
        NATS_USER: trees.user,
        NATS_PASSWORD: trees.password,
      },
      timeout: 60_000,
    });
    const unique = new Set(events.events.map((item) => item.event.event_id)).size;
    expect(stdout.trim()).toBe(`analytics rebuilt from ${unique} session events`);
    expect((await analytics(tree)).body).toEqual(after);
  });
});
