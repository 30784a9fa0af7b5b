import { readFileSync } from "node:fs";
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { type NatsCredentials, redactUrl } from "./config.js";
import type { Logger } from "./logger.js";

export type { NatsConnection };

/** Where NATS is and who this process is there: the `natsUrl` and `natsCredentials` settings. */
export interface NatsSettings {
  natsUrl: string;
  natsCredentials: NatsCredentials | undefined;
}

function authOptions(credentials: NatsCredentials | undefined): Partial<ConnectionOptions> {
  if (!credentials) return {};
  if ("user" in credentials) return { user: credentials.user, pass: credentials.password };
  if ("token" in credentials) return { token: credentials.token };
  // Read at every (re)connect, so a rotated creds file is picked up without a restart.
  return { authenticator: credsAuthenticator(() => readFileSync(credentials.credsFile)) };
}

/**
 * A NATS connection that never gives up: it waits for the first connect and reconnects for
 * ever after, logging each change of state. Credentials are never logged.
 */
export async function connectNats(settings: NatsSettings, name: string, log: Logger): Promise<NatsConnection> {
  const url = settings.natsUrl;
  const nc = await connect({
    servers: url.split(","),
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    ...authOptions(settings.natsCredentials),
  });
  log.info({ url: redactUrl(url), user: natsUser(settings.natsCredentials) }, "nats connected");
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") {
        log.warn({ nats: status.type }, `nats ${status.type}`);
      } else if (status.type === "error") {
        // A permissions violation: this service's NATS user lacks a subject it tried to use.
        log.error({ err: status.error }, "nats error");
      }
    }
  })();
  return nc;
}

/** The NATS user name for logs: never a password, token or key. */
function natsUser(credentials: NatsCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  if ("user" in credentials) return credentials.user;
  return "token" in credentials ? "(token)" : "(creds file)";
}
