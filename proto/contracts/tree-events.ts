/**
 * The trees events, written by hand next to their generated message type: the stream, its
 * subject and its message. The trees service publishes them (through its outbox, and at once
 * after the change commits); the gateway follows them to drop what it cached of a tree.
 * Imported as `@tdt/proto/contracts/tree-events`.
 */
import { TreeChanged } from "@tdt/proto/tdt/events/v1/events";

export const TREE_SUBJECTS = {
  treeChanged: "trees.tree.changed",
} as const;

/** What happened to the tree. */
export type TreeChange = "created" | "updated" | "deleted";

export interface TreeEvent {
  subject: typeof TREE_SUBJECTS.treeChanged;
  event: TreeChanged;
}

export function encodeTreeEvent(item: TreeEvent): Uint8Array {
  return TreeChanged.encode(item.event).finish();
}

/** The message on `subject` decoded, or undefined for a subject this contract does not know. */
export function decodeTreeEvent(subject: string, data: Uint8Array): TreeEvent | undefined {
  return subject === TREE_SUBJECTS.treeChanged ? { subject, event: TreeChanged.decode(data) } : undefined;
}

/** The JetStream stream of the trees events, created by the trees service alone (infra/nats/nats.conf). */
export const TREE_EVENTS_STREAM = "TREE_EVENTS";

/** The trees events as a stream a consumer reads. */
export const TREE_EVENTS = {
  stream: TREE_EVENTS_STREAM,
  subjects: "trees.>",
  decode: decodeTreeEvent,
} as const;
