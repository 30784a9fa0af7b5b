/**
 * Deliveries end to end below the API: real Postgres (migrated as the service will be, read and
 * written as `hooks_app` under the organization wall), real receivers on loopback that verify
 * every signature with the `standardwebhooks` package and apply each event once by its
 * `webhook-id`, and workers racing, dying and coming back. Retries are seconds apart here
 * instead of hours (`retryAt`); everything else is the service's.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { migrate } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { Sql } from "postgres";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressGuard } from "../src/address-guard.js";
import { claimDue, type DeliveryRow, deliveriesOf, enqueue, recordAttempt, redeliver } from "../src/delivery-store.js";
import { DeliveryWorker } from "../src/delivery-worker.js";
import {
  createEndpoint,
  getEndpoint,
  listEndpoints,
  MAX_ENDPOINTS,
  rotateSecret,
  setEnabled,
} from "../src/endpoint-store.js";

/** An endpoint made (the organization has room). */
async function made(...args: Parameters<typeof createEndpoint>) {
  const endpoint = await createEndpoint(...args);
  if (!endpoint) throw new Error("the organization is full");
  return endpoint;
}

const ORG_A = randomUUID();
const ORG_B = randomUUID();
let database: { name: string; url: string };
let owner: Sql;
/** The service's own role: what the wall binds. */
let app: Sql;

beforeAll(async () => {
  database = await createDatabase("hooks");
  owner = connect(database.url);
  await migrate(owner, fileURLToPath(new URL("../migrations", import.meta.url)), testLogger());
  const asApp = new URL(database.url);
  asApp.username = "hooks_app";
  app = connect(asApp.href);
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
  if (database) await dropDatabase(database.name);
});

/** A receiver that verifies every signature and applies each event once, counting what came. */
class Receiver {
  readonly applied: string[] = [];
  duplicates = 0;
  badSignatures = 0;
  /** What it answers while up: 204, or a failure status to play a broken receiver. */
  status = 204;
  /** While set, each request is counted, then waits for it before it is answered (an attempt in flight). */
  hold: Promise<void> | undefined;
  /** Requests that arrived (answered or not yet). */
  arrived = 0;
  private server: Server | undefined;
  private port = 0;
  secrets: string[] = [];

