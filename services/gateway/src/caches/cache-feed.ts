import { type EventSource, followInBackground, type Logger, type NatsLink } from "@tdt/kit";
import type { ResponseCache } from "./response-cache.js";

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
  const { cache } = options;
  let closed = false;
  const feed = followInBackground({
    ...options,
    // Changes before now do not matter: the cache starts empty.
    since: () => new Date(),
    handle: (event) => cache.invalidate(options.tagsOf(event)),
    watch: { following: () => cache.setLive(!closed), interrupted: () => cache.setLive(false) },
    firstRetryDelayMs: 500,
  });
  return {
    async close() {
      closed = true;
      cache.setLive(false);
      await feed.close();
    },
  };
}
