import type { Logger } from "../observability/logger.js";
import type { NatsLink } from "./nats.js";
import { type EventSource, type FollowWatch, followEvents } from "./streams.js";

/** After a failure to follow, wait this long, doubling up to the maximum, so a lasting fault logs sparingly. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;

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
