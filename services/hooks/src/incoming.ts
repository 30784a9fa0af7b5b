/**
 * What the hooks service's consumers make of an event on the session and tree streams: the
 * delivery to queue (its organization, its webhook type, its order, and its CloudEvents body),
 * or nothing for an event no endpoint hears (a session's steps).
 */
import { DEFAULT_ORGANIZATION_ID } from "@tdt/kit";
import { decodeSessionEvent, SESSION_SUBJECTS } from "@tdt/proto/contracts/session-events";
import { decodeTreeEvent, type TreeChange } from "@tdt/proto/contracts/tree-events";
import { cloudEvent, eventTypeOf } from "./cloud-event.js";
import type { IncomingEvent } from "./delivery-store.js";

/** `publicUrl`: the deployment's address, the events' `source` and where report links point. */
export function incomingOf(subject: string, data: Uint8Array, publicUrl: string): IncomingEvent | undefined {
  const base = publicUrl.replace(/\/+$/, "");
  const session = decodeSessionEvent(subject, data);
  if (session) {
    const type = eventTypeOf(subject);
    if (!type || session.subject === SESSION_SUBJECTS.step) return undefined;
    const { event } = session;
    const occurredAt = new Date(event.occurred_at ?? 0);
    const common = {
      session_id: event.session_id,
      tree_id: event.tree_id,
      tree_version: event.tree_version,
      user_id: event.user_id,
      node_id: event.node_id,
    };
    const data =
      session.subject === SESSION_SUBJECTS.completed
        ? {
            ...common,
            outcome: session.event.outcome,
            total_duration_ms: Number(session.event.total_duration_ms),
            report_url: `${base}/api/v1/sessions/${event.session_id}/export?format=pdf`,
          }
        : common;
    return {
      orgId: event.organization_id || DEFAULT_ORGANIZATION_ID,
      eventId: event.event_id,
      type,
      orderingKey: `session:${event.session_id}`,
      occurredAt,
      body: JSON.stringify(
        cloudEvent({ id: event.event_id, source: base, type, subject: event.session_id, time: occurredAt, data }),
      ),
    };
  }
  const tree = decodeTreeEvent(subject, data);
  if (!tree) return undefined;
  const { event } = tree;
  const type = eventTypeOf(subject, event.change as TreeChange);
  if (!type) return undefined;
  const occurredAt = new Date(event.occurred_at ?? 0);
  return {
    orgId: event.organization_id || DEFAULT_ORGANIZATION_ID,
    eventId: event.event_id,
    type,
    orderingKey: `tree:${event.tree_id}`,
    occurredAt,
    body: JSON.stringify(
      cloudEvent({
        id: event.event_id,
        source: base,
        type,
        subject: event.tree_id,
        time: occurredAt,
        data: { tree_id: event.tree_id, version: event.version, change: event.change },
      }),
    ),
  };
}
