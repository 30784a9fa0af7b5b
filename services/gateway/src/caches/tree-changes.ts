import type { Logger, NatsLink } from "@tdt/kit";
import { TREE_EVENTS } from "@tdt/proto/contracts/tree-events";
import { keepCacheTrue } from "./cache-feed.js";
import type { ResponseCache } from "./response-cache.js";

/** The cache tags a change of tree `id` makes stale: the tree's own answers and every list. */
export function tagsOfTree(id: string): string[] {
  return [`tree:${id}`, "trees"];
}

/** Keeps the trees answers of `cache` true: every `trees.tree.changed` drops what showed that tree. */
export function followTreeChanges(options: { nats: NatsLink; cache: ResponseCache; log: Logger }): {
  close(): Promise<void>;
} {
  return keepCacheTrue({ ...options, source: TREE_EVENTS, tagsOf: (item) => tagsOfTree(item.event.tree_id) });
}
