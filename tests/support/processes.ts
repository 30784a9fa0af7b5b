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
export async function markedProcesses(marker: string): Promise<MarkedProcess[]> {
  const found: MarkedProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environment = await readFile(`/proc/${entry}/environ`, "latin1");
      if (!environment.split("\0").includes(`${MARKER_VARIABLE}=${marker}`)) continue;
      const command = (await readFile(`/proc/${entry}/cmdline`, "latin1")).split("\0").join(" ").trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return found;
}
