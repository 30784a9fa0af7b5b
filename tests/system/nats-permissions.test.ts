/**
 * Issue 8: only auth may publish auth events. Every system test runs on the shipped NATS
 * config; here a service's own NATS user tries to forge the events that abandon a victim's
 * sessions and make the gateway refuse their tokens, to break the stream, and (issue 23) to
 * take over another service's durable consumer.
 */
import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connectNats, type NatsConnection } from "@tdt/kit";
import { AUTH_EVENTS_STREAM, AUTH_SUBJECTS, type AuthEvent, encodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import { SESSION_EVENTS_STREAM } from "@tdt/proto/contracts/session-events";
import { encodeTreeEvent, TREE_EVENTS_STREAM, TREE_SUBJECTS } from "@tdt/proto/contracts/tree-events";
import { type api, claimsOf } from "@tdt/test-support/api";
import { type EventLog, recordAuthEvents } from "@tdt/test-support/events";
import { testLogger } from "@tdt/test-support/silent-logger";
import { queryDatabase, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CONSUMERS = ["gateway", "trees", "sessions", "hooks"] as const;
const TRIALS = 5;

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let treeId: string;
/** Every auth event on the stream, as a consumer reads them. */
let events: EventLog;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  running = await startSystemWithAdmin();
  client = running.client;
  const engineer = await client.engineer(running.admin);
  const created = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  expect(created.status).toBe(201);
  treeId = created.body.id;
  events = await recordAuthEvents(running.nats.as("gateway"));
});

afterAll(async () => {
  await events?.close();
  await Promise.all(connections.map((nc) => nc.close()));
  await running?.stop();
});

async function natsAs(service: (typeof CONSUMERS)[number] | "auth"): Promise<NatsConnection> {
  const nc = await connectNats(running.nats.as(service), `test-${service}`, testLogger());
  connections.push(nc);
  return nc;
}

/** A victim: a technician with a guided session in progress and a working access token. */
async function victim(label: string) {
  const user = await client.user(label);
  const started = await client.call<{ id: string; status: string }>("POST", "/api/v1/sessions", {
    token: user.tokens.access_token,
    json: { tree_id: treeId },
  });
  expect(started.status).toBe(201);
  return { ...user, sessionId: started.body.id, sid: String(claimsOf(user.tokens.access_token).sid) };
}

async function sessionStatus(id: string): Promise<string> {
  return (await client.call<{ status: string }>("GET", `/api/v1/sessions/${id}`, { token: running.admin })).body.status;
}

async function meStatus(token: string): Promise<number> {
  return (await client.call("GET", "/api/v1/auth/me", { token })).status;
}

async function lastSequence(nc: NatsConnection): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(AUTH_EVENTS_STREAM)).state.last_seq;
}

/**
 * The stream's last sequence once every auth event written so far is in: signing up announces the
 * account (written to auth's outbox with the change, published by its relay a moment after the
 * answer), and that real event must not be taken for a forged one that got through. Waits until
 * each event still unsent in the outbox has come to the recorder.
 */
async function settledSequence(nc: NatsConnection): Promise<number> {
  const unsent = await queryDatabase(
    running.system.databases.auth.url,
    (sql) => sql<{ id: string }[]>`select id from outbox where sent_at is null`,
  );
  const ids = unsent.map((row) => row.id);
  await events.until((seen) => {
    const arrived = new Set(seen.map((item) => item.event.event_id));
    return ids.every((id) => arrived.has(id));
  }, "auth's unsent events on the stream");
  return lastSequence(nc);
}

