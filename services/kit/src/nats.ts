import { connect, type NatsConnection } from "@nats-io/transport-node";
import { redactUrl } from "./config.js";
import type { Logger } from "./logger.js";

export type { NatsConnection };

/**
 * A NATS connection that never gives up: it waits for the first connect and reconnects for
 * ever after, logging each change of state.
 */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(","),
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
  });
  log.info({ url: redactUrl(url) }, "nats connected");
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") {
        log.warn({ nats: status.type }, `nats ${status.type}`);
      }
    }
  })();
  return nc;
}
