/**
 * A durable consumer given events in batches (EventConsumer.handleBatch): on a real NATS, as the
 * services' own users, the events that wait behind one another come together, every event is
 * handled once, and one event that cannot be handled holds back only itself.
 */
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { SESSION_EVENTS } from "@tdt/proto/contracts/session-events";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BATCH_MOST,
  consumeDurably,
  type EventContext,
  type EventSource,
  ensureStream,
} from "../src/events/streams.js";

interface Numbered {
  n: number;
  poison: boolean;
}

/** The session events' stream, its messages read as `{n, poison}` JSON: the test's own events. */
const NUMBERED: EventSource<Numbered> = {
  stream: SESSION_EVENTS.stream,
  subjects: SESSION_EVENTS.subjects,
  decode: (_subject, data) => JSON.parse(Buffer.from(data).toString()) as Numbered,
};

let nats: PrivateNats;
let publisher: NatsConnection;
let subscriber: NatsConnection;

beforeAll(async () => {
  nats = await startPrivateNats();
  // As the services themselves: sessions owns and publishes the stream, trees consumes it.
  publisher = await connect({ servers: nats.url, user: "sessions", pass: nats.passwords.sessions });
  subscriber = await connect({ servers: nats.url, user: "trees", pass: nats.passwords.trees });
  await ensureStream(publisher, SESSION_EVENTS);
});

afterAll(async () => {
  await subscriber?.close();
  await publisher?.close();
  await nats?.dispose();
});

describe("a consumer that takes batches", () => {
  it("gets the events waiting together, each handled once; a poisoned batch is handled one by one", async () => {
    const js = jetstream(publisher);
    const COUNT = 150;
    const POISON = 77;
    for (let n = 0; n < COUNT; n++) {
      await js.publish("sessions.step", JSON.stringify({ n, poison: n === POISON }), { msgID: `event-${n}` });
    }
    const batchSizes: number[] = [];
    const handled: number[] = [];
    let poisonTries = 0;
    const refuse = (event: Numbered) => {
      if (event.poison) throw new Error(`event ${event.n} cannot be handled`);
    };
    const stop = await consumeDurably(
      subscriber,
      {
        source: NUMBERED,
        durable: "trees-analytics",
        subject: SESSION_EVENTS.subjects,
        async handle(event) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (event.poison) poisonTries += 1;
          refuse(event);
          handled.push(event.n);
        },
        async handleBatch(events: Array<[Numbered, EventContext]>) {
          // As long as a transaction takes: what arrives meanwhile waits for the next batch.
          await new Promise((resolve) => setTimeout(resolve, 5));
          for (const [event] of events) refuse(event);
          batchSizes.push(events.length);
          handled.push(...events.map(([event]) => event.n));
        },
      },
      testLogger("kit-event-batches-test"),
    );
    try {
      await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(COUNT - 1);
      // Redelivered after its nak (1 s), and refused again: it never counts, nor holds others back.
      await expect.poll(() => poisonTries, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      // Bursts after a quiet spell, while the consumer waits, as a relay sends them (core
      // publishes, then a flush): each is handled whole at once. A batch ends with what has
      // arrived: one that waited for a message still to come held the last 45 events of a burst
      // in analytics-rebuild.test.ts's live consumer, which is where that stall shows.
      let sent = COUNT;
      for (const size of [299, 45, 1, 120]) {
        for (let i = 0; i < size; i++) {
          publisher.publish("sessions.step", JSON.stringify({ n: sent + i, poison: false }));
        }
        sent += size;
        await publisher.flush();
        await expect.poll(() => handled.length, { timeout: 3_000, interval: 10 }).toBe(sent - 1);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } finally {
      await stop();
    }
    expect(new Set(handled).size).toBe(COUNT - 1 + 299 + 45 + 1 + 120);
    expect(handled).not.toContain(POISON);
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(BATCH_MOST);
    // In the order they came, within and across batches (the bursts' publishes race each other).
    const first = handled.filter((n) => n < COUNT);
    expect([...first].sort((a, b) => a - b)).toEqual(first);
  });
});
