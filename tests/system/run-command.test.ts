import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { fileURLToPath } from "node:url";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { HttpBrowser, signInAtIssuer } from "@tdt/test-support/oidc-browser";
import { freePort } from "@tdt/test-support/ports";
import { markedProcesses, processesRunning } from "@tdt/test-support/processes";
import { runCommandEnvironment, spawnRunCommand } from "@tdt/test-support/run-command";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SERVICES, ServiceExitedError, startStack } from "../../scripts/stack.js";

const _START = fileURLToPath(new URL("../../scripts/dist/start.js", import.meta.url));
const SERVICE_FILES = SERVICES.map((name) => `services/${name}/dist/main.js`);

let nats: PrivateNats;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  nats = await startPrivateNats();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await nats?.dispose();
});

const runEnvironment = (extra: Record<string, string> = {}) =>
  runCommandEnvironment(nats, cleanups, { label: "run", extra });
const startRunner = (env: Record<string, string | undefined>) => spawnRunCommand(env, cleanups);

/** A program of someone else's on a port: plain TCP, or HTTP answering 200 to everything. */
async function occupy(port: number, kind: "tcp" | "http"): Promise<void> {
  const server =
    kind === "http"
      ? createHttpServer((_request, response) => response.end('{"status":"ok"}'))
      : createTcpServer((socket) => socket.end());
  await new Promise<void>((listening) => server.listen(port, "127.0.0.1", listening));
  cleanups.push(() => new Promise((closed) => (server as Server).close(closed)));
}

/** After the runner: nothing it started is left, whatever happened. */
async function expectNothingLeft(marker: string) {
  const left = await markedProcesses(marker);
  expect(left).toEqual([]);
}

describe("npm start when a service cannot start", () => {
  it("a gRPC port already taken: exits 1 naming the service and the port, starts nothing", async () => {
    const { env, marker, ports } = await runEnvironment();
    await occupy(ports.trees, "tcp");
    const runner = startRunner(env);
    const { code } = await runner.exited;
    expect(code).toBe(1);
    expect(runner.output()).toContain(
      `[start] cannot start: trees: port ${ports.trees} (TREES_PORT) is already in use by another program`,
    );
    expect(runner.output()).not.toContain("TDT is up");
    await expectNothingLeft(marker);
  });

  it("a metrics port already taken: exits 1 naming the service, the port and its variable", async () => {
    const { env, marker } = await runEnvironment();
    const metrics = await freePort();
    await occupy(metrics, "tcp");
    const runner = startRunner({ ...env, AUTH_METRICS_PORT: String(metrics) });
    const { code } = await runner.exited;
    expect(code).toBe(1);
    expect(runner.output()).toContain(
      `[start] cannot start: auth: port ${metrics} (AUTH_METRICS_PORT) is already in use by another program`,
    );
    expect(runner.output()).not.toContain("TDT is up");
    await expectNothingLeft(marker);
  });

  it("an HTTP server answering 200 on the gateway's port is never taken for TDT", async () => {
    const { env, marker, ports } = await runEnvironment();
    await occupy(ports.gateway, "http");
    const runner = startRunner(env);
    const { code } = await runner.exited;
    expect(code).toBe(1);
    expect(runner.output()).toContain(`gateway: port ${ports.gateway} (GATEWAY_PORT) is already in use`);
    expect(runner.output()).not.toContain("TDT is up");
    await expectNothingLeft(marker);
  });

  it.each([
    ["LOG_LEVEL", "loud", 'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"'],
    ["ACCESS_TOKEN_TTL_SECONDS", "5", "ACCESS_TOKEN_TTL_SECONDS must be between 10 and 86400, got 5"],
  ])(
    "a bad %s: exits 1 with the service's one line naming the variable, every service stopped",
    async (variable, value, line) => {
      const { env, marker } = await runEnvironment({ [variable]: value });
      const runner = startRunner(env);
      const { code } = await runner.exited;
      expect(code).toBe(1);
      expect(runner.output()).toMatch(
        new RegExp(
          `\\[start\\] cannot start: (auth|trees|sessions|hooks|gateway) exited with code 1: configuration error: ${variable} `,
        ),
      );
      expect(runner.output()).toContain(`configuration error: ${line}\n`);
      expect(runner.output()).not.toContain("TDT is up");
      await expectNothingLeft(marker);
    },
    60_000,
  );
});

