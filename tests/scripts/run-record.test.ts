/**
 * Issue 25: one `npm start` at a time per data folder. A live runner keeps its folder; what a
 * killed one left there (its servers run on, detached) is stopped before the next start, in
 * the usual order, and a pid that now belongs to another process is never signalled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimDataFolder, DataFolderInUseError, processStart, type RecordedProcess } from "../../scripts/run-record.js";

let folder: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tdt-run-record-"));
});

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(folder, { recursive: true, force: true });
});

/**
 * A stand-in for one of a run's servers: on `signal` it writes "<name> <signal>" to `log`,
 * and "<name> exits" after `exitAfterMs` (a service draining), as it exits. Resolves once its
 * handler is set.
 */
async function standIn(name: string, signal: NodeJS.Signals, log: string, exitAfterMs = 0): Promise<RecordedProcess> {
  const program = `
    process.on(${JSON.stringify(signal)}, () => {
      const fs = require("node:fs");
      fs.appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${name} ${signal}\n`)});
      setTimeout(() => {
        fs.appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${name} exits\n`)});
        process.exit(0);
      }, ${exitAfterMs});
    });
    setInterval(() => {}, 1000);
    console.log("ready");`;
  const child = spawn(process.execPath, ["-e", program], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  children.push(child);
  await new Promise((ready) => child.stdout?.once("data", ready));
  const pid = child.pid as number;
  return { name, pid, started: processStart(pid) as string };
}

/** A record as a runner killed with kill -9 leaves it: its own pid long gone. */
async function killedRun(processes: RecordedProcess[]) {
  const runner = { name: "runner", pid: 999_999_999, started: "gone" };
  await writeFile(join(folder, "run.json"), JSON.stringify({ runner, processes }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return processStart(pid) !== undefined;
  } catch {
    return false;
  }
};

describe("the data folder's run record", () => {
  it("refuses a second start while the first runner lives, and is free again once released", async () => {
    const said: string[] = [];
    const first = await claimDataFolder(folder, (line) => said.push(line));
    first.keep("auth", process.pid);
    const second = claimDataFolder(folder, (line) => said.push(line));
    await expect(second).rejects.toBeInstanceOf(DataFolderInUseError);
    await expect(second).rejects.toThrow(
      `another npm start (pid ${process.pid}) is running on ${folder}: stop it first, or give this one a data folder of its own with TDT_DATA_DIR`,
    );
    // The refusal stopped nothing: this process (recorded as "auth") still runs, the record still names it.
    const kept = JSON.parse(await readFile(join(folder, "run.json"), "utf8"));
    expect(kept.processes).toEqual([expect.objectContaining({ name: "auth", pid: process.pid })]);
    first.release();
    (await claimDataFolder(folder, (line) => said.push(line))).release();
    expect(said).toEqual([]);
  });

  it("stops what a killed run left, services before nats-server before postgres, each awaited", async () => {
    const log = join(folder, "signals.log");
    // The service drains for 300 ms: NATS must not be signalled meanwhile.
    const leftovers = [
      await standIn("postgres", "SIGINT", log),
      await standIn("nats-server", "SIGTERM", log),
      await standIn("auth", "SIGTERM", log, 300),
    ];
    await killedRun(leftovers);
    const said: string[] = [];
    const record = await claimDataFolder(folder, (line) => said.push(line));

    expect(said).toEqual([
      `an earlier npm start (pid 999999999) ended without stopping what it started: ` +
        `auth (pid ${leftovers[2]?.pid}), nats-server (pid ${leftovers[1]?.pid}) and postgres (pid ${leftovers[0]?.pid}) ` +
        `still run on ${folder}; stopping them first.`,
    ]);
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toEqual([
      "auth SIGTERM",
      "auth exits",
      "nats-server SIGTERM",
      "nats-server exits",
      "postgres SIGINT",
      "postgres exits",
    ]);
    for (const leftover of leftovers) expect(alive(leftover.pid)).toBe(false);
    // The folder is this run's now.
    const claimed = JSON.parse(await readFile(join(folder, "run.json"), "utf8"));
    expect(claimed.runner.pid).toBe(process.pid);
    record.release();
  });

  it("never signals a recorded pid that another process holds now", async () => {
    const log = join(folder, "signals.log");
    const other = await standIn("nats-server", "SIGTERM", log);
    // Same pid, another start: the process recorded is gone, and this one is someone else's.
    await killedRun([{ ...other, started: `${other.started}-earlier` }]);
    const said: string[] = [];
    (await claimDataFolder(folder, (line) => said.push(line))).release();
    expect(said).toEqual([]);
    expect(alive(other.pid)).toBe(true);
    await expect(readFile(log, "utf8")).rejects.toThrow();
  });
});
