/**
 * The releases, read from CHANGELOG.md: each `## [vX.Y.Z] — date — commit` heading, newest
 * first. A tag of that name, where the clone has it, must point at the same commit.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/root.js";

export interface Release {
  version: string;
  commit: string;
}

export function releases(changelog = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8")): Release[] {
  return [...changelog.matchAll(/^## \[(v\d+\.\d+\.\d+)\] — \d{4}-\d{2}-\d{2} — ([0-9a-f]{40})$/gm)].map((match) => ({
    version: match[1] as string,
    commit: match[2] as string,
  }));
}

/** The newest release: what a deployment runs before it upgrades to HEAD. */
export function previousRelease(): Release {
  const [latest] = releases();
  if (!latest) throw new Error("CHANGELOG.md names no release");
  return latest;
}
