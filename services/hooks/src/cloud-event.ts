import { SESSION_SUBJECTS } from "@tdt/proto/contracts/session-events";
import { TREE_SUBJECTS, type TreeChange } from "@tdt/proto/contracts/tree-events";

/**
 * A TDT event as the body of a webhook: a CloudEvents 1.0 JSON event
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md).
 */

export interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: "application/json";
  data: unknown;
}

/** The event types an endpoint may ask for (docs/decisions/hooks.md). */
export const EVENT_TYPES = [
  "tdt.session.started",
  "tdt.session.completed",
  "tdt.session.abandoned",
  "tdt.tree.published",
  "tdt.tree.deleted",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const OF_SESSION_SUBJECT: Record<string, EventType> = {
  [SESSION_SUBJECTS.started]: "tdt.session.started",
  [SESSION_SUBJECTS.completed]: "tdt.session.completed",
  [SESSION_SUBJECTS.abandoned]: "tdt.session.abandoned",
};

/**
 * The webhook type of an event the services publish, or undefined for one no endpoint hears (a
 * session's steps). A tree made or changed is a version published; one deleted, deleted.
 */
export function eventTypeOf(subject: string, treeChange?: TreeChange): EventType | undefined {
  if (subject === TREE_SUBJECTS.treeChanged)
    return treeChange === "deleted" ? "tdt.tree.deleted" : "tdt.tree.published";
  return OF_SESSION_SUBJECT[subject];
}

export function cloudEvent(input: {
  id: string;
  source: string;
  type: string;
  subject?: string | undefined;
  time: Date;
  data: unknown;
}): CloudEvent {
  return {
    specversion: "1.0",
    id: input.id,
    source: input.source,
    type: input.type,
    ...(input.subject === undefined ? {} : { subject: input.subject }),
    time: input.time.toISOString(),
    datacontenttype: "application/json",
    data: input.data,
  };
}
