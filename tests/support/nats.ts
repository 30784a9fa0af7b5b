/**
 * A private nats-server for one test file, on the shipped config (a user per service, each
 * with only its permissions): its own port, store and passwords, so streams and consumers
 * never mix between runs, every test runs with the permissions enforced, and a test may stop
 * and restart it.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsCredentials, NatsSettings } from "@tdt/kit";
import {
  findNatsServer,
  generateNatsPasswords,
  type NatsPasswords,
  natsServiceEnv,
  startNatsServer,
} from "../../scripts/infrastructure.js";
import type { ServiceName } from "../../scripts/stack.js";
import { freePort } from "./ports.js";

export interface PrivateNats {
  url: string;
  passwords: NatsPasswords;
  /** Each service's NATS user, as environment for startStack's serviceEnv. */
  serviceEnv: Record<ServiceName, NodeJS.ProcessEnv>;
  /** Connection settings as `service`'s NATS user, for connectNats and the consumers. */
  as(service: ServiceName): NatsSettings & { natsCredentials: NatsCredentials & { user: string; password: string } };
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
  const passwords = generateNatsPasswords();
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined = await startNatsServer(binary, port, store, passwords);
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
    url,
    passwords,
    serviceEnv: natsServiceEnv(passwords),
    as: (service) => ({ natsUrl: url, natsCredentials: { user: service, password: passwords[service] } }),
    stop,
    start: async () => {
      child = await startNatsServer(binary, port, store, passwords);
    },
    dispose: async () => {
      await stop();
      await rm(store, { recursive: true, force: true });
    },
  };
}
