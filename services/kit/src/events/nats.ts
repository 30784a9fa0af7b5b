import { readFileSync } from "node:fs";
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { type NatsCredentials, redactUrl } from "../config.js";
import type { Logger } from "../observability/logger.js";

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

/** How often to say that NATS is still out of reach. */
const WAITING_WARNING_MS = 10_000;

/**
 * The one NATS connection of a process, opened the first time something asks for it (the
 * outbox relay, a durable consumer, the revocation feed) and shared by all of them. Opening
 * waits for NATS for ever, in the background: the process serves meanwhile.
 */
export interface NatsLink {
  /** The connection once it is open, else undefined (and the first call starts opening it). */
  current(): NatsConnection | undefined;
  /** Resolves with the connection once it is open; never rejects while the link is open. */
  connection(): Promise<NatsConnection>;
  /**
   * The connection while it is connected, else undefined: for a publish that is worth doing only
   * now (one that would wait for a reconnect is better left to the outbox relay).
   */
  connected(): NatsConnection | undefined;
  /** Drains the connection if it was opened; one still being opened is closed once it is. */
  close(): Promise<void>;
}

/** A lazily opened connection as `name`, this process's name on NATS and in its logs. */
export function natsLink(settings: NatsSettings, name: string, log: Logger): NatsLink {
  let opening: Promise<NatsConnection> | undefined;
  let open: NatsConnection | undefined;
  let up = false;
  let closed = false;

  const followState = async (nc: NatsConnection) => {
    up = true;
    for await (const status of nc.status()) {
      if (status.type === "disconnect") up = false;
      else if (status.type === "reconnect") up = true;
    }
  };

  const connection = (): Promise<NatsConnection> => {
    if (!opening) {
      // connectNats waits for the first connect for ever; say so while it does.
      const warning = setInterval(
        () => log.warn({ url: redactUrl(settings.natsUrl) }, "nats not reachable yet; events wait until it is"),
        WAITING_WARNING_MS,
      );
      warning.unref();
      opening = connectNats(settings, name, log).then(
        async (nc) => {
          clearInterval(warning);
          if (closed) await nc.close();
          open = nc;
          void followState(nc);
          return nc;
        },
        (error: unknown) => {
          clearInterval(warning);
          throw error;
        },
      );
    }
    return opening;
  };

  /** Starts opening the link on first use, in the background. */
  const startOpening = () => {
    if (!opening) void connection().catch((error: unknown) => log.error({ err: error }, "nats connect failed"));
  };

  return {
    current() {
      startOpening();
      return open;
    },
    connection,
    connected() {
      startOpening();
      return up && open && !open.isClosed() ? open : undefined;
    },
    async close() {
      closed = true;
      if (open && !open.isClosed()) await open.drain().catch(() => {});
    },
  };
}
