/**
 * Issue 25, `npm start` on one machine with nothing of its own answering: the real run command
 * starts an embedded Postgres and a local nats-server, and Ctrl-C (SIGINT to its whole process
 * group, as a terminal sends it) stops the services first (they drain), then NATS, then
 * Postgres, leaving nothing running. A second start on a data folder a live run holds refuses;
 * after a kill -9 of the runner it stops what that run left, then starts on the same data.
 */
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@tdt/test-support/ports";
import { MARKER_VARIABLE, markedProcesses, newMarker, processesRunning } from "@tdt/test-support/processes";
import { type Cleanups, type RunCommand, spawnRunCommand } from "@tdt/test-support/run-command";
import { afterEach, describe, expect, it } from "vitest";
import { SERVICES } from "../../scripts/stack.js";

const SERVICE_FILES = SERVICES.map((name) => `services/${name}/dist/main.js`);
const cleanups: Cleanups = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/**
 * A run with nothing of its own answering: DATABASE_URL on a port where nothing listens, so an
 * embedded Postgres starts (on its own free port), and no NATS_URL, so a nats-server starts.
 */
async function embeddedRunEnvironment() {
  // Its own data folder; open to the `postgres` system user the embedded server runs as under root.
  const dataDir = await mkdtemp(join(tmpdir(), "tdt-start-stop-"));
  await chmod(dataDir, 0o755);
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const ports: number[] = [];
  for (let count = 0; count < 6; count++) ports.push(await freePort(ports));
  const [gateway, auth, trees, sessions, nothing, embedded] = ports;
  const marker = newMarker();
  // Whatever a failing test leaves of the run (the runner itself is killed by spawnRunCommand's cleanup).
  cleanups.push(async () => {
    for (const pid of (await runProcesses(marker, dataDir)).all) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
  });
  const { NATS_URL, DATABASE_URL, AUTH_DATABASE_URL, TREES_DATABASE_URL, SESSIONS_DATABASE_URL, ...inherited } =
    process.env;
  const env: Record<string, string | undefined> = {
    ...inherited,
    [MARKER_VARIABLE]: marker,
    LOG_LEVEL: "info",
    DATABASE_URL: `postgres://postgres@127.0.0.1:${nothing}/postgres`,
    EMBEDDED_POSTGRES_PORT: String(embedded),
    TDT_DATA_DIR: dataDir,
    ADMIN_PASSWORD: "start-stop-password",
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(gateway),
    AUTH_PORT: String(auth),
    TREES_PORT: String(trees),
    SESSIONS_PORT: String(sessions),
  };
  return { env, dataDir, marker, gateway, nothing, embedded };
}

async function untilUp(runner: RunCommand): Promise<void> {
  expect(await runner.printed(/\[start\] (TDT is up\.|cannot start: .*)/, 90_000)).toBe("[start] TDT is up.");
}

