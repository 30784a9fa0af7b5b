import { AUTH_EVENTS } from "@tdt/proto/contracts/auth-events";
import { type EventSource, type FollowWatch, followEvents } from "./events.js";
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
 * Follows `source` over the process's NATS link in the background, from `since()` (read when
 * the link is open) on, calling `handle` for each event: the process serves while NATS is out
 * of reach and catches up once it connects. `watch` hears when the events are being followed
 * and when they stop. Closing it leaves the link open: its owner closes it.
 */
export function followInBackground<E>(options: {
  nats: NatsLink;
  source: EventSource<E>;
  since: () => Date;
  handle: (event: E) => void;
  log: Logger;
  watch?: FollowWatch;
  firstRetryDelayMs?: number;
}): { close(): Promise<void> } {
  const { source, log } = options;
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
    let retryDelay = options.firstRetryDelayMs ?? FIRST_RETRY_DELAY_MS;
    while (!closed) {
      try {
        const nc = await options.nats.connection();
        if (closed) return;
        const since = options.since();
        stopFollowing = await followEvents(nc, source, since, options.handle, log, options.watch);
        if (closed) await stopFollowing();
        else log.info({ stream: source.stream, since: since.toISOString() }, "following events");
        return;
      } catch (error) {
        if (closed) return;
        log.warn({ err: error, stream: source.stream, retry_in_ms: retryDelay }, "cannot follow events yet; retrying");
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

/**
 * Feeds `revocations` from the auth events, in the background: the process serves while NATS is
 * out of reach (tokens then stay valid until their `exp`, as without events) and catches up once
 * it connects, replaying every event that can still matter to an unexpired access token.
 */
export function followRevocations(options: {
  nats: NatsLink;
  revocations: RevocationList;
  accessTokenTtlSeconds: number;
  log: Logger;
}): RevocationFeed {
  const { revocations, accessTokenTtlSeconds } = options;
  return followInBackground({
    nats: options.nats,
    source: AUTH_EVENTS,
    // Every event that can still matter: an access token issued before it lives at most the TTL.
    since: () => new Date(Date.now() - (accessTokenTtlSeconds + 60) * 1000),
    handle: (item) => revocations.record(item),
    log: options.log,
  });
}
