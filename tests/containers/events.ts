/**
 * A consumer of the stack's session events, as an internal service would read them: an ordered
 * consumer of SESSION_EVENTS over every NATS server of the cluster, as the trees user (which may
 * read that stream). `check` compares what arrived with what the API acknowledged: every
 * acknowledged start, step and completion has its event, none twice, and each session's events
 * come in the order they happened.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { decodeSessionEvent, SESSION_SUBJECTS } from "@tdt/proto/contracts/session-events";

export interface Acknowledged {
  /** Sessions whose start was answered 201. */
  started: Set<string>;
  /** Per session, how many of its steps were answered 200. */
  steps: Map<string, number>;
  /** Sessions whose completion was answered 200. */
  completed: Set<string>;
}

export const acknowledged = (): Acknowledged => ({ started: new Set(), steps: new Map(), completed: new Set() });

export interface EventReport {
  events: number;
  duplicates: number;
  /** Acknowledged writes with no event. */
  lost: number;
  /** Sessions whose events came out of order. */
  outOfOrder: number;
  /** Events of writes the API did not acknowledge (a write that failed after committing). */
  unacknowledged: number;
}

/** Reads the whole stream now (until it has been idle a moment) and checks it against `acks`. */
export async function checkSessionEvents(
  servers: string[],
  password: string,
  acks: Acknowledged,
  options: { settleMs?: number; orderOf?: (session: string) => boolean } = {},
): Promise<EventReport> {
  const settleMs = options.settleMs ?? 20_000;
  const nc = await connect({ servers, user: "trees", pass: password, reconnectTimeWait: 250 });
  try {
    // Wait until the stream holds everything the relays still had to send.
    const jsm = await jetstreamManager(nc);
    let last = -1;
    const deadline = Date.now() + settleMs;
    for (;;) {
      const count = (await jsm.streams.info("SESSION_EVENTS")).state.messages;
      if (count === last || Date.now() > deadline) break;
      last = count;
      await new Promise((wake) => setTimeout(wake, 2000));
    }
    const consumer = await jetstream(nc).consumers.get("SESSION_EVENTS");
    const ids = new Set<string>();
    let duplicates = 0;
    let events = 0;
    const seen = { started: new Set<string>(), steps: new Map<string, number[]>(), completed: new Set<string>() };
    const disorder = new Set<string>();
    const messages = await consumer.fetch({ max_messages: 1_000_000, expires: 5000 });
    const total = (await jsm.streams.info("SESSION_EVENTS")).state.messages;
    for await (const message of messages) {
      events++;
      const decoded = decodeSessionEvent(message.subject, message.data);
      if (decoded) {
        const { event } = decoded;
        if (ids.has(event.event_id)) duplicates++;
        ids.add(event.event_id);
        const session = event.session_id;
        if (decoded.subject === SESSION_SUBJECTS.started) {
          seen.started.add(session);
        } else if (decoded.subject === SESSION_SUBJECTS.step && "seq" in event) {
          if (!seen.started.has(session) || seen.completed.has(session)) disorder.add(session);
          const list = seen.steps.get(session) ?? [];
          if (list.length > 0 && (list.at(-1) ?? -1) >= event.seq) disorder.add(session);
          list.push(event.seq);
          seen.steps.set(session, list);
        } else if (decoded.subject === SESSION_SUBJECTS.completed) {
          if (!seen.started.has(session)) disorder.add(session);
          seen.completed.add(session);
        }
      }
      if (events >= total) break;
    }
    let lost = 0;
    let unacknowledged = 0;
    for (const session of acks.started) if (!seen.started.has(session)) lost++;
    for (const session of acks.completed) if (!seen.completed.has(session)) lost++;
    for (const [session, steps] of acks.steps) {
      lost += Math.max(0, steps - (seen.steps.get(session)?.length ?? 0));
    }
    for (const session of seen.started) if (!acks.started.has(session)) unacknowledged++;
    const outOfOrder = [...disorder].filter((session) => options.orderOf?.(session) ?? true).length;
    return { events, duplicates, lost, outOfOrder, unacknowledged };
  } finally {
    await nc.close();
  }
}
