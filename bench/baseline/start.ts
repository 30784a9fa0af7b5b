/** Starts the one-process baseline as its own process on a free port and waits until it listens. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { freePort } from "@tdt/test-support/ports";
import { profilingArguments } from "../../scripts/stack.js";

export interface RunningBaseline {
  url: string;
  /** Its process and its database, for the CPU they spend (bench/cpu.ts). */
  pid: number;
  database: string;
  stop(): Promise<void>;
}

export async function startBaseline(): Promise<RunningBaseline> {
  const port = await freePort();
  const server = fileURLToPath(new URL("./server.ts", import.meta.url));
  const child = spawn(process.execPath, [...profilingArguments("baseline", process.env), "--import", "tsx", server], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const database = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the baseline exited (${code}) before listening`)));
    child.stdout.on("data", (chunk: Buffer) => {
      const listening = /listening \d+ (\S+)/.exec(chunk.toString());
      if (listening?.[1]) resolve(listening[1]);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    database,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
