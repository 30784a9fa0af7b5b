/** Collects the auth events a test causes, decoded from the private NATS of that test. */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type AuthEvent, decodeAuthEvent, ensureAuthEventsStream, followAuthEvents } from "@tdt/kit";
import { testLogger } from "./silent-logger.js";

export interface EventLog {
  events: AuthEvent[];
  close(): Promise<void>;
}

export async function recordAuthEvents(natsUrl: string): Promise<EventLog> {
  const nc: NatsConnection = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  await ensureAuthEventsStream(nc);
  const events: AuthEvent[] = [];
  const stop = await followAuthEvents(nc, new Date(0), (item) => events.push(item), testLogger());
  return {
    events,
    close: async () => {
      await stop();
      await nc.close();
    },
  };
}

export { decodeAuthEvent };
