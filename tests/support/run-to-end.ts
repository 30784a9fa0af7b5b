/** A command run to its end, for tests that check what a program printed and how it exited. */
import { spawn } from "node:child_process";

export interface Finished {
  code: number | null;
  /** Everything it printed, standard output and error interleaved as they arrived. */
  output: string;
}

/** Runs `command` in `cwd` to its end; `env` defaults to this process's environment. */
export function runToEnd(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Finished> {
  return new Promise((done, failed) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.once("error", failed);
    child.once("close", (code) => done({ code, output }));
  });
}
