import { type EventSource, followEvents, type Logger, type NatsLink } from "@tdt/kit";
import type { ResponseCache } from "./response-cache.js";

/** After a failure to follow, wait this long, doubling up to the maximum. */
const FIRST_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 10_000;

/**
 * Keeps `cache` true to the service that owns what it holds: each event of `source` drops the
 * entries with the tags `tagsOf` gives, and the cache is live only while the events are being
 * followed (NATS up, stream there), empty and bypassed otherwise. In the background: NATS being
 * down never stops the gateway, it only sends every read to the service.
 */
export function keepCacheTrue<E>(options: {
  nats: NatsLink;
  cache: ResponseCache;
  source: EventSource<E>;
  tagsOf: (event: E) => string[];
  log: Logger;
}): { close(): Promise<void> } {
  const { cache, source, log } = options;
  let closed = false;
  let stopFollowing: (() => Promise<void>) | undefined;

  const run = async () => {
    let retryDelay = FIRST_RETRY_DELAY_MS;
    while (!closed) {
      try {
        const nc = await options.nats.connection();
        if (closed) return;
        // Changes before now do not matter: the cache starts empty.
        stopFollowing = await followEvents(
          nc,
          source,
          new Date(),
          (event: E) => cache.invalidate(options.tagsOf(event)),
          log,
          { following: () => cache.setLive(!closed), interrupted: () => cache.setLive(false) },
        );
        if (closed) await stopFollowing();
        return;
      } catch (error) {
        if (closed) return;
        log.warn({ err: error, stream: source.stream, retry_in_ms: retryDelay }, "cannot follow changes yet; retrying");
        await new Promise((wake) => setTimeout(wake, retryDelay));
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  };
  void run();

  return {
    async close() {
      closed = true;
      cache.setLive(false);
      await stopFollowing?.();
    },
  };
}
