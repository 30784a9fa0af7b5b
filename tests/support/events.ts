/** Collects the auth events a test causes, decoded from the private NATS of that test. */

import { connectNats, type EventSource, followEvents, type NatsSettings } from "@tdt/kit";
import { AUTH_EVENTS, type AuthEvent, decodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import { SESSION_EVENTS, type SessionEvent } from "@tdt/proto/contracts/session-events";
import { Changes } from "./changes.js";
import { testLogger } from "./silent-logger.js";

export interface EventLog<E = AuthEvent> {
  events: E[];
  /** Waits until `check` holds of the events so far, checking again as each one arrives. */
  until(check: (events: E[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Follows every auth event as a consumer (`nats.as("gateway")`, say): it waits for auth's stream. */
export function recordAuthEvents(nats: NatsSettings): Promise<EventLog> {
  return recordEvents(nats, AUTH_EVENTS);
}

/** Follows every sessions event, as a user that may read them (`nats.as("trees")`). */
export function recordSessionEvents(nats: NatsSettings): Promise<EventLog<SessionEvent>> {
  return recordEvents(nats, SESSION_EVENTS);
}

async function recordEvents<E>(nats: NatsSettings, source: EventSource<E>): Promise<EventLog<E>> {
  const log = testLogger();
  const nc = await connectNats(nats, "test-recorder", log);
  const events: E[] = [];
  const arrived = new Changes();
  const stop = await followEvents(
    nc,
    source,
    new Date(0),
    (item) => {
      events.push(item);
      arrived.notify();
    },
    log,
  );
  return {
    events,
    until: async (check, what, timeoutMs) => {
      await arrived.until(() => check(events), what, timeoutMs);
    },
    close: async () => {
      await stop();
      await nc.close();
    },
  };
}

export { decodeAuthEvent };
