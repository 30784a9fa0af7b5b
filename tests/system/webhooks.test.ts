/**
 * Webhooks end to end (issue 29): an organization's admin registers an endpoint through the
 * gateway; the hooks service hears the session and tree events on JetStream and delivers them to
 * a real receiver on loopback that verifies every signature with the `standardwebhooks` package
 * and applies each event once (by `webhook-id`), as the specification asks of a receiver. The
 * receiver goes down for 30 s, the hooks service is killed mid-delivery: nothing is lost, nothing
 * is applied twice, and a session's events arrive in order.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { claimsOf } from "@tdt/test-support/api";
import { Changes } from "@tdt/test-support/changes";
import { connect } from "@tdt/test-support/database";
import { startDnsServer, type TestDnsServer } from "@tdt/test-support/dns-server";
import { makeOrganization } from "@tdt/test-support/organizations";
import { untilPortOpen } from "@tdt/test-support/port-open";
import { freePort } from "@tdt/test-support/ports";
import { engineerWithTree, type LogEntry, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface WebhookBody {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabled_reason?: string;
  secret?: string;
}

interface CloudEventBody {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: string;
  data: Record<string, unknown>;
}

interface Delivery {
  id: string;
  event_id: string;
  type: string;
  state: string;
  attempts: Array<{ at: string; status?: number; latency_ms: number; error?: string; excerpt: string }>;
}

/**
 * A receiver as the specification describes one: it verifies the signature under each secret it
 * knows (any one passing is enough), applies an event the first time its `webhook-id` comes, and
 * answers 2xx to a repeat without applying it again.
 */
class Receiver {
  server: Server | undefined;
  port = 0;
  secrets: string[] = [];
  /** Events applied, in the order they were first received. */
  readonly applied: CloudEventBody[] = [];
  readonly seen = new Set<string>();
  /** Requests whose signature no known secret verified. */
  badSignatures = 0;
  /** Requests repeating an event already applied (at least once means some may come). */
  repeats = 0;
  /** How many signatures each request carried. */
  readonly signatureCounts: number[] = [];
  /** What to answer (status), and while set, what the answers wait for. */
  status = 204;
  hold: Promise<void> | undefined;
  inFlight = 0;
  /** Told of every request's arrival and outcome, for `until`. */
  private readonly changes = new Changes();

  /** Waits until `check` holds, checking again at each request's arrival and outcome. */
  until(check: () => boolean, what: string, timeoutMs?: number): Promise<true> {
    return this.changes.until(() => check() || undefined, what, timeoutMs);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }

