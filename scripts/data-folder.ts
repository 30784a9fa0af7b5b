/**
 * Where `npm start` keeps what outlives a run: the embedded Postgres and NATS data, the first
 * admin's password and the caught mail. `TDT_DATA_DIR`, default `.data` at the repository root
 * (git-ignored).
 */
import { isAbsolute, relative, resolve } from "node:path";
import { ROOT } from "./root.js";

export function dataFolder(env: NodeJS.ProcessEnv): string {
  const chosen = env.TDT_DATA_DIR?.trim();
  return chosen ? resolve(chosen) : resolve(ROOT, ".data");
}

/** A path as a person reads it in the terminal: relative to the current folder when inside it. */
export function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
}
