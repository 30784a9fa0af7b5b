/**
 * The services as child processes, used by the run command and by the system tests.
 * The stack is up once every service has announced that it listens (over the IPC channel) and
 * the gateway's /ready answers 200: another program answering on the gateway's port never
 * passes for it. A service that exits while the stack starts fails the start whole: the others
 * are stopped and the error names that service and the reason from its own output. With
 * `supervise` (the run command), a service that exits once the stack is up is started again
 * after a backoff while the others keep running; without it (the system tests) it stays down
 * until `restart(name)`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { isListeningAnnouncement } from "@tdt/kit";
import { reasonIn } from "./exit-reason.js";
import { ROOT } from "./root.js";

export const SERVICES = ["auth", "trees", "sessions", "hooks", "gateway"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** A service process ended; `reason` is the last line of its output that said why. */
export class ServiceExitedError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly reason: string | undefined,
  ) {
    const how = code !== null ? `with code ${code}` : `on ${signal}`;
    super(`${service} exited ${how}: ${reason ?? "it printed no reason"}`);
    this.name = "ServiceExitedError";
  }
}

export interface RunningStack {
  gatewayUrl: string;
  processes: Map<ServiceName, ChildProcess>;
  /** Starts a service again (after it stopped), with the same environment, and waits until it is up. */
  restart(name: ServiceName): Promise<void>;
  /** SIGTERM to every service, then waits until each has exited (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export interface StackOptions {
  env: NodeJS.ProcessEnv;
  /** Settings for one service alone, over `env`: its own NATS user or certificate, say. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Receives every log line of every service. */
  onLine: (service: ServiceName, line: string) => void;
  /** Called when a service's process is spawned, at the start and at each restart. */
  onSpawn?: (service: ServiceName, child: ChildProcess) => void;
  /** Called when a service exits after the stack is up (not while it stops). */
  onExit?: (service: ServiceName, exit: ServiceExitedError) => void;
  readyTimeoutMs?: number;
  /** Restart a service that exits after the stack is up; told before each restart is scheduled. */
  supervise?: { onRestart: (service: ServiceName, restart: PlannedRestart) => void };
  /** Aborting while the stack starts stops the services started so far, and the start throws. */
  signal?: AbortSignal;
}

/** A restart the stack has scheduled for a service that exited. */
export interface PlannedRestart {
  exit: ServiceExitedError;
  delayMs: number;
  /** Exits of this service within the last minute, this one included. */
  recentExits: number;
}

/** Backoff between restarts: doubling from the first delay to the cap, reset once a run lasted. */
export const RESTART_BACKOFF = { firstMs: 500, maxMs: 10_000, resetAfterMs: 30_000 } as const;

interface Supervised {
  child: ChildProcess;
  startedAt: number;
  /** Set once the service has announced that it listens. */
  listens: boolean;
  listening: Promise<void>;
  /** Settles once the process has exited and all its output is read. */
  exited: Promise<ServiceExitedError>;
}

/**
 * TDT_CPU_PROF_DIR: each service writes V8 CPU profiles into `<dir>/<name>/` when it stops, one
 * per thread (`BENCH_PROFILE` in bench/compare.ts reads the main thread's); NODE_OPTIONS cannot
 * carry --cpu-prof.
 */