  verifiedBy(body: string, headers: Record<string, string>): string[] {
    return this.secrets.filter((secret) => {
      try {
        new StandardWebhook(secret).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.changes.notify();
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(request.headers["webhook-id"]),
        "webhook-timestamp": String(request.headers["webhook-timestamp"]),
        "webhook-signature": String(request.headers["webhook-signature"]),
      };
      this.signatureCounts.push(headers["webhook-signature"].split(" ").length);
      if (this.hold) await this.hold;
      if (this.verifiedBy(body, headers).length === 0) {
        this.badSignatures += 1;
        response.writeHead(401).end("bad signature");
        return;
      }
      if (this.status < 200 || this.status >= 300) {
        response.writeHead(this.status).end("not now");
        return;
      }
      const id = headers["webhook-id"];
      if (this.seen.has(id)) this.repeats += 1;
      else {
        this.seen.add(id);
        this.applied.push(JSON.parse(body) as CloudEventBody);
      }
      response.writeHead(this.status).end();
    } finally {
      this.inFlight -= 1;
      this.changes.notify();
    }
  }
}

let running: SystemWithAdmin;
/** Resolves receivers' names for the hooks service (WEBHOOK_RESOLVER): the test decides what a name is. */
let dns: TestDnsServer;
let admin: string;
let engineer: string;
let treeId: string;

beforeAll(async () => {
  dns = await startDnsServer();
  running = await startSystemWithAdmin({
    WEBHOOK_RESOLVER: dns.address,
    // Retries within seconds rather than hours, so that an outage of 30 s is ridden out here.
    WEBHOOK_RETRY_SCHEDULE: "1,1,1,2,2,2,3,3,3,3,3,3,3,3,3,3,3,3,3,3",
    PUBLIC_URL: "https://tdt.example.com",
  });
  ({ admin } = running);
  ({ engineer, treeId } = await engineerWithTree(running));
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await dns?.close();
});

const call = <T>(method: string, path: string, options: { token?: string; json?: unknown } = {}) =>
  running.client.call<T>(method, path, { token: admin, ...options });

/**
 * The hooks service's log lines of attempts (written once the attempt and what follows from it
 * are stored) that `match` accepts, once there are `count`.
 */
function attemptsLogged(
  match: (line: Record<string, unknown>) => boolean,
  what: string,
  options?: { count?: number; timeoutMs?: number },
): Promise<LogEntry[]> {
  return running.system.waitForLogs(
    ({ service, line }) => service === "hooks" && line.msg === "webhook attempt" && match(line),
    what,
    options,
  );
}

const answered2xx = (line: Record<string, unknown>) =>
  typeof line.status === "number" && line.status >= 200 && line.status < 300;

async function register(receiver: Receiver, events: string[], description = ""): Promise<WebhookBody> {
  const made = await call<WebhookBody>("POST", "/api/v1/webhooks", {
    json: { url: receiver.url, events, description },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);
  receiver.secrets = [made.body.secret as string];
  return made.body;
}

/** A technician's session, started and completed (escalated): its id. */
async function sessionRun(): Promise<string> {
  const { tokens } = await running.client.user();
  const started = await running.client.call<{ id: string }>("POST", "/api/v1/sessions", {
    token: tokens.access_token,
    json: { tree_id: treeId },
  });
  expect(started.status).toBe(201);
  const done = await running.client.call("POST", `/api/v1/sessions/${started.body.id}/complete`, {
    token: tokens.access_token,
    json: { outcome: "escalated", notes: "Handed to the vendor" },
  });
  expect(done.status).toBe(200);
  return started.body.id;
}

/** Every session's events arrived started before completed, each once. */
function expectInOrder(receiver: Receiver, sessions: string[]): void {
  for (const session of sessions) {
    const types = receiver.applied.filter((event) => event.subject === session).map((event) => event.type);
    expect(types, session).toEqual(["tdt.session.started", "tdt.session.completed"]);
  }
}

describe("webhook endpoints", () => {
  it("are an organization admin's: 201 with the whsec_ secret once; others 403; the list and reads carry no secret", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const made = await register(receiver, ["tdt.session.completed"], "reports");
    expect(made).toMatchObject({ url: receiver.url, events: ["tdt.session.completed"], enabled: true });
    const listed = await call<WebhookBody[]>("GET", "/api/v1/webhooks");
    expect(listed.status).toBe(200);
    const mine = listed.body.find((endpoint) => endpoint.id === made.id);
    expect(mine).toMatchObject({ id: made.id, description: "reports" });
    expect(mine).not.toHaveProperty("secret");
    const read = await call<WebhookBody>("GET", `/api/v1/webhooks/${made.id}`);
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty("secret");
    const asEngineer = await call("GET", "/api/v1/webhooks", { token: engineer });
    expect(asEngineer.status).toBe(403);
    expect(asEngineer.body).toMatchObject({ detail: "forbidden" });
    const removed = await call("DELETE", `/api/v1/webhooks/${made.id}`);
    expect(removed.status).toBe(204);
    expect((await call("GET", `/api/v1/webhooks/${made.id}`)).status).toBe(404);
    await receiver.down();
  });

  it("refuse a URL that is not https or reaches a private, link-local or metadata address, with 422 at body.url", async () => {
    const refused: Array<[string, string]> = [
      ["https://10.1.2.3/hook", "url_address_not_allowed"],
      ["https://169.254.169.254/latest/meta-data", "url_address_not_allowed"],
      ["https://[::ffff:192.168.0.1]/hook", "url_address_not_allowed"],
      ["https://[fd00::1]/hook", "url_address_not_allowed"],
      ["http://203.0.113.9/hook", "url_address_not_allowed"],
      ["http://8.8.8.8/hook", "url_http_not_allowed"],
      ["ftp://8.8.8.8/hook", "url_scheme_not_allowed"],
      ["https://user:pass@8.8.8.8/hook", "url_credentials_in_url"],
    ];
    for (const [url, type] of refused) {
      const answer = await call<{ detail: Array<{ loc: string[]; type: string }> }>("POST", "/api/v1/webhooks", {
        json: { url, events: ["tdt.session.started"] },
      });
      expect(answer.status, url).toBe(422);
      expect(answer.body.detail, url).toEqual([expect.objectContaining({ loc: ["body", "url"], type })]);
    }
    const noEvents = await call("POST", "/api/v1/webhooks", { json: { url: "https://8.8.8.8/h", events: [] } });
    expect(noEvents.status).toBe(422);
    const unknown = await call("POST", "/api/v1/webhooks", {
      json: { url: "https://8.8.8.8/h", events: ["tdt.session.exploded"] },
    });
    expect(unknown.status).toBe(422);
    // Nothing was made by any of them.
    const listed = await call<WebhookBody[]>("GET", "/api/v1/webhooks");
    expect(listed.body.filter((endpoint) => !endpoint.url.startsWith("http://127.0.0.1"))).toEqual([]);
  });

  it("send a test ping, signed as Standard Webhooks says, and log it", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.tree.deleted"]);
    const ping = await call<{ delivery_id: string }>("POST", `/api/v1/webhooks/${endpoint.id}/ping`);
    expect(ping.status).toBe(202);
    await receiver.until(() => receiver.applied.length === 1, "the ping");
    expect(receiver.applied[0]).toMatchObject({
      specversion: "1.0",
      type: "tdt.ping",
      source: "https://tdt.example.com",
      datacontenttype: "application/json",
    });
    expect(receiver.badSignatures).toBe(0);
    await attemptsLogged((line) => line.delivery_id === ping.body.delivery_id, "the ping's attempt");
    const log = await call<Delivery[]>("GET", `/api/v1/webhooks/${endpoint.id}/deliveries`);
    expect(log.body).toEqual([
      expect.objectContaining({ id: ping.body.delivery_id, type: "tdt.ping", state: "delivered" }),
    ]);
    expect(log.body[0]?.attempts).toEqual([expect.objectContaining({ status: 204 })]);
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  });

  it("deliver a session's events in order as CloudEvents, and a tree's new version", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started", "tdt.session.completed", "tdt.tree.published"]);
    const session = await sessionRun();
    const changed = await running.client.call<{ id: string; version: number }>("PUT", `/api/v1/trees/${treeId}`, {
      token: engineer,
      json: { ...printerTree({ title: "Printer prints nothing (v2)" }), version: 1 },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    await receiver.until(() => receiver.applied.length === 3, "three events");
    expectInOrder(receiver, [session]);
    const completed = receiver.applied.find((event) => event.type === "tdt.session.completed");
    expect(completed).toMatchObject({
      specversion: "1.0",
      source: "https://tdt.example.com",
      subject: session,
      data: {
        session_id: session,
        tree_id: treeId,
        outcome: "escalated",
        report_url: `https://tdt.example.com/api/v1/sessions/${session}/export?format=pdf`,
      },
    });
    // The report in Markdown, the same as its export (the export is the engineer's to read).
    const exported = await fetch(`${running.system.url}/api/v1/sessions/${session}/export?format=markdown`, {
      method: "POST",
      headers: { authorization: `Bearer ${engineer}` },
    });
    expect(exported.status).toBe(200);
    const markdown = await exported.text();
    expect(markdown).toContain("Handed to the vendor");
    expect(completed?.data.report_markdown).toBe(markdown);
    expect(receiver.applied.find((event) => event.type === "tdt.tree.published")).toMatchObject({
      subject: treeId,
      data: { tree_id: treeId },
    });
    expect(receiver.badSignatures).toBe(0);
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 60_000);
});

describe("at least once", () => {
  it("loses nothing while the receiver is down for 30 s, and applies nothing twice", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started", "tdt.session.completed"]);
    await receiver.down();
    const sessions: string[] = [];
    for (let index = 0; index < 6; index += 1) sessions.push(await sessionRun());
    // Down for 30 s: the attempts fail and are logged.
    await new Promise((wake) => setTimeout(wake, 30_000));
    const during = await call<Delivery[]>("GET", `/api/v1/webhooks/${endpoint.id}/deliveries?limit=200`);
    expect(during.body).toHaveLength(12);
    expect(during.body.every((delivery) => delivery.state === "pending")).toBe(true);
    expect(
      during.body.some((delivery) => delivery.attempts.some((attempt) => attempt.error === "connection_failed")),
    ).toBe(true);
    await receiver.up();
    await receiver.until(() => receiver.applied.length === 12, "every event after the outage", 90_000);
    expectInOrder(receiver, sessions);
    expect(receiver.badSignatures).toBe(0);
    await attemptsLogged((line) => line.endpoint_id === endpoint.id && answered2xx(line), "12 deliveries answered", {
      count: 12,
    });
    const after = await call<Delivery[]>("GET", `/api/v1/webhooks/${endpoint.id}/deliveries?limit=200`);
    expect(after.body.map((delivery) => delivery.state)).toEqual(Array(12).fill("delivered"));
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 180_000);

  it("loses nothing when the hooks service is killed mid-delivery and restarted", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started", "tdt.session.completed"]);
    // Every answer waits until the kill: it lands while deliveries are in flight.
    let release = () => {};
    receiver.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sessions: string[] = [];
    for (let index = 0; index < 4; index += 1) sessions.push(await sessionRun());
    await receiver.until(() => receiver.inFlight > 0, "a delivery in flight");
    const hooks = running.system.stack.processes.get("hooks");
    const exited = new Promise((resolve) => hooks?.once("exit", resolve));
    hooks?.kill("SIGKILL");
    await exited;
    // Events published while it is down wait in the stream.
    sessions.push(await sessionRun());
    receiver.hold = undefined;
    release();
    await running.system.stack.restart("hooks");
    await receiver.until(() => receiver.applied.length === 10, "every event after the restart", 120_000);
    expectInOrder(receiver, sessions);
    expect(receiver.badSignatures).toBe(0);
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 180_000);
});

describe("secrets and endpoints' health", () => {
  it("rotation: both signatures during the overlap, each verifying under its own secret", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started"]);
    const old = receiver.secrets[0] as string;
    const rotated = await call<{ secret: string }>("POST", `/api/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(old);
    // A receiver that knows only one of the two, either one, still verifies every delivery.
    receiver.secrets = [rotated.body.secret];
    await sessionRun();
    await receiver.until(() => receiver.applied.length === 1, "a delivery under the new secret");
    receiver.secrets = [old];
    await sessionRun();
    await receiver.until(() => receiver.applied.length === 2, "a delivery under the old secret");
    expect(receiver.badSignatures).toBe(0);
    expect(receiver.signatureCounts).toEqual([2, 2]);
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 60_000);

  it("410 Gone disables the endpoint (reason gone); enabling it again sends what waited", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started"]);
    receiver.status = 410;
    await sessionRun();
    await attemptsLogged((line) => line.endpoint_id === endpoint.id && line.status === 410, "the 410 attempt");
    const read = await call<WebhookBody>("GET", `/api/v1/webhooks/${endpoint.id}`);
    expect(read.body).toMatchObject({ enabled: false, disabled_reason: "gone" });
    // While disabled, events still queue and wait.
    const later = await sessionRun();
    receiver.status = 204;
    const enabled = await call<WebhookBody>("PATCH", `/api/v1/webhooks/${endpoint.id}`, { json: { enabled: true } });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true });
    expect(enabled.body).not.toHaveProperty("disabled_reason");
    // The 410'd delivery is pending again with its next attempt; the later session's comes too.
    await receiver.until(() => receiver.applied.some((event) => event.subject === later), "the waiting delivery");
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 60_000);

  it("redelivers one delivery, or every one since a time, with the same webhook-id", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started"]);
    const since = new Date().toISOString();
    await sessionRun();
    await sessionRun();
    await receiver.until(() => receiver.applied.length === 2, "two deliveries");
    const log = await call<Delivery[]>("GET", `/api/v1/webhooks/${endpoint.id}/deliveries`);
    const first = log.body[1] as Delivery;
    const one = await call<{ queued: number }>(
      "POST",
      `/api/v1/webhooks/${endpoint.id}/deliveries/${first.id}/redeliver`,
    );
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ queued: 1 });
    await receiver.until(() => receiver.repeats === 1, "the redelivery");
    const all = await call<{ queued: number }>("POST", `/api/v1/webhooks/${endpoint.id}/redeliver`, {
      json: { since },
    });
    expect(all.status).toBe(202);
    expect(all.body).toEqual({ queued: 2 });
    await receiver.until(() => receiver.repeats === 3, "both again");
    // A receiver that dedupes applied each once.
    expect(receiver.applied).toHaveLength(2);
    const missing = await call(
      "POST",
      `/api/v1/webhooks/${endpoint.id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`,
    );
    expect(missing.status).toBe(404);
    await call("DELETE", `/api/v1/webhooks/${endpoint.id}`);
    await receiver.down();
  }, 60_000);
});

describe("organizations", () => {
  it("keep their endpoints apart: another organization's endpoint is 404 and hears none of its events", async () => {
    const receiver = new Receiver();
    await receiver.up();
    const endpoint = await register(receiver, ["tdt.session.started"]);
    const authDb = connect(running.system.databases.auth.url);
    try {
      const adminB = await running.client.user("admin-b");
      const org = await makeOrganization(authDb, [{ id: adminB.id, role: "admin" }]);
      const switched = await running.client.call<{ access_token: string }>("POST", "/api/v1/auth/switch-organization", {
        token: adminB.tokens.access_token,
        json: { organization_id: org.id },
      });
      expect(switched.status).toBe(200);
      const tokenB = switched.body.access_token;
      expect(claimsOf(tokenB)).toMatchObject({ org: org.id, role: "admin" });
      for (const [method, path] of [
        ["GET", `/api/v1/webhooks/${endpoint.id}`],
        ["GET", `/api/v1/webhooks/${endpoint.id}/deliveries`],
        ["POST", `/api/v1/webhooks/${endpoint.id}/ping`],
        ["POST", `/api/v1/webhooks/${endpoint.id}/rotate-secret`],
        ["DELETE", `/api/v1/webhooks/${endpoint.id}`],
      ] as const) {
        const answer = await call(method, path, { token: tokenB });
        expect(answer.status, `${method} ${path}`).toBe(404);
      }
      const listed = await call<WebhookBody[]>("GET", "/api/v1/webhooks", { token: tokenB });
      expect(listed.body).toEqual([]);
      // B's own endpoint on the same receiver hears nothing of A's sessions.
      const own = await call<WebhookBody>("POST", "/api/v1/webhooks", {
        token: tokenB,
        json: { url: receiver.url, events: ["tdt.session.started"] },
      });
      expect(own.status).toBe(201);
      receiver.secrets = [...receiver.secrets, own.body.secret as string];
      const session = await sessionRun();
      await receiver.until(() => receiver.applied.some((event) => event.subject === session), "A's event");
      await new Promise((wake) => setTimeout(wake, 1_000));
      expect(receiver.applied.filter((event) => event.subject === session)).toHaveLength(1);
      const logB = await call<Delivery[]>("GET", `/api/v1/webhooks/${own.body.id}/deliveries`, { token: tokenB });
      expect(logB.body).toEqual([]);
    } finally {
      await authDb.end();
    }
    await receiver.down();
  }, 60_000);
});

describe("the README's receiver", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));

  it("runs as written (on a free port) and prints a completed session's report once", async () => {
    const readme = await readFile(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Integrations"));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("new Webhook(process.env.TDT_WEBHOOK_SECRET)");
    const port = await freePort();
    // Inside the repository, so that its `standardwebhooks` resolves as in a receiver's own project.
    await mkdir(join(root, "node_modules/.cache"), { recursive: true });
    const folder = await mkdtemp(join(root, "node_modules/.cache/readme-receiver-"));
    const file = join(folder, "receiver.mjs");
    await writeFile(file, (code as string).replace(".listen(3000)", `.listen(${port})`));
    const made = await call<WebhookBody>("POST", "/api/v1/webhooks", {
      json: { url: `http://127.0.0.1:${port}/`, events: ["tdt.session.completed"] },
    });
    expect(made.status).toBe(201);
    let output = "";
    const printed = new Changes();
    const child: ChildProcess = spawn(process.execPath, [file], {
      env: { ...process.env, TDT_WEBHOOK_SECRET: made.body.secret },
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      printed.notify();
    });
    try {
      // It prints nothing when it listens: its port opening is the sign.
      await untilPortOpen("127.0.0.1", port, 60_000);
      await sessionRun();
      await printed.until(() => output.includes("Handed to the vendor"), "the report printed");
      // Redelivered: the receiver answers 2xx and prints nothing again.
      const log = await call<Delivery[]>("GET", `/api/v1/webhooks/${made.body.id}/deliveries`);
      const delivery = log.body.find((entry) => entry.type === "tdt.session.completed") as Delivery;
      const itsAnswers = (line: Record<string, unknown>) => line.delivery_id === delivery.id && answered2xx(line);
      await attemptsLogged(itsAnswers, "the delivery answered");
      const first = await call<Delivery[]>("GET", `/api/v1/webhooks/${made.body.id}/deliveries`);
      expect(first.body.find((entry) => entry.id === delivery.id)?.state).toBe("delivered");
      await call("POST", `/api/v1/webhooks/${made.body.id}/deliveries/${delivery.id}/redeliver`);
      await attemptsLogged(itsAnswers, "the redelivery answered", { count: 2 });
      const again = await call<Delivery[]>("GET", `/api/v1/webhooks/${made.body.id}/deliveries`);
      const entry = again.body.find((candidate) => candidate.id === delivery.id);
      expect(entry?.state).toBe("delivered");
      expect(entry?.attempts).toHaveLength(2);
      expect(output.split("Handed to the vendor").length - 1).toBe(1);
    } finally {
      child.kill();
      await rm(folder, { recursive: true, force: true });
      await call("DELETE", `/api/v1/webhooks/${made.body.id}`);
    }
  }, 60_000);
});

describe("a receiver's name", () => {
  it("is resolved again at every attempt: one that turned private since registration is refused, unconnected", async () => {
    // Public when registered: accepted.
    dns.records.set("rebind.tdt.test", "93.184.216.34");
    const made = await call<WebhookBody>("POST", "/api/v1/webhooks", {
      json: { url: "https://rebind.tdt.test/hook", events: ["tdt.session.started"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    // Private by the time a delivery goes: refused by the address guard, before any connection.
    dns.records.set("rebind.tdt.test", "10.0.0.7");
    const askedBefore = dns.asked.filter((name) => name === "rebind.tdt.test").length;
    const ping = await call<{ delivery_id: string }>("POST", `/api/v1/webhooks/${made.body.id}/ping`);
    expect(ping.status).toBe(202);
    await attemptsLogged((line) => line.delivery_id === ping.body.delivery_id, "the attempt");
    const log = await call<Delivery[]>("GET", `/api/v1/webhooks/${made.body.id}/deliveries`);
    expect(log.body[0]?.state).toBe("pending");
    expect(log.body[0]?.attempts[0]).toMatchObject({ error: "address_not_allowed" });
    expect(log.body[0]?.attempts[0]).not.toHaveProperty("status");
    expect(dns.asked.filter((name) => name === "rebind.tdt.test").length).toBeGreaterThan(askedBefore);
    // Registered now, the same name is refused at once.
    const refused = await call<{ detail: Array<{ loc: string[]; type: string }> }>("POST", "/api/v1/webhooks", {
      json: { url: "https://rebind.tdt.test/other", events: ["tdt.session.started"] },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toEqual([
      expect.objectContaining({ loc: ["body", "url"], type: "url_address_not_allowed" }),
    ]);
    await call("DELETE", `/api/v1/webhooks/${made.body.id}`);
  });

  it("that resolves to an address WEBHOOK_ALLOW_PRIVATE lists is delivered to, at the address checked", async () => {
    const receiver = new Receiver();
    await receiver.up();
    dns.records.set("receiver.tdt.test", "127.0.0.1");
    const made = await call<WebhookBody>("POST", "/api/v1/webhooks", {
      json: { url: `http://receiver.tdt.test:${receiver.port}/hooks`, events: ["tdt.session.started"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    receiver.secrets = [made.body.secret as string];
    await call("POST", `/api/v1/webhooks/${made.body.id}/ping`);
    await receiver.until(() => receiver.applied.length === 1, "the ping by name");
    expect(receiver.badSignatures).toBe(0);
    await call("DELETE", `/api/v1/webhooks/${made.body.id}`);
    await receiver.down();
  });
});
