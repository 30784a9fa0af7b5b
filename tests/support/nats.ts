/**
 * A private nats-server with JetStream for one test file: its own port and store, so streams
 * and consumers never mix between runs, and a test may stop and restart it.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer, startNatsServer } from "../../scripts/infrastructure.js";
import { freePort } from "./ports.js";

export interface PrivateNats {
  url: string;
  /** Stops the server; its store stays, so `start` brings back the same streams. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its store. */
  dispose(): Promise<void>;
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const binary = findNatsServer();
  if (!binary) throw new Error("nats-server is not installed (apt-get install nats-server); .ci/run installs it");
  const port = await freePort();
  const store = await mkdtemp(join(tmpdir(), "tdt-nats-"));
  let child: ChildProcess | undefined = await startNatsServer(binary, port, store);
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((done) => {
      running.once("exit", () => done());
      running.kill("SIGTERM");
    });
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    stop,
    start: async () => {
      child = await startNatsServer(binary, port, store);
    },
    dispose: async () => {
      await stop();
      await rm(store, { recursive: true, force: true });
    },
  };
}