  get url() {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", async () => {
        this.arrived++;
        if (this.hold) await this.hold;
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
        );
        const verified = this.secrets.some((secret) => {
          try {
            new Webhook(secret).verify(body, headers);
            return true;
          } catch {
            return false;
          }
        });
        if (!verified) {
          this.badSignatures++;
          response.writeHead(401).end();
          return;
        }
        if (this.status < 300) {
          const id = headers["webhook-id"] ?? "";
          if (this.applied.includes(id)) this.duplicates++;
          else this.applied.push(id);
        }
        response.writeHead(this.status).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const loopback = new AddressGuard(["127.0.0.0/8"]);
const fast = (failed: number, now: number) => (failed < 30 ? now + 200 : undefined);

function worker(extra: Partial<ConstructorParameters<typeof DeliveryWorker>[0]> = {}) {
  return new DeliveryWorker({ sql: app, guard: loopback, log: testLogger(), pollMs: 50, retryAt: fast, ...extra });
}

/** An event of a session, as the consumer queues it. */
const sessionEvent = (orgId: string, session: string, type: string, at: number) => {
  const eventId = randomUUID();
  return {
    orgId,
    eventId,
    type,
    orderingKey: `session:${session}`,
    occurredAt: new Date(at),
    body: JSON.stringify({ specversion: "1.0", id: eventId, type, subject: session, data: { at } }),
  };
};

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("webhook deliveries", () => {
  it("go to every enabled endpoint of the event's organization that wants its type, once per event", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const wants = await made(app, ORG_A, {
      url: receiver.url,
      event_types: ["tdt.session.completed"],
      description: "",
    });
    await made(app, ORG_A, { url: receiver.url, event_types: ["tdt.tree.published"], description: "" });
    const others = await made(app, ORG_B, {
      url: receiver.url,
      event_types: ["tdt.session.completed"],
      description: "",
    });
    receiver.secrets = [wants.secret];
    const event = sessionEvent(ORG_A, "s1", "tdt.session.completed", Date.now());
    expect(await enqueue(app, event)).toBe(1);
    // The same event again (the stream redelivers): nothing more.
    expect(await enqueue(app, event)).toBe(0);
    const running = worker();
    running.start();
    await until(() => receiver.applied.length === 1);
    await running.stop();
    expect(receiver.applied).toEqual([event.eventId]);
    expect(receiver.badSignatures).toBe(0);
    const log = await deliveriesOf(app, ORG_A, wants.id, 10);
    expect(log?.[0]).toMatchObject({ event_id: event.eventId, state: "delivered", attempts: [{ status: 204 }] });
    // Organization B's endpoint heard nothing of A, and A cannot see it.
    expect(await deliveriesOf(app, ORG_B, others.id, 10)).toEqual([]);
    expect(await getEndpoint(app, ORG_A, others.id)).toBeUndefined();
    expect(await deliveriesOf(app, ORG_A, others.id, 10)).toBeUndefined();
    expect((await listEndpoints(app, ORG_B)).map((endpoint) => endpoint.id)).toEqual([others.id]);
    await receiver.down();
  });

  it("lose nothing while the receiver is down, and bring a session's events in order once it is back", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.session.started", "tdt.session.completed"],
      description: "down and back",
    });
    receiver.secrets = [endpoint.secret];
    await receiver.down();
    const running = worker();
    running.start();
    const sessions = ["a", "b", "c"];
    const sent: Record<string, string[]> = {};
    const base = Date.now();
    for (const [index, session] of sessions.entries()) {
      for (const [step, type] of ["tdt.session.started", "tdt.session.completed"].entries()) {
        const event = sessionEvent(org, `${session}-${endpoint.id}`, type, base + index * 10 + step);
        sent[session] = [...(sent[session] ?? []), event.eventId];
        await enqueue(app, event);
      }
    }
    // Down for a while: attempts fail and are logged, none is lost.
    await until(async () => {
      const log = (await deliveriesOf(app, org, endpoint.id, 50)) ?? [];
      return log.some((delivery) => delivery.attempts.length >= 3);
    });
    await receiver.up();
    await until(() => receiver.applied.length === 6);
    await running.stop();
    expect(receiver.duplicates).toBe(0);
    expect(receiver.badSignatures).toBe(0);
    for (const session of sessions) {
      const order = receiver.applied.filter((id) => sent[session]?.includes(id));
      expect(order).toEqual(sent[session]);
    }
    const log = (await deliveriesOf(app, org, endpoint.id, 50)) ?? [];
    expect(log.every((delivery) => delivery.state === "delivered")).toBe(true);
    const failedAttempts = log.flatMap((delivery) => delivery.attempts).filter((attempt) => attempt.error);
    expect(failedAttempts.length).toBeGreaterThan(0);
    expect(failedAttempts.every((attempt) => attempt.error === "connection_failed")).toBe(true);
    await receiver.down();
  });

  it("are attempted once each by racing workers, and again only after a worker died holding one", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.tree.published"],
      description: "",
    });
    receiver.secrets = [endpoint.secret];
    const TOTAL = 60;
    for (let index = 0; index < TOTAL; index++) {
      // One ordering key each, so the workers may take them in any order.
      await enqueue(app, sessionEvent(org, `tree-${index}-${endpoint.id}`, "tdt.tree.published", Date.now()));
    }
    // A worker that claims one and dies before it attempts it: its lease (short here) runs out.
    const dead = await claimDue(app, 1, 300);
    expect(dead).toHaveLength(1);
    // The live workers' claims outlast an attempt on a loaded machine (a 300 ms lease did not, in
    // CI: another worker took the attempt again); the dead worker's short one runs out.
    const workers = [
      worker({ concurrency: 4, leaseMs: 10_000 }),
      worker({ concurrency: 4, leaseMs: 10_000 }),
      worker(),
    ];
    for (const each of workers) each.start();
    await until(() => receiver.applied.length === TOTAL);
    await Promise.all(workers.map((each) => each.stop()));
    expect(receiver.duplicates).toBe(0);
    expect(receiver.applied).toContain(dead[0]?.event_id);
    await receiver.down();
  });

  it("keep a redelivery asked for while an attempt is in flight: the event comes again, 20 trials", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, { url: receiver.url, event_types: ["tdt.session.started"], description: "" });
    receiver.secrets = [endpoint.secret];
    const running = worker();
    running.start();
    const TRIALS = 20;
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        let answer = () => {};
        receiver.hold = new Promise<void>((resolve) => {
          answer = resolve;
        });
        const arrivedBefore = receiver.arrived;
        const event = sessionEvent(org, `${trial}-${endpoint.id}`, "tdt.session.started", Date.now());
        await enqueue(app, event);
        running.nudge();
        // The first attempt has reached the receiver and waits for its answer: then a redelivery.
        await until(() => receiver.arrived === arrivedBefore + 1);
        const [delivery] = (await deliveriesOf(app, org, endpoint.id, 1)) ?? [];
        expect(await redeliver(app, org, endpoint.id, { deliveryId: delivery?.id as string })).toBe(1);
        receiver.hold = undefined;
        answer();
        // Delivered by the first attempt, and again for the redelivery: the receiver sees it twice.
        await until(() => receiver.arrived === arrivedBefore + 2);
        await until(async () => (await deliveriesOf(app, org, endpoint.id, 1))?.[0]?.state === "delivered");
      }
    } finally {
      // Also when a trial fails: a worker left running would claim the next tests' deliveries.
      await running.stop();
    }
    expect(receiver.applied).toHaveLength(TRIALS);
    expect(receiver.duplicates).toBe(TRIALS);
    expect(receiver.badSignatures).toBe(0);
    await receiver.down();
  });

  it("write an attempt's outcome only while its claim holds: a worker late past its lease decides nothing", async () => {
    const org = randomUUID();
    const endpoint = await made(app, org, {
      url: "http://127.0.0.1:9/",
      event_types: ["tdt.session.started"],
      description: "",
    });
    await enqueue(app, sessionEvent(org, `late-${endpoint.id}`, "tdt.session.started", Date.now()));
    const [late] = await claimDue(app, 1, 50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [current] = await claimDue(app, 1, 30_000);
    expect(current?.id).toBe(late?.id);
    // The late worker's success does not end the delivery the current claim is attempting.
    await recordAttempt(app, late as DeliveryRow, new Date(), { status: 204, latency_ms: 1, excerpt: "" }, undefined);
    const [logged] = (await deliveriesOf(app, org, endpoint.id, 1)) ?? [];
    expect(logged).toMatchObject({ state: "pending", attempts: [{ status: 204 }] });
    // The current claim's failure is what decides: spent attempts, failed.
    await recordAttempt(
      app,
      current as DeliveryRow,
      new Date(),
      { status: 500, latency_ms: 1, excerpt: "" },
      undefined,
    );
    expect((await deliveriesOf(app, org, endpoint.id, 1))?.[0]).toMatchObject({
      state: "failed",
      attempts: [{ status: 204 }, { status: 500 }],
    });
  });

  it("disable the endpoint on 410 Gone, keep queueing for it, and deliver it all when enabled again", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.session.abandoned"],
      description: "",
    });
    receiver.secrets = [endpoint.secret];
    receiver.status = 410;
    const first = sessionEvent(org, `gone-${endpoint.id}`, "tdt.session.abandoned", Date.now());
    await enqueue(app, first);
    const running = worker();
    running.start();
    await until(async () => (await getEndpoint(app, org, endpoint.id))?.enabled === false);
    expect(await getEndpoint(app, org, endpoint.id)).toMatchObject({ enabled: false, disabled_reason: "gone" });
    // Disabled: an event still queues, and waits unattempted.
    const later = sessionEvent(org, `later-${endpoint.id}`, "tdt.session.abandoned", Date.now());
    expect(await enqueue(app, later)).toBe(1);
    await new Promise((wake) => setTimeout(wake, 300));
    running.nudge();
    await new Promise((wake) => setTimeout(wake, 300));
    expect(receiver.applied).toEqual([]);
    receiver.status = 204;
    await owner.begin(async (tx) => {
      await tx`select set_config('app.org_id', ${org}, true)`;
      await setEnabled(tx as never, endpoint.id, true, null);
    });
    running.nudge();
    // Enabled again: the 410'd delivery and the one that waited both go, with nothing redelivered by hand.
    await until(() => receiver.applied.length === 2);
    await running.stop();
    expect([...receiver.applied].sort()).toEqual([first.eventId, later.eventId].sort());
    await receiver.down();
  });

  it("disable an endpoint that failed every delivery for 5 days (failing), and forget a run of failures after a success", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const failing = await made(app, org, { url: receiver.url, event_types: ["tdt.session.started"], description: "" });
    const recovering = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.session.completed"],
      description: "",
    });
    receiver.secrets = [failing.secret, recovering.secret];
    // Both have failed since 6 days ago (the owner writes what time would have).
    await owner`update endpoints set failing_since = now() - interval '6 days' where id in ${owner([failing.id, recovering.id])}`;
    receiver.status = 500;
    await enqueue(app, sessionEvent(org, `f-${failing.id}`, "tdt.session.started", Date.now()));
    const running = worker();
    running.start();
    await until(async () => (await getEndpoint(app, org, failing.id))?.enabled === false);
    expect(await getEndpoint(app, org, failing.id)).toMatchObject({ enabled: false, disabled_reason: "failing" });
    // The other answers this time: delivered, its run of failures over, still enabled.
    receiver.status = 204;
    await enqueue(app, sessionEvent(org, `r-${recovering.id}`, "tdt.session.completed", Date.now()));
    await until(() => receiver.applied.length === 1);
    await running.stop();
    const [row] = await owner<{ failing_since: Date | null; enabled: boolean }[]>`
      select failing_since, enabled from endpoints where id = ${recovering.id}`;
    expect(row).toEqual({ failing_since: null, enabled: true });
    await receiver.down();
  });

  it("stop at MAX_ENDPOINTS per organization, also when creations race, 10 rounds", async () => {
    for (let round = 0; round < 10; round += 1) {
      const org = randomUUID();
      const input = { url: "https://8.8.8.8/hook", event_types: ["tdt.tree.published"], description: "" };
      for (let index = 0; index < MAX_ENDPOINTS - 2; index += 1) await made(app, org, input);
      const racing = await Promise.all(Array.from({ length: 6 }, () => createEndpoint(app, org, input)));
      expect(racing.filter(Boolean)).toHaveLength(2);
      expect(await listEndpoints(app, org)).toHaveLength(MAX_ENDPOINTS);
    }
  });

  it("sign with both secrets during a rotation's overlap, and with the new one alone after it", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.session.started"],
      description: "",
    });
    const rotated = await rotateSecret(app, org, endpoint.id, 3600);
    expect(rotated).toMatch(/^whsec_/);
    expect(await rotateSecret(app, ORG_B, endpoint.id, 3600)).toBeUndefined();
    // A receiver still on the old secret verifies the overlap's deliveries.
    receiver.secrets = [endpoint.secret];
    const running = worker();
    running.start();
    await enqueue(app, sessionEvent(org, `rot-${endpoint.id}`, "tdt.session.started", Date.now()));
    await until(() => receiver.applied.length === 1);
    // The overlap ends: the old secret verifies nothing more, the new one does.
    await owner`update endpoints set previous_until = now() - interval '1 second' where id = ${endpoint.id}`;
    await enqueue(app, sessionEvent(org, `rot2-${endpoint.id}`, "tdt.session.started", Date.now()));
    await until(() => receiver.badSignatures > 0);
    receiver.secrets = [rotated ?? ""];
    await until(() => receiver.applied.length === 2);
    await running.stop();
    expect(receiver.duplicates).toBe(0);
    await receiver.down();
  });

  it("refuse a private address the allow-list does not name, logging why without connecting", async () => {
    const org = randomUUID();
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await made(app, org, {
      url: receiver.url,
      event_types: ["tdt.tree.deleted"],
      description: "",
    });
    receiver.secrets = [endpoint.secret];
    await enqueue(app, sessionEvent(org, `ssrf-${endpoint.id}`, "tdt.tree.deleted", Date.now()));
    const strict = worker({ guard: new AddressGuard(), retryAt: () => undefined });
    strict.start();
    await until(async () => (await deliveriesOf(app, org, endpoint.id, 1))?.[0]?.state === "failed");
    await strict.stop();
    const [delivery] = (await deliveriesOf(app, org, endpoint.id, 1)) ?? [];
    expect(delivery?.attempts).toEqual([expect.objectContaining({ status: null, error: "address_not_allowed" })]);
    expect(receiver.applied).toEqual([]);
    expect(receiver.badSignatures).toBe(0);
    await receiver.down();
  });

  it("stay behind the organization wall for the service's role", async () => {
    await expect(app`select * from endpoints`).resolves.toEqual([]);
    await expect(
      app`insert into endpoints (url, event_types, secret) values ('https://x', '{a}', 's')`,
    ).rejects.toThrow();
  });
});
