/** Collects the auth events a test causes, decoded from the private NATS of that test. */

import { connectNats, followEvents, type NatsSettings } from "@tdt/kit";
import { AUTH_EVENTS, type AuthEvent, decodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import { testLogger } from "./silent-logger.js";

export interface EventLog {
  events: AuthEvent[];
  close(): Promise<void>;
}

/** Follows every auth event as a consumer (`nats.as("gateway")`, say): it waits for auth's stream. */
export async function recordAuthEvents(nats: NatsSettings): Promise<EventLog> {
  const log = testLogger();
  const nc = await connectNats(nats, "test-recorder", log);
  const events: AuthEvent[] = [];
  const stop = await followEvents(nc, AUTH_EVENTS, new Date(0), (item) => events.push(item), log);
  return {
    events,
    close: async () => {
      await stop();
      await nc.close();
    },
  };
}

export { decodeAuthEvent };