export function profilingArguments(name: string, env: NodeJS.ProcessEnv): string[] {
  const dir = env.TDT_CPU_PROF_DIR;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}/${name}`] : [];
}

function startService(name: ServiceName, options: StackOptions): Supervised {
  const main = resolve(ROOT, "services", name, "dist", "main.js");
  const child = spawn(process.execPath, [...profilingArguments(name, options.env), main], {
    env: { ...options.env, ...options.serviceEnv?.[name] },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // Its own process group: Ctrl-C reaches only the runner, which stops services one way, in order.
    detached: true,
  });
  let reason: string | undefined;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      reason = reasonIn(line) ?? reason;
      options.onLine(name, line);
    });
  }
  const service: Supervised = {
    child,
    startedAt: Date.now(),
    listens: false,
    listening: new Promise<void>((announced) =>
      child.on("message", (message) => {
        if (!isListeningAnnouncement(message)) return;
        service.listens = true;
        announced();
      }),
    ),
    exited: new Promise<ServiceExitedError>((done) =>
      child.once("close", (code, signal) => done(new ServiceExitedError(name, code, signal, reason))),
    ),
  };
  return service;
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function terminate(service: Supervised): Promise<void> {
  if (isRunning(service.child)) {
    const force = setTimeout(() => service.child.kill("SIGKILL"), 15_000);
    service.child.kill("SIGTERM");
    await service.exited;
    clearTimeout(force);
  }
  await service.exited;
}

/**
 * Resolves when every one of `services` has announced that it listens and the gateway's /ready
 * answers 200; rejects with the first of them that exits meanwhile, on abort, or at the deadline.
 */
async function untilUp(
  services: Array<[ServiceName, Supervised]>,
  gatewayUrl: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const settled = new AbortController();
  const deadline = Date.now() + timeoutMs;
  const listeningThenReady = async () => {
    const all = Promise.all(services.map(([, service]) => service.listening));
    const timedOut = sleep(timeoutMs, settled.signal).then(() => true);
    if (await Promise.race([all.then(() => false), timedOut])) {
      const silent = services.filter(([, service]) => !service.listens).map(([name]) => name);
      throw new Error(`not listening within ${timeoutMs} ms: ${silent.join(", ")}`);
    }
    await waitForReady(gatewayUrl, deadline, settled.signal);
  };
  const firstExit = Promise.race(services.map(([, service]) => service.exited.then((exit) => Promise.reject(exit))));
  try {
    await Promise.race([listeningThenReady(), firstExit, interrupted(signal)]);
  } finally {
    settled.abort();
  }
}

/** Polls the gateway's /ready until it answers 200. */
async function waitForReady(gatewayUrl: string, deadline: number, signal: AbortSignal): Promise<void> {
  let last = "no answer";
  while (Date.now() < deadline && !signal.aborted) {
    try {
      const response = await fetch(`${gatewayUrl}/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = String(error);
    }
    await sleep(200, signal);
  }
  throw new Error(`the gateway was not ready in time: ${last}`);
}

function interrupted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) reject(new Error("the start was interrupted"));
    signal?.addEventListener("abort", () => reject(new Error("the start was interrupted")), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((wake) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      wake();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const supervised = new Map<ServiceName, Supervised>();
  const processes = new Map<ServiceName, ChildProcess>();
  let phase: "starting" | "running" | "stopping" = "starting";
  const pendingRestarts = new Map<ServiceName, NodeJS.Timeout>();
  const lastDelay = new Map<ServiceName, number>();
  const exitTimes = new Map<ServiceName, number[]>();
  const launch = (name: ServiceName): Supervised => {
    const service = startService(name, options);
    options.onSpawn?.(name, service.child);
    supervised.set(name, service);
    processes.set(name, service.child);
    void service.exited.then((exit) => {
      if (phase !== "running" || supervised.get(name) !== service) return;
      options.onExit?.(name, exit);
      if (options.supervise) scheduleRestart(name, service, exit, options.supervise.onRestart);
    });
    return service;
  };
  const scheduleRestart = (
    name: ServiceName,
    service: Supervised,
    exit: ServiceExitedError,
    onRestart: (service: ServiceName, restart: PlannedRestart) => void,
  ) => {
    const now = Date.now();
    const lasted = now - service.startedAt >= RESTART_BACKOFF.resetAfterMs;
    const previous = lastDelay.get(name);
    const delayMs =
      lasted || previous === undefined ? RESTART_BACKOFF.firstMs : Math.min(previous * 2, RESTART_BACKOFF.maxMs);
    lastDelay.set(name, delayMs);
    const recent = [...(exitTimes.get(name) ?? []), now].filter((at) => now - at < 60_000);
    exitTimes.set(name, recent);
    onRestart(name, { exit, delayMs, recentExits: recent.length });
    pendingRestarts.set(
      name,
      setTimeout(() => {
        pendingRestarts.delete(name);
        // Not awaited: a service that exits again is scheduled again by its own exit.
        if (phase === "running") launch(name);
      }, delayMs),
    );
  };
  for (const name of SERVICES) launch(name);

  const stop = async () => {
    phase = "stopping";
    // A service waiting for its restart stays down.
    for (const timer of pendingRestarts.values()) clearTimeout(timer);
    pendingRestarts.clear();
    await Promise.all([...supervised.values()].map(terminate));
  };
  const gatewayUrl = `http://127.0.0.1:${options.env.GATEWAY_PORT ?? 8000}`;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  try {
    await untilUp([...supervised.entries()], gatewayUrl, timeoutMs, options.signal);
  } catch (error) {
    await stop();
    throw error;
  }
  phase = "running";

  const restart = async (name: ServiceName) => {
    const previous = supervised.get(name);
    if (previous && isRunning(previous.child)) throw new Error(`${name} is still running`);
    await untilUp([[name, launch(name)]], gatewayUrl, timeoutMs, undefined);
  };
  return { gatewayUrl, processes, restart, stop };
}
