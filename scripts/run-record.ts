/**
 * Which run owns a data folder: `<data>/run.json` names the runner (`npm start`) and every
 * process it started there, each by pid and the moment it started (a pid alone may be reused).
 * The next start on the folder reads it: a runner still alive keeps the folder and the new
 * start refuses; a runner that was killed (kill -9 leaves its detached servers running) has
 * its leftovers stopped first, in the usual order, so no two servers ever share the folder's
 * Postgres or NATS data. A clean stop deletes the record.
 */
import { spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shownPath } from "./data-folder.js";

/** One process of a run: a service by its name, `nats-server` or `postgres`. */
export interface RecordedProcess {
  name: string;
  pid: number;
  /** When it started (processStart), so that a reused pid is never taken for it. */
  started: string;
}

interface RunFile {
  runner: RecordedProcess;
  processes: RecordedProcess[];
}

export interface RunRecord {
  /** Notes a process this run started; a later one under the same name replaces it. */
  keep(name: string, pid: number | undefined): void;
  /** Deletes the record: everything it named has stopped. */
  release(): void;
}

/** A refusal told in one sentence: the data folder is in use by a live run. */
export class DataFolderInUseError extends Error {
  override name = "DataFolderInUseError";
}

/** How long a leftover gets to stop after its signal before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Makes this process the owner of `dataDir`, after stopping whatever a killed run left there.
 * Throws DataFolderInUseError while another runner is alive on it.
 */
export async function claimDataFolder(dataDir: string, say: (line: string) => void): Promise<RunRecord> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "run.json");
  const own: RunFile = { runner: recorded("runner", process.pid), processes: [] };
  // Twice at most: a record found stale is removed, and the second try finds the folder free
  // unless another start claimed it in between (then that one is alive, and this one refuses).
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusively(file, own)) return ownRecord(file, own);
    const previous = readRunFile(file);
    if (previous && isAlive(previous.runner)) {
      throw new DataFolderInUseError(
        `another npm start (pid ${previous.runner.pid}) is running on ${shownPath(dataDir)}: ` +
          "stop it first, or give this one a data folder of its own with TDT_DATA_DIR",
      );
    }
    const left = stopOrder(previous?.processes.filter(isAlive) ?? []);
    if (previous && left.length > 0) {
      say(
        `an earlier npm start (pid ${previous.runner.pid}) ended without stopping what it started: ` +
          `${describe(left.flat())} still run on ${shownPath(dataDir)}; stopping them first.`,
      );
      await stopInOrder(left);
    }
    rmSync(file, { force: true });
  }
  throw new DataFolderInUseError(`another npm start claimed ${shownPath(dataDir)} at the same moment`);
}

function ownRecord(file: string, own: RunFile): RunRecord {
  return {
    keep(name, pid) {
      if (pid === undefined) return;
      own.processes = [...own.processes.filter((process) => process.name !== name), recorded(name, pid)];
      const draft = `${file}.${process.pid}.draft`;
      writeFileSync(draft, JSON.stringify(own, null, 2));
      renameSync(draft, file);
    },
    release() {
      rmSync(file, { force: true });
    },
  };
}

/** Writes the record whole beside `file`, then links it into place, which fails if one exists. */
function createExclusively(file: string, content: RunFile): boolean {
  const draft = `${file}.${process.pid}.draft`;
  writeFileSync(draft, JSON.stringify(content, null, 2));
  try {
    linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    rmSync(draft, { force: true });
  }
}

/** The record, or undefined when it is gone or unreadable (then nothing it named is trusted). */
function readRunFile(file: string): RunFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as RunFile;
    return typeof parsed.runner?.pid === "number" && Array.isArray(parsed.processes) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function recorded(name: string, pid: number): RecordedProcess {
  return { name, pid, started: processStart(pid) ?? "" };
}

/** Alive, and the very process recorded: same pid and same start. */
export function isAlive(process: RecordedProcess): boolean {
  const started = processStart(process.pid);
  return started !== undefined && started === process.started;
}

/**
 * When the process `pid` started, as a string that differs between any two processes that
 * ever held that pid; undefined when none runs (a zombie counts as gone). Linux: the boot's id
 * and the start time in clock ticks from /proc; elsewhere `ps`'s start time.
 */
export function processStart(pid: number): string | undefined {
  if (existsSync("/proc/self/stat")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The fields after the command, which is in parentheses and may hold spaces: state is the
      // first of them (field 3), the start time the 20th (field 22).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" || fields[0] === "X") return undefined;
      return `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${fields[19]}`;
    } catch {
      return undefined;
    }
  }
  const ps = spawnSync("ps", ["-o", "stat=", "-o", "lstart=", "-p", String(pid)], { encoding: "utf8" });
  const line = ps.status === 0 ? ps.stdout.trim() : "";
  return line && !line.startsWith("Z") ? line.replace(/^\S+\s+/, "") : undefined;
}

/** "auth (pid 10), nats-server (pid 12) and postgres (pid 13)". */
function describe(processes: RecordedProcess[]): string {
  const names = processes.map((process) => `${process.name} (pid ${process.pid})`);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
}

/** The order of a stop: the services first (they drain), then nats-server, then postgres. */
function stopOrder(processes: RecordedProcess[]): RecordedProcess[][] {
  const servers = ["nats-server", "postgres"];
  const services = processes.filter((process) => !servers.includes(process.name));
  const groups = [services, ...servers.map((name) => processes.filter((process) => process.name === name))];
  return groups.filter((group) => group.length > 0);
}

/** Each group awaited before the next; postgres gets a fast shutdown (SIGINT), the rest SIGTERM. */
async function stopInOrder(groups: RecordedProcess[][]): Promise<void> {
  for (const group of groups) {
    await Promise.all(group.map((process) => stopProcess(process, process.name === "postgres" ? "SIGINT" : "SIGTERM")));
  }
}

async function stopProcess(process: RecordedProcess, signal: NodeJS.Signals): Promise<void> {
  signalProcess(process, signal);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(process)) {
    if (Date.now() > deadline) {
      signalProcess(process, "SIGKILL");
      await sleep(100);
      if (isAlive(process)) throw new Error(`${process.name} (pid ${process.pid}) does not stop, even on SIGKILL`);
      return;
    }
    await sleep(50);
  }
}

function signalProcess(recordedProcess: RecordedProcess, signal: NodeJS.Signals): void {
  try {
    if (isAlive(recordedProcess)) process.kill(recordedProcess.pid, signal);
  } catch {
    // Gone meanwhile.
  }
}

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
