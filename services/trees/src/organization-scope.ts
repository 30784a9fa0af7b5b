import { inOrganization, type OutboxEvent, type Sql } from "@tdt/kit";
import { AuthoringStore } from "./authoring-store.js";
import { TranslationStore } from "./translations.js";
import type { TreeAnnouncer } from "./tree-events.js";
import { TreeStore } from "./tree-store.js";
import { validateTree } from "./validation.js";

/** The stores of one organization's transaction: what they read and write is that organization's alone. */
export interface TreeStores {
  store: TreeStore;
  authoring: AuthoringStore;
  translations: TranslationStore;
  /** The transaction itself, for reads outside the stores (analytics). */
  sql: Sql;
}

/** Runs `work` with the stores of organization `org`, in one transaction the wall scopes to it. */
export type WithinOrganization = <T>(org: string, work: (stores: TreeStores) => Promise<T>) => Promise<T>;

/**
 * Every call of the trees service runs in a transaction of its caller's organization
 * (docs/decisions/organizations.md): the database shows it that organization's rows only, so
 * an id of another is unknown (404) with no check in the code. The stores' events are written to
 * the outbox in that transaction and published once it has committed, as before (never before
 * the commit: a reader told of a change must find it).
 */
export function withinOrganization(sql: Sql, announcer: TreeAnnouncer): WithinOrganization {
  return async (org, work) => {
    let committed: OutboxEvent[] = [];
    const result = await inOrganization(sql, org, async (tx) => {
      // Kept per attempt: a transaction retried whole starts its list again.
      const events: OutboxEvent[] = [];
      committed = events;
      const deferred: TreeAnnouncer = {
        record: (inner, treeId, version, change) => announcer.record(inner, treeId, version, change, org),
        publish: async (event) => {
          events.push(event);
        },
      };
      const scoped = tx as unknown as Sql;
      const store = new TreeStore(scoped, deferred);
      const authoring = new AuthoringStore(scoped, deferred, (ids) => store.missingTrees(ids), validateTree);
      return work({ store, authoring, translations: new TranslationStore(scoped), sql: scoped });
    });
    for (const event of committed) await announcer.publish(event);
    return result;
  };
}