describe("NATS permissions (infra/nats/nats.conf, enforced in every system test)", () => {
  it.each(CONSUMERS)("refuse %s's user every forged auth event, and the victim keeps working", async (service) => {
    const target = await victim(`victim-${service}`);
    const nc = await natsAs(service);
    const before = await settledSequence(nc);
    const violations: string[] = [];
    void (async () => {
      for await (const status of nc.status()) if (status.type === "error") violations.push(String(status.error));
    })();

    const forgeries: AuthEvent[] = [
      { subject: AUTH_SUBJECTS.userDeactivated, event: { event_id: randomUUID(), user_id: target.id } },
      {
        subject: AUTH_SUBJECTS.sessionRevoked,
        event: { event_id: randomUUID(), sid: target.sid, user_id: target.id, reason: "admin" },
      },
    ];
    let refused = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      for (const forged of forgeries) {
        // Through JetStream, as auth's relay publishes: the server refuses it outright.
        await jetstream(nc)
          .publish(forged.subject, encodeAuthEvent(forged), { msgID: randomUUID(), timeout: 2000 })
          .then(
            () => {},
            (error: unknown) => {
              expect(String(error)).toMatch(/Permissions Violation for Publish to "auth\.(user|session)\./);
              refused++;
            },
          );
        // And as a plain core publish, which reports the violation asynchronously.
        nc.publish(forged.subject, encodeAuthEvent(forged));
      }
    }
    await nc.flush();
    expect(refused).toBe(TRIALS * forgeries.length);
    await expect.poll(() => violations.length).toBeGreaterThanOrEqual(TRIALS * forgeries.length);
    expect(violations.every((text) => /Permissions Violation for Publish to "auth\./.test(text))).toBe(true);

    // A real deactivation behind them, as a fence: the services read the stream in order, so once
    // the sessions service has acted on it, it has seen whatever was stored before it.
    const fence = await victim(`fence-${service}`);
    const deactivated = await client.call("PATCH", `/api/v1/auth/users/${fence.id}`, {
      token: running.admin,
      json: { is_active: false },
    });
    expect(deactivated.status).toBe(200);
    await running.system.waitForLogs(
      ({ service: from, line }) =>
        from === "sessions" && line.msg === "user deactivated; sessions abandoned" && line.user_id === fence.id,
      "the fence's deactivation at the sessions service",
    );
    expect(await sessionStatus(fence.sessionId)).toBe("abandoned");
    // On the stream since: the fence's own events and nothing else (the gateway's revocation feed
    // reads only the stream, so it had no forged event to act on either).
    const after = await settledSequence(nc);
    const fenceEvents = events.events.filter((item) => item.event.user_id === fence.id);
    expect(after - before).toBe(fenceEvents.length);
    const forgedIds = new Set(forgeries.map((forged) => forged.event.event_id));
    expect(events.events.filter((item) => forgedIds.has(item.event.event_id))).toEqual([]);
    expect(await sessionStatus(target.sessionId)).toBe("in_progress");
    expect(await meStatus(target.tokens.access_token)).toBe(200);
  });

  it("refuse a client without credentials or with a wrong password", async () => {
    const outcomes = await Promise.all(
      [
        { servers: running.nats.url },
        { servers: running.nats.url, user: "auth", pass: "not-the-password" },
        { servers: running.nats.url, user: "gateway", pass: running.nats.passwords.auth },
        { servers: running.nats.url, user: "nobody", pass: "nothing" },
      ].map((options) =>
        connect({ ...options, reconnect: false }).then(
          async (nc) => {
            await nc.close();
            return "connected";
          },
          (error: unknown) => String(error),
        ),
      ),
    );
    expect(outcomes).toHaveLength(4);
    for (const outcome of outcomes) expect(outcome).toMatch(/Authorization Violation/);
  });

  it.each(CONSUMERS)("keep %s's user from deleting, purging or replacing the stream", async (service) => {
    const nc = await natsAs(service);
    const jsm = await jetstreamManager(nc);
    // A real event first, so that a purge would show.
    const { tokens } = await client.user(`logout-${service}`);
    const seen = await lastSequence(nc);
    expect((await client.call("POST", "/api/v1/auth/logout", { token: tokens.access_token })).status).toBe(204);
    const sid = claimsOf(tokens.access_token).sid;
    await events.until(
      (arrived) => arrived.some((item) => item.subject === AUTH_SUBJECTS.sessionRevoked && item.event.sid === sid),
      "the logout's event",
    );
    expect(await lastSequence(nc)).toBeGreaterThan(seen);
    const before = await lastSequence(nc);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ["STREAM.DELETE", () => jsm.streams.delete(AUTH_EVENTS_STREAM)],
      ["STREAM.PURGE", () => jsm.streams.purge(AUTH_EVENTS_STREAM)],
      ["STREAM.UPDATE", () => jsm.streams.update(AUTH_EVENTS_STREAM, { max_age: 1e9 })],
      ["STREAM.CREATE", () => jsm.streams.add({ name: "FORGED", subjects: ["forged.>"] })],
      ["STREAM.MSG.DELETE", () => jsm.streams.deleteMessage(AUTH_EVENTS_STREAM, 1)],
    ];
    for (const [api, attempt] of attempts) {
      await expect(attempt(), api).rejects.toThrow(/Permissions Violation/);
    }
    expect(await lastSequence(nc)).toBe(before);
    expect((await jsm.streams.info(AUTH_EVENTS_STREAM)).state.messages).toBeGreaterThan(0);
  });

  it.each(["gateway", "trees"] as const)(
    "keep %s's user off the sessions service's durable consumer",
    async (service) => {
      const jsm = await jetstreamManager(await natsAs(service));
      const durable = "sessions-user-deactivated";
      await expect(jsm.consumers.info(AUTH_EVENTS_STREAM, durable)).rejects.toThrow(/Permissions Violation/);
      await expect(jsm.consumers.delete(AUTH_EVENTS_STREAM, durable)).rejects.toThrow(/Permissions Violation/);
      // Sessions itself may look at it: it exists and still works (the last test uses it).
      const own = await jetstreamManager(await natsAs("sessions"));
      expect((await own.consumers.info(AUTH_EVENTS_STREAM, durable)).name).toBe(durable);
    },
  );

  it.each([
    ["trees", SESSION_EVENTS_STREAM, "hooks-sessions"],
    ["gateway", TREE_EVENTS_STREAM, "hooks-trees"],
  ] as const)("keep %s's user off the hooks service's durable consumer on %s", async (service, stream, durable) => {
    // Made by hooks at its start.
    await durableConfig("hooks", stream, durable);
    const jsm = await jetstreamManager(await natsAs(service));
    await expect(jsm.consumers.info(stream, durable)).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.consumers.delete(stream, durable)).rejects.toThrow(/Permissions Violation/);
    const own = await jetstreamManager(await natsAs("hooks"));
    expect((await own.consumers.info(stream, durable)).name).toBe(durable);
  });

  // Issue 23: the older create subjects. DURABLE.CREATE names the durable in the subject, so it
  // is allowed to its owner alone; CREATE.<stream> names it only in the body, where nats-server
  // 2.9 lets it rewrite any consumer of that name (a durable even turns ephemeral and vanishes),
  // so it is allowed to no one.
  const durables = [
    { intruder: "gateway", owner: "sessions", stream: AUTH_EVENTS_STREAM, durable: "sessions-user-deactivated" },
    { intruder: "trees", owner: "sessions", stream: AUTH_EVENTS_STREAM, durable: "sessions-user-deactivated" },
    { intruder: "gateway", owner: "trees", stream: SESSION_EVENTS_STREAM, durable: "trees-analytics" },
    { intruder: "sessions", owner: "trees", stream: SESSION_EVENTS_STREAM, durable: "trees-analytics" },
    { intruder: "trees", owner: "hooks", stream: SESSION_EVENTS_STREAM, durable: "hooks-sessions" },
    { intruder: "gateway", owner: "hooks", stream: TREE_EVENTS_STREAM, durable: "hooks-trees" },
    { intruder: "hooks", owner: "trees", stream: SESSION_EVENTS_STREAM, durable: "trees-analytics" },
  ] as const;

  /** A durable consumer's config as its owner reads it, once the owning service has made it. */
  async function durableConfig(owner: "sessions" | "trees" | "hooks", stream: string, durable: string) {
    const jsm = await jetstreamManager(await natsAs(owner));
    await expect
      .poll(
        () =>
          jsm.consumers.info(stream, durable).then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    return (await jsm.consumers.info(stream, durable)).config;
  }

  /** A raw JetStream API request: what the server answered, or the error it was refused with. */
  async function jsApi(nc: NatsConnection, subject: string, body: unknown): Promise<Record<string, unknown>> {
    const reply = await nc.request(subject, JSON.stringify(body), { timeout: 2000 });
    return reply.json<Record<string, unknown>>();
  }

  it.each(durables.map((entry) => [entry.intruder, entry.durable, entry] as const))(
    "keep %s's user from creating or rewriting %s through the older create subjects",
    async (_intruder, _durable, { intruder, owner, stream, durable }) => {
      const before = await durableConfig(owner, stream, durable);
      const nc = await natsAs(intruder);
      // What an intruder would want: one delivery only, a short ack wait, gone when idle for a second.
      const rewritten = { ...before, max_deliver: 1, ack_wait: 1e9 };
      const ephemeral = { ...rewritten, durable_name: undefined, inactive_threshold: 1e9 };
      const attempts: Array<[string, unknown]> = [
        [`$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`, { stream_name: stream, config: rewritten }],
        [`$JS.API.CONSUMER.CREATE.${stream}`, { stream_name: stream, config: ephemeral }],
        [`$JS.API.CONSUMER.CREATE.${stream}`, { stream_name: stream, config: rewritten }],
      ];
      for (const [subject, body] of attempts) {
        await expect(jsApi(nc, subject, body), subject).rejects.toThrow(/Permissions Violation for Publish/);
      }
      // Longer than the inactivity an ephemeral rewrite asked for: the durable is still there, unchanged.
      await new Promise((wake) => setTimeout(wake, 1500));
      expect(await durableConfig(owner, stream, durable)).toEqual(before);
    },
  );

  it.each(["sessions", "trees"] as const)(
    "let %s's user create and update its own durable through the older subject, by name only",
    async (owner) => {
      const { stream, durable } = durables.find((entry) => entry.owner === owner) ?? durables[0];
      const config = await durableConfig(owner, stream, durable);
      const nc = await natsAs(owner);
      // The same config again: accepted as an update that changes nothing.
      const answer = await jsApi(nc, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`, {
        stream_name: stream,
        config,
      });
      expect(answer.error).toBeUndefined();
      expect(answer).toMatchObject({ stream_name: stream, name: durable, config: { durable_name: durable } });
      // Another durable name, and the form that names it in the body, are refused to the owner too.
      await expect(
        jsApi(nc, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${owner}-other`, {
          stream_name: stream,
          config: { ...config, durable_name: `${owner}-other`, name: `${owner}-other` },
        }),
      ).rejects.toThrow(/Permissions Violation for Publish/);
      await expect(
        jsApi(nc, `$JS.API.CONSUMER.CREATE.${stream}`, {
          stream_name: stream,
          config: { ...config, durable_name: undefined },
        }),
      ).rejects.toThrow(/Permissions Violation for Publish/);
      expect(await durableConfig(owner, stream, durable)).toEqual(config);
    },
  );

  it("still carry auth's own events: logout is refused within a second, deactivation abandons sessions", async () => {
    const loggedOut = await victim("logout");
    expect((await client.call("POST", "/api/v1/auth/logout", { token: loggedOut.tokens.access_token })).status).toBe(
      204,
    );
    await expect.poll(() => meStatus(loggedOut.tokens.access_token), { timeout: 1000, interval: 50 }).toBe(401);

    const deactivated = await victim("deactivated");
    const patch = await client.call("PATCH", `/api/v1/auth/users/${deactivated.id}`, {
      token: running.admin,
      json: { is_active: false },
    });
    expect(patch.status).toBe(200);
    await running.system.waitForLogs(
      ({ service, line }) =>
        service === "sessions" &&
        line.msg === "user deactivated; sessions abandoned" &&
        line.user_id === deactivated.id,
      "the deactivation at the sessions service",
      { timeoutMs: 5000 },
    );
    expect(await sessionStatus(deactivated.sessionId)).toBe("abandoned");
  });

  it.each(["gateway", "sessions", "auth"] as const)(
    "refuse %s's user a forged tree change (which would empty the gateways' caches) and the stream's deletion",
    async (service) => {
      const nc = await natsAs(service);
      const forged = encodeTreeEvent({
        subject: TREE_SUBJECTS.treeChanged,
        event: { event_id: randomUUID(), tree_id: treeId, version: 99, change: "deleted", organization_id: "" },
      });
      let refused = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        await jetstream(nc)
          .publish(TREE_SUBJECTS.treeChanged, forged, { msgID: randomUUID(), timeout: 2000 })
          .then(
            () => {},
            (error: unknown) => {
              expect(String(error)).toMatch(/Permissions Violation for Publish to "trees\.tree\.changed"/);
              refused++;
            },
          );
      }
      expect(refused).toBe(TRIALS);
      const jsm = await jetstreamManager(nc);
      await expect(jsm.streams.delete(TREE_EVENTS_STREAM)).rejects.toThrow(/Permissions Violation|timeout/i);
      // The tree is still there for everyone.
      expect((await client.call("GET", `/api/v1/trees/${treeId}`, { token: running.admin })).status).toBe(200);
    },
  );

  it("connect every service as its own user, and log no NATS password", () => {
    const connected = running.system.logs
      .filter((entry) => entry.line.msg === "nats connected")
      .map((entry) => `${entry.service}:${entry.line.user}`);
    for (const service of ["auth", "gateway", "trees", "sessions"])
      expect(connected).toContain(`${service}:${service}`);
    const everything = JSON.stringify(running.system.logs);
    for (const password of Object.values(running.nats.passwords)) expect(everything).not.toContain(password);
  });
});
