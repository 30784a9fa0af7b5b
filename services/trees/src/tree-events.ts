import { randomUUID } from "node:crypto";
import {
  ensureStream,
  type Logger,
  type NatsConnection,
  type NatsLink,
  type OutboxEvent,
  publishNow,
  type StreamOptions,
  type TransactionSql,
  writeOutboxEvent,
} from "@tdt/kit";
import { encodeTreeEvent, TREE_EVENTS, TREE_SUBJECTS, type TreeChange } from "@tdt/proto/contracts/tree-events";

/** Creates TREE_EVENTS when missing: trees owns it (the outbox relay's `prepare`). */
export const prepareTreeEvents = (nc: NatsConnection, options?: StreamOptions): Promise<void> =>
  ensureStream(nc, TREE_EVENTS, options);

/**
 * How the store announces a change of a tree (`trees.tree.changed`): written to the outbox in
 * the change's own transaction, so no change goes unannounced, and published at once after the
 * commit, so that readers (the gateway's response cache) drop what changed before the author
 * gets the answer. The relay sends again what could not go at once.
 */
export interface TreeAnnouncer {
  record(
    tx: TransactionSql,
    treeId: string,
    version: number,
    change: TreeChange,
    /** The tree's organization (withinOrganization says it). */
    organization?: string,
  ): Promise<OutboxEvent>;
  publish(event: OutboxEvent): Promise<void>;
}

export function treeAnnouncer(nats: NatsLink, log: Logger): TreeAnnouncer {
  return {
    async record(tx, treeId, version, change, organization = "") {
      const id = randomUUID();
      const payload = encodeTreeEvent({
        subject: TREE_SUBJECTS.treeChanged,
        event: {
          event_id: id,
          occurred_at: new Date().toISOString(),
          tree_id: treeId,
          version,
          change,
          organization_id: organization,
        },
      });
      const event = { id, subject: TREE_SUBJECTS.treeChanged, payload, organization: organization || undefined };
      await writeOutboxEvent(tx, event);
      return event;
    },
    // Only while connected: during an outage the relay sends it once NATS is back, and the
    // author's answer does not wait for a reconnect.
    publish: (event) => publishNow(nats.connected(), event, log),
  };
}
