import { AUTH_EVENTS } from "@tdt/proto/contracts/auth-events";
import { followEvents } from "./events.js";
import type { Logger } from "./logger.js";
import type { NatsLink } from "./nats.js";
import type { RevocationList } from "./revocations.js";

/** After a failure to follow, wait this long, doubling up to the maximum, so a lasting fault logs sparingly. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;

export interface RevocationFeed {
  close(): Promise<void>;
}

/**
 * Feeds `revocations` from the auth events over the process's NATS link, in the background:
 * the process serves while NATS is out of reach (tokens then stay valid until their `exp`, as
 * without events) and catches up once it connects, replaying every event that can still
 * matter to an unexpired access token. Closing it leaves the link open: its owner closes it.
 */
export function followRevocations(options: {
  nats: NatsLink;
  revocations: RevocationList;
  accessTokenTtlSeconds: number;
  log: Logger;
}): RevocationFeed {
  const { revocations, accessTokenTtlSeconds, log } = options;
  let closed = false;
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

  const run = async () => {
    let retryDelay = FIRST_RETRY_DELAY_MS;
    while (!closed) {
      try {
        const nc = await options.nats.connection();
        if (closed) return;
        // Every event that can still matter: an access token issued before it lives at most the TTL.
        const since = new Date(Date.now() - (accessTokenTtlSeconds + 60) * 1000);
        stopFollowing = await followEvents(nc, AUTH_EVENTS, since, (item) => revocations.record(item), log);
        if (closed) await stopFollowing();
        else log.info({ since: since.toISOString() }, "following auth events");
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
      await stopFollowing?.();
    },
  };
}
