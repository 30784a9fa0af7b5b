/**
 * Issue 23, safe defaults of `npm start`, with the real run command: everything on loopback
 * unless told otherwise, a first admin whose password nobody else knows, and mail that lands
 * in the data folder with one line in the terminal, whose link a newcomer follows.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { freePort } from "@tdt/test-support/ports";
import { markedProcesses } from "@tdt/test-support/processes";
import { runCommandEnvironment, spawnRunCommand } from "@tdt/test-support/run-command";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let nats: PrivateNats;
let dataDir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  nats = await startPrivateNats();
  dataDir = await mkdtemp(join(tmpdir(), "tdt-start-data-"));
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await nats?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

/** "connected" or the error code of a TCP connection to host:port. */
function dial(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    const settle = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => settle("connected"));
    socket.once("error", (error: NodeJS.ErrnoException) => settle(error.code ?? "error"));
    socket.once("timeout", () => settle("timeout"));
  });
}

async function login(gatewayPort: number, email: string, password: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/auth/login/json`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  return response.status;
}

/** The environment of one of the runner's processes, from /proc. */
async function environmentOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    text
      .split("\0")
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  );
}

describe("npm start's defaults", () => {
  it("listens on loopback only, makes a first admin password for its data folder, and catches mail", async () => {
    const metricsPorts = { gateway: 0, auth: 0, trees: 0, sessions: 0, hooks: 0 };
    for (const service of Object.keys(metricsPorts) as Array<keyof typeof metricsPorts>) {
      metricsPorts[service] = await freePort();
    }
    const { env, marker, ports } = await runCommandEnvironment(nats, cleanups, {
      label: "defaults",
      extra: {
        TDT_DATA_DIR: dataDir,
        GATEWAY_METRICS_PORT: String(metricsPorts.gateway),
        AUTH_METRICS_PORT: String(metricsPorts.auth),
        TREES_METRICS_PORT: String(metricsPorts.trees),
        SESSIONS_METRICS_PORT: String(metricsPorts.sessions),
        HOOKS_METRICS_PORT: String(metricsPorts.hooks),
      },
    });
    // What a newcomer has: no hosts, no password, no SMTP server of their own.
    for (const unset of ["GATEWAY_HOST", "METRICS_HOST", "GRPC_BIND_HOST", "SMTP_URL", "PUBLIC_URL", "METRICS_TOKEN"]) {
      delete env[unset];
    }
    const first = spawnRunCommand(env, cleanups);
    await expect.poll(first.output, { timeout: 60_000, interval: 200 }).toContain("[start] TDT is up.");

    // Every port of its own, the gateway's and the metrics ports included, answers on 127.0.0.1 alone.
    for (const port of [...Object.values(ports), ...Object.values(metricsPorts)]) {
      expect(await dial("127.0.0.1", port), `port ${port}`).toBe("connected");
      expect(await dial("127.0.0.2", port), `port ${port}`).toBe("ECONNREFUSED");
    }

    // The first admin: a password made for this data folder, shown once, kept 0600.
    const passwordFile = join(dataDir, "admin-password");
    const password = (await readFile(passwordFile, "utf8")).trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(
      `Admin:    admin@example.com / ${password}  (new, shown only this once; kept in ${passwordFile})`,
    );
    expect(await login(ports.gateway, "admin@example.com", password)).toBe(200);
    expect(await login(ports.gateway, "admin@example.com", "admin-password")).toBe(401);

    // Mail: a catcher on loopback, whose URL auth gets, and one line per message.
    const mailFolder = join(dataDir, "mail");
    const announced = new RegExp(
      `\\[start\\] Mail: no SMTP_URL, so (smtp://127\\.0\\.0\\.1:\\d+) keeps every message in ${mailFolder}/ \\(one \\[mail\\] line each\\)\\.`,
    ).exec(first.output());
    expect(announced, first.output()).not.toBeNull();
    const smtpUrl = announced?.[1] as string;
    expect(first.output()).toContain(`Mail:     lands in ${mailFolder}/ (set SMTP_URL to send it)`);
    const auth = (await markedProcesses(marker)).find((process) =>
      process.command.endsWith("services/auth/dist/main.js"),
    );
    expect(auth).toBeDefined();
    const authEnv = await environmentOf(auth?.pid as number);
    expect(authEnv.SMTP_URL).toBe(smtpUrl);
    // Mailed links lead to this gateway, whatever its port.
    expect(authEnv.PUBLIC_URL).toBe(`http://localhost:${ports.gateway}`);

    // A newcomer registers; the verification mail is one line in the terminal, its link to click.
    const email = `newcomer-${Date.now()}@example.com`;
    const registered = await fetch(`http://127.0.0.1:${ports.gateway}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "a-long-password", full_name: "New Comer" }),
    });
    expect(registered.status).toBe(202);
    const mailed = new RegExp(
      `^\\[mail\\] to ${email.replace(/\./g, "\\.")}: "Confirm your email address for TDT" (http://localhost:${ports.gateway}/verify-email\\?token=\\S+)$`,
      "m",
    );
    await expect.poll(() => mailed.test(first.output()), { timeout: 15_000 }).toBe(true);
    const link = new URL(mailed.exec(first.output())?.[1] as string);
    const verified = await fetch(`http://127.0.0.1:${ports.gateway}/api/v1/auth/verify-email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: link.searchParams.get("token") }),
    });
    expect(verified.status).toBe(204);
    expect(await login(ports.gateway, email, "a-long-password")).toBe(200);
    // The message as it came, in a file of its own (its text quoted-printable, as nodemailer wrote it).
    const files = await readdir(mailFolder);
    expect(files).toEqual([expect.stringMatching(/\.eml$/)]);
    const eml = await readFile(join(mailFolder, files[0] as string), "utf8");
    expect(eml).toMatch(/^Subject: Confirm your email address for TDT\r?$/m);
    expect(eml).toMatch(new RegExp(`^To: ${email.replace(/\./g, "\\.")}\r?$`, "m"));

    process.kill(-(first.child.pid as number), "SIGINT");
    expect(await first.exited).toEqual({ code: 0, signal: null });

    // A later start on the same data folder: the same password, and only where it is kept.
    const later = spawnRunCommand(env, cleanups);
    await expect.poll(later.output, { timeout: 60_000, interval: 200 }).toContain("[start] TDT is up.");
    expect(later.output()).toContain(`Admin:    admin@example.com (password kept in ${passwordFile})`);
    expect(later.output()).not.toContain(password);
    expect(await login(ports.gateway, "admin@example.com", password)).toBe(200);
    process.kill(-(later.child.pid as number), "SIGINT");
    expect(await later.exited).toEqual({ code: 0, signal: null });
  }, 180_000);

  it("uses ADMIN_PASSWORD and SMTP_URL when given, and then keeps no password and starts no catcher", async () => {
    const ownData = await mkdtemp(join(tmpdir(), "tdt-start-given-"));
    cleanups.push(() => rm(ownData, { recursive: true, force: true }));
    const smtpPort = await freePort();
    const { env, ports } = await runCommandEnvironment(nats, cleanups, {
      label: "given",
      extra: {
        TDT_DATA_DIR: ownData,
        ADMIN_EMAIL: "boss@example.com",
        ADMIN_PASSWORD: "a-chosen-password",
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      },
    });
    const runner = spawnRunCommand(env, cleanups);
    await expect.poll(runner.output, { timeout: 60_000, interval: 200 }).toContain("[start] TDT is up.");
    expect(runner.output()).toContain("Admin:    boss@example.com (password from ADMIN_PASSWORD)");
    expect(runner.output()).toContain(`Mail:     sent through smtp://127.0.0.1:${smtpPort}`);
    expect(runner.output()).not.toContain("no SMTP_URL");
    expect(await login(ports.gateway, "boss@example.com", "a-chosen-password")).toBe(200);
    expect(await readdir(ownData)).not.toContain("admin-password");
    expect(await readdir(ownData)).not.toContain("mail");
    process.kill(-(runner.child.pid as number), "SIGINT");
    expect(await runner.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