/** The session id of each live process (Linux /proc), by pid. */
async function sessionsByPid(): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // After the command in parentheses: state, ppid, process group, session.
      const [state, , , session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") found.set(Number(entry), Number(session));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * What a run has running: the runner and its services (by the marker in their environment),
 * its Postgres and nats-server (by the data folder in their command line), each the leader of
 * a session of its own, and every process in those sessions (Postgres's backends and workers).
 */
async function runProcesses(marker: string, dataDir: string) {
  const marked = await markedProcesses(marker);
  const [postgres] = await processesRunning([join(dataDir, "postgres")]);
  const [nats] = await processesRunning([join(dataDir, "nats")]);
  const servers = [postgres, nats].filter((process) => process !== undefined);
  const leaders = [...marked, ...servers];
  const sessions = await sessionsByPid();
  const leaderPids = new Set(leaders.map((process) => process.pid));
  const inTheirSessions = [...sessions].filter(([, session]) => leaderPids.has(session)).map(([pid]) => pid);
  return {
    services: marked.filter((process) => SERVICE_FILES.some((file) => process.command.endsWith(file))),
    postgres,
    nats,
    leaders,
    sessions,
    all: [...new Set([...leaderPids, ...inTheirSessions])],
  };
}

/** Nothing of the run is left: no marked process, no server on its data folder, nothing in their sessions. */
async function expectNothingLeft(sessionLeaders: number[], marker: string, dataDir: string) {
  expect(await markedProcesses(marker)).toEqual([]);
  expect(await processesRunning([join(dataDir, "postgres")])).toEqual([]);
  expect(await processesRunning([join(dataDir, "nats")])).toEqual([]);
  const sessions = await sessionsByPid();
  const leaders = new Set(sessionLeaders);
  expect([...sessions].filter(([, session]) => leaders.has(session))).toEqual([]);
}

/** Ctrl-C in the runner's terminal: SIGINT to its whole process group. */
const ctrlC = (runner: RunCommand) => process.kill(-(runner.child.pid as number), "SIGINT");

describe("npm start with an embedded Postgres and its own nats-server", () => {
  it("says what it uses, and Ctrl-C stops the services (drained), then NATS, then Postgres, leaving nothing", async () => {
    const { env, dataDir, marker, nothing, embedded } = await embeddedRunEnvironment();
    const runner = spawnRunCommand(env, cleanups);
    await untilUp(runner);
    const output = runner.output();
    expect(output).toContain(
      `[start] Postgres: nothing answers at postgres://postgres@127.0.0.1:${nothing}/postgres, so an embedded Postgres starts on port ${embedded}, data in ${dataDir}/postgres.`,
    );
    expect(output).toMatch(
      new RegExp(
        `\\n  Postgres: postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${embedded}/postgres \\(embedded PostgreSQL \\d+\\.\\d+, started here; data in ${dataDir}/postgres\\)\\n`,
      ),
    );
    expect(output).toContain("\n  Databases: auth tdt_auth, trees tdt_trees, sessions tdt_sessions, hooks tdt_hooks\n");
    expect(output).toMatch(
      new RegExp(
        `\\n  NATS: {5}nats://127\\.0\\.0\\.1:\\d+ \\(nats-server v[\\d.]+, started here; data in ${dataDir}/nats\\)\\n`,
      ),
    );
    // Nothing printed a stack: expected conditions are sentences.
    expect(output.split("\n").filter((line) => /^\s+at /.test(line))).toEqual([]);
    // Nor did a service's log: a stream not made yet on a first start is one line, without the error.
    expect(output.split("\n").filter((line) => line.includes('"stack":'))).toEqual([]);

    const run = await runProcesses(marker, dataDir);
    expect(run.services).toHaveLength(SERVICES.length);
    expect(run.postgres).toBeDefined();
    expect(run.nats).toBeDefined();
    // Each server leads a session (and so a process group) of its own: Ctrl-C reaches the runner alone.
    for (const process of [...run.services, run.postgres, run.nats]) {
      expect(run.sessions.get(process?.pid as number), process?.command).toBe(process?.pid);
    }
    const sessionLeaders = run.leaders.map((process) => process.pid);

    // When each process disappears, in polling order.
    const watched = [...run.services, run.nats, run.postgres].map((process) => process?.pid as number);
    const goneAt = new Map<number, number>();
    ctrlC(runner);
    for (let tick = 0; goneAt.size < watched.length && tick < 3000; tick++) {
      const alive = await sessionsByPid();
      for (const pid of watched) if (!alive.has(pid) && !goneAt.has(pid)) goneAt.set(pid, tick);
      await new Promise((wake) => setTimeout(wake, 10));
    }
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    const lastService = Math.max(...run.services.map((process) => goneAt.get(process.pid) as number));
    const natsGone = goneAt.get(run.nats?.pid as number) as number;
    expect(natsGone).toBeGreaterThanOrEqual(lastService);
    expect(goneAt.get(run.postgres?.pid as number)).toBeGreaterThanOrEqual(natsGone);

    // The runner's own account, in order; every service drained and said so.
    const lines = runner.output().split("\n");
    const stops = [
      "[start] the services stopped.",
      "[start] nats-server stopped.",
      "[start] the embedded Postgres stopped.",
      "[start] stopped.",
    ].map((line) => lines.indexOf(line));
    expect(stops.every((at) => at >= 0)).toBe(true);
    expect([...stops].sort((a, b) => a - b)).toEqual(stops);
    expect(lines.filter((line) => line.includes('"msg":"stopped"'))).toHaveLength(SERVICES.length);
    // Postgres was there for the whole drain.
    expect(runner.output()).not.toContain("the database system is shutting down");
    expect(runner.output()).not.toContain("database connection lost");

    await expectNothingLeft([...sessionLeaders, ...run.all], marker, dataDir);
    await expect(readFile(join(dataDir, "run.json"))).rejects.toThrow();
  }, 150_000);

  it("a second start refuses a folder a live run holds; after kill -9 of that run it stops its leftovers and starts on the same data", async () => {
    const { env, dataDir, marker } = await embeddedRunEnvironment();
    const first = spawnRunCommand(env, cleanups);
    await untilUp(first);
    const firstRun = await runProcesses(marker, dataDir);
    expect(firstRun.services).toHaveLength(SERVICES.length);

    // Started beside it, on the same folder: one sentence, exit 1, the first untouched.
    const beside = spawnRunCommand(env, cleanups);
    expect(await beside.exited).toEqual({ code: 1, signal: null });
    expect(beside.output()).toContain(
      `[start] cannot start: another npm start (pid ${first.child.pid}) is running on ${dataDir}: stop it first, or give this one a data folder of its own with TDT_DATA_DIR\n`,
    );
    expect((await runProcesses(marker, dataDir)).all.sort()).toEqual(firstRun.all.sort());

    // kill -9 of the runner alone: its servers, each in a session of its own, run on.
    process.kill(first.child.pid as number, "SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const left = await runProcesses(marker, dataDir);
    expect(left.services).toHaveLength(SERVICES.length);
    expect(left.postgres?.pid).toBe(firstRun.postgres?.pid);
    expect(left.nats?.pid).toBe(firstRun.nats?.pid);

    const second = spawnRunCommand(env, cleanups);
    await untilUp(second);
    const named = [...firstRun.services, firstRun.nats, firstRun.postgres].map((process) => `(pid ${process?.pid})`);
    const told =
      second
        .output()
        .split("\n")
        .find((line) => line.includes("an earlier npm start")) ?? "";
    expect(told).toMatch(
      new RegExp(
        `^\\[start\\] an earlier npm start \\(pid ${first.child.pid}\\) ended without stopping what it started: .* still run on ${dataDir}; stopping them first\\.$`,
      ),
    );
    for (const pid of named) expect(told).toContain(pid);
    // Every process of the first run is gone; the second found the databases the first made.
    const sessions = await sessionsByPid();
    expect(firstRun.all.filter((pid) => sessions.has(pid))).toEqual([]);
    expect(second.output()).not.toContain('"msg":"database created"');
    const secondRun = await runProcesses(marker, dataDir);
    expect(secondRun.services).toHaveLength(SERVICES.length);

    ctrlC(second);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await expectNothingLeft([...firstRun.all, ...secondRun.all], marker, dataDir);
  }, 180_000);
});
