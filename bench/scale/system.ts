/**
 * The real services (their built `dist`) on the scale benchmark's own databases, which outlive
 * the run (unlike tests/support/system.ts's, which are made fresh and dropped): a private NATS
 * (its own port, store and streams), free ports, the gateway on loopback.
 */
import { randomBytes } from "node:crypto";
import { api } from "@tdt/test-support/api";
import { SERVER_URL, urlOf } from "@tdt/test-support/database";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { freePort } from "@tdt/test-support/ports";
import { ADMIN } from "@tdt/test-support/system";
import postgres from "postgres";
import { type RunningStack, startStack } from "../../scripts/stack.js";

export const SERVICES_WITH_DATABASES = ["auth", "trees", "sessions", "hooks"] as const;
export type Db = (typeof SERVICES_WITH_DATABASES)[number] | "bench";

/** The databases of one fraction: `tdt_scale10_trees`, … and `tdt_scale10_bench` (the loader's own record). */
export function databaseNames(prefix: string): Record<Db, string> {
  return {
    auth: `${prefix}auth`,
    trees: `${prefix}trees`,
    sessions: `${prefix}sessions`,
    hooks: `${prefix}hooks`,
    bench: `${prefix}bench`,
  };
}

export const ownerUrl = (database: string) => urlOf(database);
export { ADMIN, SERVER_URL };

export async function serverSql<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

export interface ScaleSystem {
  url: string;
  stack: RunningStack;
  nats: PrivateNats;
  client: ReturnType<typeof api>;
  /** Every line the services wrote, with the service's name, newest last (kept short). */
  lines: string[];
  stop(): Promise<void>;
}

/**
 * Starts the stack on `prefix`'s databases (made and migrated by the services themselves at
 * their first start). `extraEnv` over the defaults: the gateway's answer cache is off unless the
 * caller turns it on, so that every measured read reaches the services and the databases.
 */
export async function startScaleSystem(prefix: string, extraEnv: Record<string, string> = {}): Promise<ScaleSystem> {
  const names = databaseNames(prefix);
  const nats = await startPrivateNats();
  const [gatewayPort, authPort, treesPort, sessionsPort, hooksPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const lines: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: "warn",
    NATS_URL: nats.url,
    DATABASE_URL: SERVER_URL,
    AUTH_DATABASE_URL: ownerUrl(names.auth),
    TREES_DATABASE_URL: ownerUrl(names.trees),
    SESSIONS_DATABASE_URL: ownerUrl(names.sessions),
    HOOKS_DATABASE_URL: ownerUrl(names.hooks),
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_HOST: "127.0.0.1",
    AUTH_PORT: String(authPort),
    TREES_PORT: String(treesPort),
    SESSIONS_PORT: String(sessionsPort),
    HOOKS_PORT: String(hooksPort),
    // Metrics on free ports too (0: none), so that two systems on one machine never collide.
    AUTH_METRICS_PORT: "0",
    TREES_METRICS_PORT: "0",
    SESSIONS_METRICS_PORT: "0",
    HOOKS_METRICS_PORT: "0",
    GATEWAY_METRICS_PORT: "0",
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOGIN_RATE_LIMIT_PER_MINUTE: "1000000",
    LOGIN_FREE_FAILURES: "1000000",
    OIDC_SECRET_KEY: randomBytes(32).toString("hex"),
    GATEWAY_CACHE_MB: "0",
    ...extraEnv,
  };
  const serviceEnv = Object.fromEntries(
    (["gateway", "auth", "trees", "sessions", "hooks"] as const).map((name) => [name, { ...nats.serviceEnv[name] }]),
  );
  let stack: RunningStack;
  try {
    stack = await startStack({
      env,
      serviceEnv,
      readyTimeoutMs: 120_000,
      onLine: (service, line) => {
        lines.push(`${service}: ${line}`);
        if (lines.length > 2000) lines.splice(0, 1000);
      },
    });
  } catch (error) {
    await nats.dispose();
    throw new Error(`the system did not start: ${String(error)}\n${lines.slice(-30).join("\n")}`);
  }
  return {
    url: stack.gatewayUrl,
    stack,
    nats,
    client: api(stack.gatewayUrl),
    lines,
    stop: async () => {
      await stack.stop();
      await nats.dispose();
    },
  };
}

/** Starts the system, retrying while a service's build is being replaced (a module error), for up to ~5 minutes. */
export async function startScaleSystemPatiently(
  prefix: string,
  extraEnv: Record<string, string> = {},
): Promise<ScaleSystem> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startScaleSystem(prefix, extraEnv);
    } catch (error) {
      const text = String(error);
      const rebuilding = /ERR_MODULE_NOT_FOUND|Cannot find module|SyntaxError|does not provide an export/.test(text);
      if (!rebuilding || attempt >= 5) throw error;
      console.warn(`a service failed to start (its build is being replaced?); again in 60 s:\n${text.slice(0, 600)}`);
      await new Promise((wake) => setTimeout(wake, 60_000));
    }
  }
}
