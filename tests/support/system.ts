/**
 * The whole system for a system test: the services as real processes on free ports,
 * each backend on its own fresh database and its own NATS user on a private NATS that runs the
 * shipped config (so the NATS permissions hold in every system test), reached through the
 * gateway over HTTP.
 */
import { randomBytes } from "node:crypto";
import { type RunningStack, type ServiceName, startStack } from "../../scripts/stack.js";
import { api } from "./api.js";
import type { Certificates } from "./certificates.js";
import { Changes } from "./changes.js";
import { connect, createDatabase, dropDatabase } from "./database.js";
import { type Mailbox, startMailbox } from "./mailbox.js";
import { type PrivateNats, startPrivateNats } from "./nats.js";
import { freePort } from "./ports.js";
import { printerTree } from "./trees.js";

export interface System {
  url: string;
  /** Where each backend service listens, for tests that call it directly over gRPC. */
  addresses: Record<"auth" | "trees" | "sessions" | "hooks", string>;
  stack: RunningStack;
  /** The private NATS of this system: a test may stop and start it. */
  nats: PrivateNats;
  databases: Record<"auth" | "trees" | "sessions" | "hooks", { name: string; url: string }>;
  /** Every log line so far, parsed, with the service that wrote it. */
  logs: LogEntry[];
  /**
   * The first `count` lines (of all so far, and then as they come) that `match` accepts, once
   * there are that many: for waiting on what a service logs when it has done something.
   */
  waitForLogs(
    match: (entry: LogEntry) => boolean,
    what: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<LogEntry[]>;
  /** The SMTP server auth sends mail to (none when the test gave its own SMTP_URL). */
  mailbox: Mailbox | undefined;
  stop(): Promise<void>;
}

export interface LogEntry {
  service: ServiceName;
  line: Record<string, unknown>;
}

export interface SystemOptions {
  /** Mutual TLS on gRPC: each service runs with its own certificate from here. */
  certificates?: Certificates;
}

export async function startSystem(extraEnv: Record<string, string> = {}, options: SystemOptions = {}): Promise<System> {
  const nats = await startPrivateNats();
  // Mail goes to a real SMTP server of the system's own, unless the test brings one.
  const mailbox = extraEnv.SMTP_URL === undefined ? await startMailbox() : undefined;
  const [auth, trees, sessions, hooks] = await Promise.all([
    createDatabase("auth"),
    createDatabase("trees"),
    createDatabase("sessions"),
    createDatabase("hooks"),
  ]);
  const [gatewayPort, authPort, treesPort, sessionsPort, hooksPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const logs: System["logs"] = [];
  const logged = new Changes();
  const raw: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: "info",
    NATS_URL: nats.url,
    AUTH_DATABASE_URL: auth.url,
    TREES_DATABASE_URL: trees.url,
    SESSIONS_DATABASE_URL: sessions.url,
    HOOKS_DATABASE_URL: hooks.url,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_HOST: "127.0.0.1",
    AUTH_PORT: String(authPort),
    TREES_PORT: String(treesPort),
    SESSIONS_PORT: String(sessionsPort),
    HOOKS_PORT: String(hooksPort),
    // The tests' receivers listen on loopback.
    WEBHOOK_ALLOW_PRIVATE: "127.0.0.0/8",
    ...(mailbox ? { SMTP_URL: mailbox.url, MAIL_FROM: "TDT <tdt@example.com>" } : {}),
    ...extraEnv,
  };
  const dropAll = async () => {
    await Promise.all([auth, trees, sessions, hooks].map((db) => dropDatabase(db.name)));
    await nats.dispose();
    await mailbox?.close();
  };
  let stack: RunningStack;
  try {
    const { certificates } = options;
    // Each service's own NATS user, and under mutual TLS its own certificate.
    const serviceEnv = Object.fromEntries(
      (["gateway", "auth", "trees", "sessions", "hooks"] as const).map((name) => [
        name,
        { ...nats.serviceEnv[name], ...certificates?.env(name) },
      ]),
    );
    stack = await startStack({
      env,
      serviceEnv,
      readyTimeoutMs: 60_000,
      onLine: (service, line) => {
        raw.push(`${service}: ${line}`);
        try {
          logs.push({ service, line: JSON.parse(line) as Record<string, unknown> });
        } catch {
          logs.push({ service, line: { msg: line, unparsed: true } });
        }
        logged.notify();
      },
    });
  } catch (error) {
    await dropAll();
    throw new Error(`system did not start: ${String(error)}\n${raw.slice(-30).join("\n")}`);
  }
  return {
    url: stack.gatewayUrl,
    addresses: {
      auth: `127.0.0.1:${env.AUTH_PORT}`,
      trees: `127.0.0.1:${env.TREES_PORT}`,
      sessions: `127.0.0.1:${env.SESSIONS_PORT}`,
      hooks: `127.0.0.1:${env.HOOKS_PORT}`,
    },
    stack,
    nats,
    databases: { auth, trees, sessions, hooks },
    logs,
    waitForLogs: (match, what, { count = 1, timeoutMs = 60_000 } = {}) => {
      const found: LogEntry[] = [];
      let next = 0;
      return logged.until(
        () => {
          for (; next < logs.length && found.length < count; next += 1) {
            const entry = logs[next] as LogEntry;
            if (match(entry)) found.push(entry);
          }
          return found.length >= count && found;
        },
        what,
        timeoutMs,
      );
    },
    mailbox,
    stop: async () => {
      await stack.stop();
      await dropAll();
      // Every error code a route answered with must be one its OpenAPI entry lists (declared-errors.ts).
      const undeclared = logs.filter(({ line }) => line.msg === "undeclared error code").map(({ line }) => line);
      if (undeclared.length > 0) {
        throw new Error(`the gateway answered with undocumented error codes: ${JSON.stringify(undeclared)}`);
      }
    },
  };
}

/** Reads from one service's database, for assertions about what it stored. */
export async function queryDatabase<T>(
  url: string,
  query: (sql: ReturnType<typeof connect>) => Promise<T>,
): Promise<T> {
  const sql = connect(url);
  try {
    return await query(sql);
  } finally {
    await sql.end();
  }
}

export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

export interface SystemWithAdmin {
  system: System;
  /** The private NATS of this system: a test may stop and start it. */
  nats: PrivateNats;
  client: ReturnType<typeof api>;
  /** An access token of the first admin. */
  admin: string;
  stop(): Promise<void>;
}

/**
 * The usual system of a system test or benchmark: a private NATS, the first admin logged in,
 * and login rate limits and the login throttle out of the way (many users register, and log in, from one address).
 */
export async function startSystemWithAdmin(
  extraEnv: Record<string, string> = {},
  options: SystemOptions = {},
): Promise<SystemWithAdmin> {
  const system = await startSystem(
    {
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOGIN_RATE_LIMIT_PER_MINUTE: "1000000",
      LOGIN_FREE_FAILURES: "1000000",
      // Organizations may add single sign-on providers (their secrets are kept under it).
      OIDC_SECRET_KEY: randomBytes(32).toString("hex"),
      ...extraEnv,
    },
    options,
  );
  const client = api(system.url, system.mailbox);
  const admin = (await client.login(ADMIN.email, ADMIN.password)).access_token;
  return { system, nats: system.nats, client, admin, stop: () => system.stop() };
}

/** A new engineer of `running`'s organization and the printer tree they made (published), for tests that run sessions. */
export async function engineerWithTree(running: SystemWithAdmin): Promise<{ engineer: string; treeId: string }> {
  const engineer = await running.client.engineer(running.admin);
  const tree = await running.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: printerTree(),
  });
  if (tree.status !== 201) throw new Error(`the tree was not made: ${tree.status} ${JSON.stringify(tree.body)}`);
  return { engineer, treeId: tree.body.id };
}

/** A system with its admin, an engineer and a technician (named `technician`), each signed in. */
export interface SystemWithTeam extends SystemWithAdmin {
  engineer: string;
  technician: string;
}

export async function startSystemWithTeam(technician: string): Promise<SystemWithTeam> {
  const running = await startSystemWithAdmin();
  try {
    const engineer = await running.client.engineer(running.admin);
    const user = await running.client.user(technician);
    return { ...running, engineer, technician: user.tokens.access_token };
  } catch (error) {
    await running.stop();
    throw error;
  }
}
