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
            // The report as its export gives it (absent past 100 KB), and where its PDF is.
            ...(session.event.report_markdown ? { report_markdown: session.event.report_markdown } : {}),
            report_url: `${base}/api/v1/sessions/${event.session_id}/export?format=pdf`,
          }
        : common;
    return delivery(base, event, type, `session:${event.session_id}`, event.session_id, data);
  }
  const tree = decodeTreeEvent(subject, data);
  if (!tree) return undefined;
  const { event } = tree;
  const type = eventTypeOf(subject, event.change as TreeChange);
  if (!type) return undefined;
  return delivery(base, event, type, `tree:${event.tree_id}`, event.tree_id, {
    tree_id: event.tree_id,
    version: event.version,
    change: event.change,
  });
}

/** The delivery of one event: its organization (the default one's before organizations), order and body. */
function delivery(
  base: string,
  event: { event_id: string; occurred_at?: string | undefined; organization_id: string },
  type: string,
  orderingKey: string,
  subject: string,
  data: unknown,
): IncomingEvent {
  const occurredAt = new Date(event.occurred_at ?? 0);
  return {
    orgId: event.organization_id || DEFAULT_ORGANIZATION_ID,
    eventId: event.event_id,
    type,
    orderingKey,
    occurredAt,
    body: JSON.stringify(cloudEvent({ id: event.event_id, source: base, type, subject, time: occurredAt, data })),
  };
}
