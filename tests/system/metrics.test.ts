/**
 * Issue 13's metrics with real processes: each process serves Prometheus text on a port of its
 * own (never on the gateway's public port), with the named metrics, and the numbers move by
 * exactly what the traffic of the test did.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { freePort } from "@tdt/test-support/ports";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SERVICES = ["gateway", "auth", "trees", "sessions", "hooks"] as const;
type Service = (typeof SERVICES)[number];

let running: SystemWithAdmin;
const ports = {} as Record<Service, number>;

/** One sample of a scrape: the metric's name, its labels and its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(service: Service): Promise<{ text: string; contentType: string; samples: Sample[] }> {
  const response = await fetch(`http://127.0.0.1:${ports[service]}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { text, contentType: response.headers.get("content-type") ?? "", samples };
}

/** The sum of the samples of `name` whose labels include `labels`. */
async function total(service: Service, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { samples } = await scrape(service);
  return samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

beforeAll(async () => {
  for (const service of SERVICES) ports[service] = await freePort();
  running = await startSystemWithAdmin({
    GATEWAY_METRICS_PORT: String(ports.gateway),
    AUTH_METRICS_PORT: String(ports.auth),
    TREES_METRICS_PORT: String(ports.trees),
    SESSIONS_METRICS_PORT: String(ports.sessions),
    HOOKS_METRICS_PORT: String(ports.hooks),
    METRICS_HOST: "127.0.0.1",
  });
});

afterAll(async () => {
  await running?.stop();
});

describe("metrics", () => {
  it("each process serves Prometheus text on its own port, and the public port serves none", async () => {
    for (const service of SERVICES) {
      const { contentType, text } = await scrape(service);
      expect(contentType).toContain("text/plain");
      expect(text).toContain(`service_name="tdt-${service}"`);
    }
    const gateway = await fetch(`${running.system.url}/metrics`);
    expect(gateway.status).toBe(404);
    const elsewhere = await fetch(`http://127.0.0.1:${ports.gateway}/elsewhere`);
    expect(elsewhere.status).toBe(404);
    // The system keeps serving after that.
    expect((await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).status).toBe(200);
  });

  it("a metrics port already taken stops a process at start, with one line naming it", async () => {
    const gateway = fileURLToPath(new URL("../../services/gateway/dist/main.js", import.meta.url));
    const child = spawn(process.execPath, [gateway], {
      env: {
        ...process.env,
        GATEWAY_PORT: String(await freePort()),
        GATEWAY_HOST: "127.0.0.1",
        GATEWAY_METRICS_PORT: String(ports.gateway),
        METRICS_HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    const fatal = output
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: { message: string } })
      .filter((line) => line.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.err?.message).toContain(`metrics port 127.0.0.1:${ports.gateway} cannot be used`);
    // The system's own metrics server is untouched.
    expect((await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).status).toBe(200);
  });

  it("counts webhook attempts by outcome, on the hooks service", async () => {
    const { client, admin } = running;
    const receiver = createServer((_request, response) => response.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    const closed = await freePort();
    const outcome = (name: string) => total("hooks", "tdt_webhook_attempts_total", { outcome: name });
    const [deliveredBefore, refusedBefore] = [await outcome("delivered"), await outcome("connection_failed")];
    try {
      for (const url of [`http://127.0.0.1:${port}/hooks`, `http://127.0.0.1:${closed}/hooks`]) {
        const made = await client.call<{ id: string }>("POST", "/api/v1/webhooks", {
          token: admin,
          json: { url, events: ["tdt.tree.deleted"] },
        });
        expect(made.status).toBe(201);
        expect((await client.call("POST", `/api/v1/webhooks/${made.body.id}/ping`, { token: admin })).status).toBe(202);
      }
      await expect.poll(() => outcome("delivered"), { timeout: 10_000 }).toBe(deliveredBefore + 1);
      // The closed port's first attempt (its retries come after 5 s).
      await expect.poll(() => outcome("connection_failed"), { timeout: 10_000 }).toBe(refusedBefore + 1);
      expect(await total("hooks", "tdt_webhook_attempt_duration_count")).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("counts logins and refreshes by outcome, and rate-limit refusals", async () => {
    const { client } = running;
    const account = await client.register();
    const okBefore = await total("auth", "tdt_auth_logins_total", { outcome: "ok" });
    const badBefore = await total("auth", "tdt_auth_logins_total", { outcome: "invalid_credentials" });
    const pair = await client.login(account.email, account.password);
    await client.login(account.email, account.password);
    const wrong = await client.call("POST", "/api/v1/auth/login/json", {
      json: { email: account.email, password: "not-the-password" },
    });
    expect(wrong.status).toBe(401);
    expect(await total("auth", "tdt_auth_logins_total", { outcome: "ok" })).toBe(okBefore + 2);
    expect(await total("auth", "tdt_auth_logins_total", { outcome: "invalid_credentials" })).toBe(badBefore + 1);

    const refreshed = await client.call("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: pair.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(await total("auth", "tdt_auth_refreshes_total", { outcome: "ok" })).toBe(1);
    const forged = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: "not.a.token" } });
    expect(forged.status).toBe(401);
    expect(await total("auth", "tdt_auth_refreshes_total")).toBe(2);
  });

  it("times HTTP requests by route template and gRPC calls on both sides", async () => {
    const { client, admin } = running;
    const created = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: admin, json: printerTree() });
    expect(created.status).toBe(201);
    const route = { http_route: "/api/v1/trees/:id", http_request_method: "GET" };
    const before = await total("gateway", "http_server_request_duration_count", route);
    const treesBefore = await total("trees", "rpc_server_duration_count", { rpc_method: "GetTree" });
    for (let i = 0; i < 3; i++) {
      expect((await client.call("GET", `/api/v1/trees/${created.body.id}`, { token: admin })).status).toBe(200);
    }
    expect(await total("gateway", "http_server_request_duration_count", route)).toBe(before + 3);
    // Never the raw URL: the tree's id is in no label.
    expect((await scrape("gateway")).text).not.toContain(created.body.id);
    // The answer is cached after the first read: the trees service served one, the gateway's client made one.
    expect(await total("trees", "rpc_server_duration_count", { rpc_method: "GetTree" })).toBe(treesBefore + 1);
    expect(
      await total("gateway", "rpc_client_duration_count", {
        rpc_method: "GetTree",
        rpc_grpc_status_code: "0",
      }),
    ).toBeGreaterThanOrEqual(1);
    const lookups = await total("gateway", "tdt_cache_lookups_total", {
      tdt_cache_name: "tree_answers",
      tdt_cache_result: "hit",
    });
    expect(lookups).toBeGreaterThanOrEqual(2);

    const missing = await client.call("GET", "/api/v1/trees/00000000-0000-4000-8000-000000000000", { token: admin });
    expect(missing.status).toBe(404);
    expect(
      await total("trees", "rpc_server_duration_count", {
        rpc_method: "GetTree",
        rpc_grpc_status_code: "5",
      }),
    ).toBe(1);
  });

  it("shows the database pools, the outbox and the consumers catching up with a logout", async () => {
    const { client } = running;
    for (const service of ["auth", "trees", "sessions"] as const) {
      const { samples } = await scrape(service);
      const states = samples.filter((sample) => sample.name === "db_client_connection_count");
      expect(states.map((sample) => sample.labels.db_client_connection_state).sort()).toEqual(["idle", "used"]);
      expect(samples.some((sample) => sample.name === "db_client_connection_pending_requests")).toBe(true);
    }
    const relayedBefore = await total("auth", "tdt_outbox_relayed_total", {
      messaging_destination_name: "auth.session.revoked",
    });
    const user = await client.user("metrics");
    const logout = await client.call("POST", "/api/v1/auth/logout", { token: user.tokens.access_token });
    expect(logout.status).toBe(204);
    // The relay sends the event, nothing waits any more, and every process's revocation list has it.
    await expect
      .poll(() => total("auth", "tdt_outbox_relayed_total", { messaging_destination_name: "auth.session.revoked" }), {
        timeout: 10_000,
      })
      .toBe(relayedBefore + 1);
    await expect.poll(() => total("auth", "tdt_outbox_waiting"), { timeout: 10_000 }).toBe(0);
    expect(await total("auth", "tdt_outbox_oldest_age")).toBe(0);
    for (const service of ["gateway", "trees", "sessions"] as const) {
      await expect.poll(() => total(service, "tdt_revocations_size"), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    }
    // A durable consumer saw it, and nothing is pending for it.
    const lag = (await scrape("sessions")).samples.filter((sample) => sample.name === "tdt_consumer_lag");
    expect(lag.length).toBeGreaterThan(0);
    for (const sample of lag) expect(sample.value).toBe(0);
  });

  it("answers a session step, counted on the sessions service", async () => {
    const { client, admin } = running;
    const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: admin, json: printerTree() });
    const technician = await client.user("metrics-tech");
    const token = technician.tokens.access_token;
    const started = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token,
      json: { tree_id: tree.body.id },
    });
    expect(started.status).toBe(201);
    const before = await total("sessions", "rpc_server_duration_count", { rpc_method: "StepSession" });
    const step = await client.call("PUT", `/api/v1/sessions/${started.body.id}`, {
      token,
      json: { op: "answer", node_id: "power", option_id: "yes" },
    });
    expect(step.status).toBe(200);
    expect(
      await total("sessions", "rpc_server_duration_count", {
        rpc_method: "StepSession",
        rpc_grpc_status_code: "0",
      }),
    ).toBe(before + 1);
    expect(
      await total("gateway", "http_server_request_duration_count", {
        http_route: "/api/v1/sessions/:id",
        http_request_method: "PUT",
        http_response_status_code: "200",
      }),
    ).toBe(1);
  });
});
