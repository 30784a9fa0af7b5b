/**
 * Postgres and NATS for the run command and the tests: the Postgres the environment names
 * when it answers, else an embedded one from npm; the NATS that NATS_URL names, else a private
 * `nats-server` on the shipped config (the one place that starts nats-server).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import { redactUrl } from "@tdt/kit";
import postgres from "postgres";
import { shownPath } from "./data-folder.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { freePort } from "./ports.js";
import { ROOT } from "./root.js";
import { SERVICES, type ServiceName } from "./stack.js";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** The embedded Postgres's port unless EMBEDDED_POSTGRES_PORT says otherwise (another when taken). */
export const DEFAULT_EMBEDDED_POSTGRES_PORT = 54329;

export interface Started {
  url: string;
  /** Stops what this module started; a no-op for a server that was already there. */
  stop(): Promise<void>;
}

/** A server the runner uses: what the start's summary says of it, and its process if started here. */
export interface UsedServer extends Started {
  summary: string;
  /** Set when the runner started it: the process (for the run record) and how the stop line names it. */
  process?: { name: string; pid: number; shown: string };
}

/** What the run command gives the functions that start its servers. */
export interface RunContext {
  say(line: string): void;
  /** Ports the services are configured with: a server started here never takes one. */
  avoid: readonly number[];
  /** Notes a process as soon as it is spawned (the run record). */
  keep(name: string, pid: number | undefined): void;
}

/** A server answers (and its version), refuses (a password, a missing database: its message), or none answers. */
type PostgresProbe = { answers: true; version: string } | { answers: false; refusal: string | undefined };

