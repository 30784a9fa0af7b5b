/**
 * The real run command (`node scripts/dist/start.js`) for a test: free ports, fresh databases,
 * the test file's private NATS with each service's password, a marker to find what it started,
 * and the runner in its own process group as in a terminal, so Ctrl-C can be sent to the group.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsPasswordVariable } from "../../scripts/infrastructure.js";
import { SERVICES } from "../../scripts/stack.js";
import { Changes } from "./changes.js";
import { createDatabase, dropDatabase, SERVER_URL } from "./database.js";
import type { PrivateNats } from "./nats.js";
import { freePort } from "./ports.js";
import { MARKER_VARIABLE, newMarker } from "./processes.js";

const START = fileURLToPath(new URL("../../scripts/dist/start.js", import.meta.url));

/** What a test undoes afterwards, last first. */
export type Cleanups = Array<() => Promise<unknown>>;

export async function runCommandEnvironment(
  nats: PrivateNats,
  cleanups: Cleanups,
  options: { label: string; logLevel?: string; extra?: Record<string, string> },
) {
  const databases = await Promise.all(
    ["auth", "trees", "sessions", "hooks"].map((name) => createDatabase(`${options.label}_${name}`)),
  );
  cleanups.push(() => Promise.all(databases.map((database) => dropDatabase(database.name))));
  const [gateway, auth, trees, sessions, hooks] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const marker = newMarker();
  // Its own data folder (the first admin's password, caught mail): never the repository's `.data`.
  const dataDir = await mkdtemp(join(tmpdir(), `tdt-${options.label}-`));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const { ADMIN_EMAIL: _email, ADMIN_PASSWORD: _password, ...inherited } = process.env;
  const env: Record<string, string | undefined> = {
    ...inherited,
    [MARKER_VARIABLE]: marker,
    LOG_LEVEL: options.logLevel ?? "info",
    DATABASE_URL: SERVER_URL,
    AUTH_DATABASE_URL: databases[0]?.url,
    TREES_DATABASE_URL: databases[1]?.url,
    SESSIONS_DATABASE_URL: databases[2]?.url,
    HOOKS_DATABASE_URL: databases[3]?.url,
    // The private NATS, with each service's password, as an operator's own NATS is given.
    NATS_URL: nats.url,
    ...Object.fromEntries(SERVICES.map((service) => [natsPasswordVariable(service), nats.passwords[service]])),
    TDT_DATA_DIR: dataDir,
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(gateway),
    AUTH_PORT: String(auth),
    TREES_PORT: String(trees),
    SESSIONS_PORT: String(sessions),
    HOOKS_PORT: String(hooks),
    ...options.extra,
  };
  return { env, marker, ports: { gateway, auth, trees, sessions, hooks } };
}

export interface RunCommand {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * The first match of `pattern` in the output, looked for as each chunk arrives; fails if the
   * runner ends without printing it, or after `timeoutMs`.
   */
  printed(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function spawnRunCommand(env: Record<string, string | undefined>, cleanups: Cleanups): RunCommand {
  const child = spawn(process.execPath, [START], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  let closed = false;
  const changes = new Changes();
  child.stdout?.on("data", (chunk) => {
    output += chunk;
    changes.notify();
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
    changes.notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("close", (code, signal) => {
      closed = true;
      changes.notify();
      done({ code, signal });
    }),
  );
  const printed = (pattern: RegExp, timeoutMs = 60_000) =>
    changes.until(
      () => {
        const found = pattern.exec(output)?.[0];
        if (found === undefined && closed) throw new Error(`the runner ended without printing ${pattern}:\n${output}`);
        return found;
      },
      `${pattern} in the runner's output`,
      timeoutMs,
    );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, output: () => output, exited, printed };
}