describe("npm start, up and stopped with Ctrl-C", () => {
  it("is up with its own services, and Ctrl-C drains them and exits 0, leaving nothing", async () => {
    const { env, marker, ports } = await runEnvironment();
    const runner = startRunner(env);
    await runner.printed(/\[start\] TDT is up\./);
    const services = await markedProcesses(marker);
    for (const file of SERVICE_FILES) {
      expect(services.filter((process) => process.command.endsWith(file))).toHaveLength(1);
    }
    expect((await fetch(`http://127.0.0.1:${ports.gateway}/ready`)).status).toBe(200);

    process.kill(-(runner.child.pid as number), "SIGINT");
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    const stoppedLines = runner
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"stopped"'));
    expect(stoppedLines).toHaveLength(SERVICES.length);
    await expectNothingLeft(marker);
  }, 90_000);

  it("OIDC_DEV_ISSUER=true runs the local issuer: a newcomer signs in with any email, and Ctrl-C stops it", async () => {
    const issuerPort = await freePort();
    const { env, ports } = await runEnvironment({ OIDC_DEV_ISSUER: "true", OIDC_DEV_ISSUER_PORT: String(issuerPort) });
    const runner = startRunner(env);
    await runner.printed(/\[start\] TDT is up\./);
    // The web app is opened where the sign-in comes back to: PUBLIC_URL, localhost by default.
    const base = `http://localhost:${ports.gateway}`;
    expect(runner.output()).toContain(`Web app:  ${base}/`);
    const providers = await fetch(`${base}/api/v1/auth/providers`);
    expect(await providers.json()).toEqual([{ id: "dev", name: "the local test issuer (any email)" }]);

    const browser = new HttpBrowser();
    const authorize = await browser.request(`${base}/api/v1/auth/oidc/dev/authorize?return_to=${base}/`);
    expect(authorize.status).toBe(302);
    const email = `newcomer-${Date.now()}@example.com`;
    const callback = await signInAtIssuer(
      browser,
      authorize.headers.get("location") ?? "",
      email,
      `${base}/api/v1/auth/oidc/dev/callback`,
    );
    const back = await browser.request(callback);
    const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
    // The page at return_to trades the code from the same browser (its binding cookie goes along).
    const exchanged = await browser.request(`${base}/api/v1/auth/oidc/exchange`, { json: { code } });
    expect(exchanged.status).toBe(200);
    const { access_token } = (await exchanged.json()) as { access_token: string };
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await me.json()).toMatchObject({ email, role: "technician", has_password: false });

    process.kill(-(runner.child.pid as number), "SIGINT");
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`http://127.0.0.1:${issuerPort}/.well-known/openid-configuration`)).rejects.toThrow();
  }, 90_000);

  it("on Ctrl-C the NATS the runner started stops only after every service has exited", async () => {
    // No NATS_URL: the runner starts its own nats-server, on the shipped config.
    const { env, marker } = await runEnvironment({ NATS_URL: "" });
    const runner = startRunner(env);
    await runner.printed(/\[start\] TDT is up\./);
    const processes = await markedProcesses(marker);
    // nats-server runs with an environment of its own (no marker): found by the port the runner named.
    const natsPort = /with infra\/nats\/nats.conf on port (\d+)/.exec(runner.output())?.[1] ?? "none";
    const [natsServer] = await processesRunning(["-c", "-p", natsPort]);
    expect(natsServer?.command).toContain("nats-server");
    const services = processes.filter((process) => SERVICE_FILES.some((file) => process.command.endsWith(file)));
    expect(services).toHaveLength(SERVICES.length);

    // When each process disappears, in polling order.
    const goneAt = new Map<number, number>();
    let tick = 0;
    process.kill(-(runner.child.pid as number), "SIGINT");
    const watched = [...services, natsServer].map((process) => process?.pid as number);
    while (goneAt.size < watched.length && tick < 3000) {
      tick++;
      const alive = new Set((await processesRunning([])).map((process) => process.pid));
      for (const pid of watched) if (!alive.has(pid) && !goneAt.has(pid)) goneAt.set(pid, tick);
      await new Promise((wake) => setTimeout(wake, 5));
    }
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    const lastService = Math.max(...services.map((process) => goneAt.get(process.pid) as number));
    // Services take a while to drain; NATS goes in the same poll as the last of them at the earliest.
    expect(goneAt.get(natsServer?.pid as number)).toBeGreaterThanOrEqual(lastService);
    await expectNothingLeft(marker);
  }, 90_000);
});

/** The start's error; a stack that came up anyway is stopped, so a failing test leaves nothing behind. */
function startStackExpectingFailure(options: Parameters<typeof startStack>[0]) {
  return startStack(options).then(
    async (stack) => {
      await stack.stop();
      return new Error("the stack came up");
    },
    (error) => error,
  );
}

describe("the stack (what npm start and the system tests use)", () => {
  it("rejects with the service's own reason when its port is taken, and stops the others", async () => {
    const { env, marker, ports } = await runEnvironment();
    await occupy(ports.auth, "tcp");
    const failure = await startStackExpectingFailure({ env, onLine: () => {} });
    expect(failure).toBeInstanceOf(ServiceExitedError);
    expect(failure).toMatchObject({ service: "auth", code: 1 });
    expect(failure.message).toMatch(/^auth exited with code 1: failed to start: .*EADDRINUSE/);
    await expectNothingLeft(marker);
  }, 60_000);

  it("is not up while another server answers 200 on the gateway's port: the gateway's exit fails the start", async () => {
    const { env, marker, ports } = await runEnvironment();
    await occupy(ports.gateway, "http");
    const failure = await startStackExpectingFailure({ env, onLine: () => {} });
    expect(failure).toBeInstanceOf(ServiceExitedError);
    expect(failure.message).toMatch(/^gateway exited with code 1: failed to start: listen EADDRINUSE/);
    await expectNothingLeft(marker);
  }, 60_000);
});
