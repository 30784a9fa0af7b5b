import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import {
  connectNats,
  ensureStream,
  followRevocations,
  type NatsConnection,
  type NatsLink,
  natsLink,
  type RevocationFeed,
  RevocationList,
} from "@tdt/kit";
import { AUTH_EVENTS, AUTH_SUBJECTS, type AuthEvent, encodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findNatsServer,
  generateNatsPasswords,
  type NatsPasswords,
  startNatsServer,
} from "../../../scripts/infrastructure.js";
import { sessionRevoked } from "./support/auth-events.js";
import { FakeAuth } from "./support/fake-auth.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The gateway following the auth events on a private nats-server (SPEC §4.3, §7).
const log = testLogger("revocation-feed-test");
let natsBinary: string;
let natsPort: number;
let passwords: NatsPasswords;
let storeDir: string;
let natsServer: ChildProcess | undefined;
let publisher: NatsConnection | undefined;
let fake: FakeAuth;
let gateway: TestGateway;
let nats: NatsLink;
let feed: RevocationFeed;

async function statusOf(token: string): Promise<number> {
  const response = await gateway.app.inject({
    method: "GET",
    url: "/api/v1/auth/me",
    headers: { authorization: `Bearer ${token}` },
  });
  return response.statusCode;
}

async function publish(item: AuthEvent): Promise<void> {
  await jetstream(publisher as NatsConnection).publish(item.subject, encodeAuthEvent(item), {
    msgID: item.event.event_id,
  });
}

beforeAll(async () => {
  const binary = findNatsServer();
  if (!binary) throw new Error("nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)");
  natsBinary = binary;
  natsPort = await freePort();
  passwords = generateNatsPasswords();
  storeDir = await mkdtemp(join(tmpdir(), "tdt-gateway-nats-"));
  fake = await FakeAuth.start();
  const revocations = new RevocationList(900);
  gateway = await startTestGateway(fake.port, { revocations });
  // NATS is not there yet: the feed waits for it in the background.
  nats = natsLink(
    { natsUrl: `nats://127.0.0.1:${natsPort}`, natsCredentials: { user: "gateway", password: passwords.gateway } },
    "gateway",
    log,
  );
  feed = followRevocations({
    nats,
    revocations,
    accessTokenTtlSeconds: 900,
    log,
  });
});

afterAll(async () => {
  await feed?.close();
  await nats?.close();
  await publisher?.close();
  // The server writes its store until it has exited: its folder goes only after that.
  const exited = natsServer && natsServer.exitCode === null ? once(natsServer, "exit") : undefined;
  natsServer?.kill("SIGTERM");
  await gateway?.close();
  await fake?.stop();
  await exited;
  if (storeDir) await rm(storeDir, { recursive: true, force: true, maxRetries: 5 });
});

describe("revocations from NATS", () => {
  it("serve while NATS is down, then catch up on the events published before the gateway connected", async () => {
    const sid = randomUUID();
    const token = await fake.keys.accessToken({ sid });
    expect(await statusOf(token)).toBe(200);

    natsServer = await startNatsServer(natsBinary, natsPort, storeDir, passwords);
    // Publishing as auth, the one user that may publish auth.>.
    publisher = await connectNats(
      { natsUrl: `nats://127.0.0.1:${natsPort}`, natsCredentials: { user: "auth", password: passwords.auth } },
      "revocation-feed-test",
      log,
    );
    await ensureStream(publisher, AUTH_EVENTS);
    await publish(sessionRevoked(sid));

    // Connecting includes the client's reconnect wait; the next test times the live path.
    await expect.poll(() => statusOf(token), { timeout: 10_000, interval: 100 }).toBe(401);
  });

  it("refuse a token within about a second of its session being revoked", async () => {
    const sid = randomUUID();
    const token = await fake.keys.accessToken({ sid });
    expect(await statusOf(token)).toBe(200);
    await publish(sessionRevoked(sid));
    await expect.poll(() => statusOf(token), { timeout: 1_500, interval: 50 }).toBe(401);
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.json()).toEqual({ detail: "session_revoked" });
  });

  it("refuse the earlier tokens of a deactivated user", async () => {
    const userId = randomUUID();
    const before = await fake.keys.accessToken({ sub: userId, iat: Math.floor(Date.now() / 1000) - 10 });
    expect(await statusOf(before)).toBe(200);
    await publish({
      subject: AUTH_SUBJECTS.userDeactivated,
      event: { event_id: randomUUID(), occurred_at: new Date().toISOString(), user_id: userId },
    });
    await expect.poll(() => statusOf(before), { timeout: 1_500, interval: 50 }).toBe(401);
  });
});
