/**
 * The events the hooks service turns into deliveries: every session and tree event, read by a
 * durable consumer of each stream (its own NATS user may create and read only these two, by
 * name: infra/nats/nats.conf). An event is acknowledged once its deliveries are stored, so one
 * published while the service was down is queued when it is back, and one handled twice makes
 * nothing twice (`unique (endpoint_id, event_id)`).
 */
import type { EventConsumer, Logger, Sql } from "@tdt/kit";
import { SESSION_EVENTS } from "@tdt/proto/contracts/session-events";
import { TREE_EVENTS } from "@tdt/proto/contracts/tree-events";
import { enqueue, type IncomingEvent } from "./delivery-store.js";
import { incomingOf } from "./incoming.js";

export const HOOKS_DURABLES = { sessions: "hooks-sessions", trees: "hooks-trees" } as const;

export function hooksConsumers(options: {
  sql: Sql;
  publicUrl: string;
  /** Deliveries were queued: the worker looks now. */
  queued: () => void;
  log: Logger;
}): EventConsumer<IncomingEvent>[] {
  const { sql, publicUrl, queued, log } = options;
  const decode = (subject: string, data: Uint8Array) => incomingOf(subject, data, publicUrl);
  const handle = async (event: IncomingEvent) => {
    const made = await enqueue(sql, event);
    if (made > 0) {
      log.debug({ event_id: event.eventId, type: event.type, deliveries: made }, "webhook deliveries queued");
      queued();
    }
  };
  return [
    {
      source: { ...SESSION_EVENTS, decode },
      durable: HOOKS_DURABLES.sessions,
      subject: SESSION_EVENTS.subjects,
      handle,
    },
    {
      source: { ...TREE_EVENTS, decode },
      durable: HOOKS_DURABLES.trees,
      subject: TREE_EVENTS.subjects,
      handle,
    },
  ];
}
