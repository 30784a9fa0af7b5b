import { redactUrl } from "./config.js";
import { followAuthEvents } from "./events.js";
import type { Logger } from "./logger.js";
import { connectNats, type NatsConnection, type NatsSettings } from "./nats.js";
import type { RevocationList } from "./revocations.js";

/** How often to say that NATS is still out of reach. */
const WAITING_WARNING_MS = 10_000;
/** After a failure to follow, wait this long, doubling up to the maximum, so a lasting fault logs sparingly. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;

export interface RevocationFeed {
  close(): Promise<void>;
}

/**
 * Feeds `revocations` from the auth events, in the background: the process serves while NATS
 * is out of reach (tokens then stay valid until their `exp`, as without events) and catches up
 * once it connects, replaying every event that can still matter to an unexpired access token.
 */
export function followRevocations(
  options: NatsSettings & {
    /** This process's name on the NATS connection. */
    name?: string;
    revocations: RevocationList;
    accessTokenTtlSeconds: number;
    log: Logger;
  },
): RevocationFeed {
  const { natsUrl, revocations, accessTokenTtlSeconds, log } = options;
  let closed = false;
  let nc: NatsConnection | undefined;
  let stopFollowing: (() => Promise<void>) | undefined;
  let wakeUp: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const connect = async (): Promise<NatsConnection> => {
    // connectNats waits for the first connect for ever; say so while it does.
    const warning = setInterval(
      () => log.warn({ url: redactUrl(natsUrl) }, "nats not reachable yet; revoked sessions are not seen until it is"),
      WAITING_WARNING_MS,
    );
    warning.unref();
    try {
      return await connectNats(options, options.name ?? "gateway", log);
    } finally {
      clearInterval(warning);
    }
  };

  const run = async () => {
    let retryDelay = FIRST_RETRY_DELAY_MS;
    while (!closed) {
      try {
        nc ??= await connect();
        if (closed) {
          await nc.close();
          return;
        }
        // Every event that can still matter: an access token issued before it lives at most the TTL.
        const since = new Date(Date.now() - (accessTokenTtlSeconds + 60) * 1000);
        stopFollowing = await followAuthEvents(nc, since, (item) => revocations.record(item), log);
        log.info({ since: since.toISOString() }, "following auth events");
        return;
      } catch (error) {
        if (closed) return;
        log.warn({ err: error, retry_in_ms: retryDelay }, "cannot follow auth events yet; retrying");
        await pause(retryDelay);
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  };
  void run();

  return {
    async close() {
      closed = true;
      wakeUp?.();
      // Still waiting for NATS: `run` closes the connection once it has one.
      if (!nc) return;
      await stopFollowing?.();
      await nc.close();
    },
  };
}
