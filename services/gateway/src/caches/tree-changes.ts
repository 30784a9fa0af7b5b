import { DEFAULT_ORGANIZATION_ID, type Logger, type NatsLink } from "@tdt/kit";
import { TREE_EVENTS } from "@tdt/proto/contracts/tree-events";
import { keepCacheTrue } from "./cache-feed.js";
import type { ResponseCache } from "./response-cache.js";

/** The tag of an organization's lists: a change of one of its trees makes them stale, no other's. */
export const treeListsOf = (organization: string) => `trees:${organization}`;

/** The cache tags a change of tree `id` of `organization` makes stale: the tree's own answers and its organization's lists. */
export function tagsOfTree(id: string, organization: string): string[] {
  return [`tree:${id}`, treeListsOf(organization)];
}

/** Keeps the trees answers of `cache` true: every `trees.tree.changed` drops what showed that tree. */
export function followTreeChanges(options: { nats: NatsLink; cache: ResponseCache; log: Logger }): {
  close(): Promise<void>;
} {
  // An event from before organizations names none: the default organization's.
  return keepCacheTrue({
    ...options,
    source: TREE_EVENTS,
    tagsOf: (item) => tagsOfTree(item.event.tree_id, item.event.organization_id || DEFAULT_ORGANIZATION_ID),
  });
}
