import { followEvents, type Logger, type NatsLink } from "@tdt/kit";
import { TREE_EVENTS, type TreeEvent } from "@tdt/proto/contracts/tree-events";
import type { ResponseCache } from "./response-cache.js";

/** After a failure to follow, wait this long, doubling up to the maximum. */
const FIRST_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 10_000;

/** The cache tags a change of tree `id` makes stale: the tree's own answers and every list. */
export function tagsOfTree(id: string): string[] {
  return [`tree:${id}`, "trees"];
}

/**
 * Keeps `cache` true to the trees service: every `trees.tree.changed` drops what showed that
 * tree, and the cache is live only while the events are being followed (NATS up, stream
 * there), empty and bypassed otherwise. In the background: NATS being down never stops the
 * gateway, it only sends every read to the service.
 */
export function followTreeChanges(options: { nats: NatsLink; cache: ResponseCache; log: Logger }): {
  close(): Promise<void>;
} {
  const { cache, log } = options;
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
          TREE_EVENTS,
          new Date(),
          (item: TreeEvent) => cache.invalidate(tagsOfTree(item.event.tree_id)),
          log,
          { following: () => cache.setLive(!closed), interrupted: () => cache.setLive(false) },
        );
        if (closed) await stopFollowing();
        return;
      } catch (error) {
        if (closed) return;
        log.warn({ err: error, retry_in_ms: retryDelay }, "cannot follow tree changes yet; retrying");
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