export async function probePostgres(url: string): Promise<PostgresProbe> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [row] = await sql<Array<{ version: string }>>`select current_setting('server_version') as version`;
    // "15.20 (Debian 15.20-0+deb12u1)": the number says enough.
    return { answers: true, version: row?.version.split(" ")[0] ?? "of an unknown version" };
  } catch (error) {
    // A refusal comes from the server itself, with an SQLSTATE; a network error means no server.
    return { answers: false, refusal: error instanceof postgres.PostgresError ? error.message : undefined };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/**
 * DATABASE_URL (default: the passwordless `postgres` on 5432) when a server answers there;
 * else an embedded one, its data in `<dataDir>/postgres`. A server that refuses the URL
 * DATABASE_URL names is an error; one that refuses the default is passed over, and said so.
 */
export async function ensurePostgres(env: NodeJS.ProcessEnv, dataDir: string, run: RunContext): Promise<UsedServer> {
  const given = env.DATABASE_URL?.trim();
  const url = given || DEFAULT_DATABASE_URL;
  const found = await probePostgres(url);
  if (found.answers) {
    const origin = given ? "DATABASE_URL" : "the default URL; set DATABASE_URL to use another";
    const summary = `${redactUrl(url)} (PostgreSQL ${found.version}, found answering at ${origin})`;
    run.say(`Postgres: ${summary}.`);
    return { url, summary, stop: async () => {} };
  }
  if (found.refusal && given) {
    throw new Error(`the Postgres at ${redactUrl(url)} (DATABASE_URL) refuses the connection: ${found.refusal}`);
  }
  const { port, taken } = await embeddedPort(env, run.avoid);
  const databaseDir = resolve(dataDir, "postgres");
  const absent = found.refusal
    ? `the Postgres at ${redactUrl(url)} refuses a passwordless connection (${found.refusal}; set DATABASE_URL to use it)`
    : `nothing answers at ${redactUrl(url)}`;
  const onPort = taken ? `port ${port} (${DEFAULT_EMBEDDED_POSTGRES_PORT} is taken)` : `port ${port}`;
  run.say(`Postgres: ${absent}, so an embedded Postgres starts on ${onPort}, data in ${shownPath(databaseDir)}.`);
  const server = await startEmbeddedPostgres(dataDir, port, (pid) => run.keep("postgres", pid));
  const probe = await probePostgres(server.url);
  if (!probe.answers) {
    await server.stop();
    throw new Error(`the embedded Postgres started but does not answer: ${probe.refusal ?? "no connection"}`);
  }
  const summary = `${redactUrl(server.url)} (embedded PostgreSQL ${probe.version}, started here; data in ${shownPath(databaseDir)})`;
  run.say(`Postgres: ${summary}.`);
  return {
    url: server.url,
    summary,
    process: { name: "postgres", pid: server.pid, shown: "the embedded Postgres" },
    stop: server.stop,
  };
}

/** EMBEDDED_POSTGRES_PORT, which must be free; else the default, or a free port when that is taken. */
async function embeddedPort(
  env: NodeJS.ProcessEnv,
  avoid: readonly number[],
): Promise<{ port: number; taken: boolean }> {
  const chosen = env.EMBEDDED_POSTGRES_PORT?.trim();
  if (chosen) {
    const port = Number(chosen);
    if (!/^\d+$/.test(chosen) || port < 1 || port > 65_535) {
      throw new Error(`EMBEDDED_POSTGRES_PORT must be a port number, got "${chosen}"`);
    }
    if (await tcpAnswers("127.0.0.1", port)) {
      throw new Error(`port ${port} (EMBEDDED_POSTGRES_PORT) is already in use by another program`);
    }
    return { port, taken: false };
  }
  if (!(await tcpAnswers("127.0.0.1", DEFAULT_EMBEDDED_POSTGRES_PORT))) {
    return { port: DEFAULT_EMBEDDED_POSTGRES_PORT, taken: false };
  }
  return { port: await freePort(avoid), taken: true };
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
 * `storeDir` keeps its streams, and its log in `nats-server.log` (a file, not a pipe: a Go
 * program writing to a closed pipe dies, and this server may outlive a killed runner).
 * Its environment holds only PATH and the passwords the config reads; `spawned` hears its pid
 * at once.
 */
export async function startNatsServer(
  binary: string,
  port: number,
  storeDir: string,
  passwords: NatsPasswords,
  spawned: (pid: number | undefined) => void = () => {},
): Promise<ChildProcess> {
  mkdirSync(storeDir, { recursive: true });
  const env = {
    PATH: process.env.PATH,
    ...Object.fromEntries(SERVICES.map((service) => [natsPasswordVariable(service), passwords[service]])),
  };
  const logFile = resolve(storeDir, "nats-server.log");
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = openSync(logFile, "a");
  const child = spawn(binary, ["-c", NATS_CONFIG, "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
    env,
    stdio: ["ignore", "ignore", log],
    // Its own process group: Ctrl-C reaches only the runner, which stops NATS after the services.
    detached: true,
  });
  closeSync(log);
  spawned(child.pid);
  let failedToSpawn: string | undefined;
  child.once("error", (error) => {
    failedToSpawn = error.message;
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await tcpAnswers("127.0.0.1", port, 200)) return child;
    if (child.exitCode !== null || failedToSpawn) break;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  child.kill();
  // Its last lines say why (a bad config, a port in use).
  const lastLines = readFileSync(logFile).subarray(logStart).toString("utf8").split("\n").filter(Boolean).slice(-5);
  const why = failedToSpawn ?? (lastLines.join(" | ") || "no output");
  throw new Error(`nats-server did not start on port ${port}: ${why}`);
}

/** "v2.9.10", from `nats-server --version`. */
function natsServerVersion(binary: string): string {
  const printed = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout ?? "";
  return /v\d+\.\d+\.\d+\S*/.exec(printed)?.[0] ?? "of an unknown version";
}

export interface StartedNats extends UsedServer {
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
export async function ensureNats(env: NodeJS.ProcessEnv, dataDir: string, run: RunContext): Promise<StartedNats> {
  const passwords = natsPasswordsFrom(env);
  const serviceEnv = passwords ? natsServiceEnv(passwords) : {};
  const explicitUrl = env.NATS_URL?.trim();
  if (explicitUrl) {
    const summary = `${redactUrl(explicitUrl)} (NATS_URL${passwords ? ", each service its own user" : ""})`;
    run.say(`NATS: ${summary}.`);
    const { host, port } = hostAndPort(explicitUrl);
    if (!(await tcpAnswers(host, port)))
      run.say(`NATS does not answer at ${redactUrl(explicitUrl)} yet; the services wait for it.`);
    return { url: explicitUrl, summary, serviceEnv, stop: async () => {} };
  }
  const binary = findNatsServer();
  if (!binary) {
    throw new Error(
      "no nats-server binary is installed to run NATS with the shipped config. " +
        "Install it (apt-get install nats-server), or set NATS_URL (and the NATS credentials) to your own NATS.",
    );
  }
  const port = await freePort(run.avoid);
  const storeDir = resolve(dataDir, "nats");
  const version = natsServerVersion(binary);
  run.say(
    `NATS: starting ${binary} ${version} with infra/nats/nats.conf on port ${port} (data in ${shownPath(storeDir)}; set NATS_URL to use your own).`,
  );
  const ownPasswords = passwords ?? generateNatsPasswords();
  const child = await startNatsServer(binary, port, storeDir, ownPasswords, (pid) => run.keep("nats-server", pid));
  const url = `nats://127.0.0.1:${port}`;
  return {
    url,
    summary: `${url} (nats-server ${version}, started here; data in ${shownPath(storeDir)})`,
    serviceEnv: natsServiceEnv(ownPasswords),
    process: { name: "nats-server", pid: child.pid as number, shown: "nats-server" },
    stop: () =>
      new Promise<void>((stopped) => {
        if (child.exitCode !== null || child.signalCode !== null) return stopped();
        const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(force);
          stopped();
        });
        child.kill("SIGTERM");
      }),
  };
}
