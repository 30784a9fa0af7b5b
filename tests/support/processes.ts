/**
 * Which processes a test started, found by a marker variable in their environment (children
 * inherit it), so a test can check that nothing it started is left running.
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";

export interface MarkedProcess {
  pid: number;
  command: string;
}

export const MARKER_VARIABLE = "TDT_TEST_PROCESS_MARKER";

export function newMarker(): string {
  return randomUUID();
}

/** Live processes whose environment holds the marker (Linux /proc; exited ones have none). */
export function markedProcesses(marker: string): Promise<MarkedProcess[]> {
  return liveProcesses((environment) => environment.includes(`${MARKER_VARIABLE}=${marker}`));
}

/** Live processes whose command line holds every one of `words` (for those started with an environment of their own). */
export function processesRunning(words: string[]): Promise<MarkedProcess[]> {
  return liveProcesses((_environment, command) => words.every((word) => command.includes(word)));
}

async function liveProcesses(select: (environment: string[], command: string[]) => boolean): Promise<MarkedProcess[]> {
  const found: MarkedProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environment = (await readFile(`/proc/${entry}/environ`, "latin1")).split("\0");
      const command = (await readFile(`/proc/${entry}/cmdline`, "latin1")).split("\0");
      if (!select(environment, command)) continue;
      found.push({ pid: Number(entry), command: command.join(" ").trim() });
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return found;
}
