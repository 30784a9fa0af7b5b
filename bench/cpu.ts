/**
 * CPU time per request, summed over every process that serves it (issue 31: "CPU milliseconds
 * per refresh and per session step summed over every process, from /proc"): each process's user
 * and system time (`/proc/<pid>/stat`, all its threads) before and after a measurement. What a
 * request costs then reads as a ratio against the one-process server measured the same way in
 * the same run, which a shared machine's wall-clock figures cannot give.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The kernel's clock ticks per second (`getconf CLK_TCK`): 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** A process's user + system time so far in milliseconds, or 0 once it is gone. */
function processMillis(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(fields[11]); // field 14, utime
    const system = Number(fields[12]); // field 15, stime
    return ((user + system) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pids of every process whose command name (`/proc/<pid>/comm`) is `name`. */
export function processesNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * The Postgres backends serving connections to these databases (their command line names the
 * database: `postgres: 15/main: <user> <database> <client> <state>`). The server's shared
 * processes (WAL writer, checkpointer, autovacuum) are left out: they also work for whatever else
 * the server holds.
 */
export function postgresBackendsOf(databases: Record<string, string>): Array<{ pid: number; label: string }> {
  return processesNamed("postgres").flatMap((pid) => {
    try {
      const words = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\s\0]+/);
      const served = Object.entries(databases).find(([, database]) => words.includes(database));
      return served ? [{ pid, label: `postgres (${served[0]})` }] : [];
    } catch {
      return [];
    }
  });
}

/** The processes to account a request to, each with a label (its service, or its database's backend). */
export interface ProcessSet {
  name: string;
  pids(): Array<{ pid: number; label: string }>;
}

/**
 * TDT as a process set: a running stack's services (by name), NATS, and the Postgres backends of
 * its databases (`{ auth: "tdt_auth_…", … }`).
 */
export function stackProcesses(
  services: ReadonlyMap<string, { pid?: number | undefined }>,
  databases: Record<string, string>,
): ProcessSet {
  return {
    name: "TDT",
    pids: () => [
      ...[...services.entries()].flatMap(([service, child]) => (child.pid ? [{ pid: child.pid, label: service }] : [])),
      ...processesNamed("nats-server").map((pid) => ({ pid, label: "nats-server" })),
      ...postgresBackendsOf(databases),
    ],
  };
}

/** Every process of a set's CPU time by pid, so a process that ends meanwhile still counts its share until then. */
function snapshot(set: ProcessSet): Map<number, { label: string; millis: number }> {
  return new Map(set.pids().map(({ pid, label }) => [pid, { label, millis: processMillis(pid) }]));
}

/** How long a meter waits after the steps for the work they left behind (events being consumed). */
const SETTLE_MS = 2000;

/**
 * A probe (bench/measure.ts) that counts the CPU milliseconds the set's processes spend from the
 * first step until the work the steps left behind (events still being consumed) has settled, in
 * all and by label. Processes that start meanwhile (a Postgres backend for a new connection)
 * count from zero.
 */
export function cpuMeter(set: ProcessSet) {
  let before = new Map<number, { label: string; millis: number }>();
  const meter = {
    millis: 0,
    byLabel: new Map<string, number>(),
    start() {
      before = snapshot(set);
    },
    async stop() {
      await new Promise((wake) => setTimeout(wake, SETTLE_MS));
      for (const [pid, { label, millis: spent }] of snapshot(set)) {
        const delta = spent - (before.get(pid)?.millis ?? 0);
        meter.millis += delta;
        meter.byLabel.set(label, (meter.byLabel.get(label) ?? 0) + delta);
      }
    },
  };
  return meter;
}
