import { type EventConsumer, ensureStream, type Logger, type NatsConnection, type StreamOptions } from "@tdt/kit";
import { AUTH_EVENTS, AUTH_SUBJECTS, type AuthEvent } from "@tdt/proto/contracts/auth-events";
import { SESSION_EVENTS } from "@tdt/proto/contracts/session-events";
import type { SessionStore } from "./session-store.js";

/** Creates SESSION_EVENTS when missing: sessions owns it (the outbox relay's `prepare`). */
export const prepareSessionEvents = (nc: NatsConnection, options?: StreamOptions): Promise<void> =>
  ensureStream(nc, SESSION_EVENTS, options);

/**
 * The events sessions acts on, as durable consumers the kit runs on the service's NATS link:
 * it serves while NATS is down, and each consumer catches up once it is back.
 */
export function sessionsConsumers(store: SessionStore, log: Logger): EventConsumer<AuthEvent>[] {
  return [
    {
      // A deactivated user's in-progress sessions are abandoned (SPEC §6), once per event.
      source: AUTH_EVENTS,
      durable: "sessions-user-deactivated",
      subject: AUTH_SUBJECTS.userDeactivated,
      async handle(item) {
        if (item.subject !== AUTH_SUBJECTS.userDeactivated) return;
        const abandoned = await store.abandonForDeactivatedUser(item.event.event_id, item.event.user_id);
        log.info({ user_id: item.event.user_id, abandoned }, "user deactivated; sessions abandoned");
      },
    },
  ];
}
