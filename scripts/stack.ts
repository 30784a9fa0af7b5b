/**
 * The four services as child processes: started together, waited for through the gateway's
 * /ready, stopped with SIGTERM. Used by the run command and by the system tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./root.js";

export const SERVICES = ["auth", "trees", "sessions", "gateway"] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface RunningStack {
  gatewayUrl: string;
  processes: Map<ServiceName, ChildProcess>;
  /** Starts a service again (after it stopped), with the same environment, and waits for /ready. */
  restart(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  env: NodeJS.ProcessEnv;
  /** Settings for one service alone, over `env`: its own NATS user or certificate, say. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Receives every log line of every service. */
  onLine: (service: ServiceName, line: string) => void;
  /** Called when a service exits while the stack runs. */
  onExit?: (service: ServiceName, code: number | null) => void;
  readyTimeoutMs?: number;
}

function startService(name: ServiceName, options: StackOptions): ChildProcess {
  const child = spawn(process.execPath, [resolve(ROOT, "services", name, "dist", "main.js")], {
    env: { ...options.env, ...options.serviceEnv?.[name] },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: Ctrl-C reaches only the runner, which stops services one way, in order.
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => options.onLine(name, line));
  }
  return child;
}

/** Polls the gateway's /ready until it answers 200. */
export async function waitForReady(gatewayUrl: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (!alive()) throw new Error("a service exited during start");
    try {
      const response = await fetch(`${gatewayUrl}/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
  throw new Error(`the gateway was not ready within ${timeoutMs} ms: ${last}`);
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const processes = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  for (const name of SERVICES) {
    const child = startService(name, options);
    processes.set(name, child);
    child.once("exit", (code) => {
      if (!stopping) options.onExit?.(name, code);
    });
  }
  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...processes.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
            child.once("exit", () => {
              clearTimeout(force);
              done();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  };
  const gatewayUrl = `http://127.0.0.1:${options.env.GATEWAY_PORT ?? 8000}`;
  const alive = () => [...processes.values()].every((child) => child.exitCode === null && child.signalCode === null);
  const restart = async (name: ServiceName) => {
    const previous = processes.get(name);
    if (previous && previous.exitCode === null && previous.signalCode === null) {
      throw new Error(`${name} is still running`);
    }
    processes.set(name, startService(name, options));
    await waitForReady(gatewayUrl, options.readyTimeoutMs ?? 60_000, alive);
  };
  try {
    await waitForReady(gatewayUrl, options.readyTimeoutMs ?? 60_000, alive);
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl, processes, restart, stop };
}
