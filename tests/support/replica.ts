/**
 * One more process of a backend service beside a test system's own: the same port and database
 * on another loopback address (Linux answers on all of 127.0.0.0/8), its own NATS user. It
 * counts the calls it served per method from its own log lines. A second gateway is started
 * the same way (its GATEWAY_PORT in `env`; `bindHost` is then its GATEWAY_HOST).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { isListeningAnnouncement } from "@tdt/kit";
import { ROOT } from "../../scripts/root.js";

export interface Replica {
  child: ChildProcess;
  /** How many calls of `path` (e.g. "/tdt.trees.v1.TreesService/ListTrees") it has answered. */
  served(path: string): number;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export async function startReplica(
  service: "auth" | "trees" | "sessions" | "gateway",
  bindHost: string,
  env: NodeJS.ProcessEnv,
): Promise<Replica> {
  const child = spawn(process.execPath, [resolve(ROOT, "services", service, "dist", "main.js")], {
    env: {
      ...process.env,
      ...env,
      ...(service === "gateway" ? { GATEWAY_HOST: bindHost } : { GRPC_BIND_HOST: bindHost }),
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const served = new Map<string, number>();
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      output.push(line);
      if (output.length > 50) output.shift();
      try {
        const entry = JSON.parse(line) as { msg?: string; rpc?: string };
        if (entry.msg === "rpc" && entry.rpc) served.set(entry.rpc, (served.get(entry.rpc) ?? 0) + 1);
      } catch {
        // Not a log line.
      }
    });
  }
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  await new Promise<void>((listening, failed) => {
    child.on("message", (message) => isListeningAnnouncement(message) && listening());
    void exited.then(() => failed(new Error(`${service} replica exited:\n${output.join("\n")}`)));
  });
  return {
    child,
    served: (path) => served.get(path) ?? 0,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
