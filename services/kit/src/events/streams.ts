import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_ORGANIZATION_ID } from "../database/organizations.js";
import { UUID_PATTERN } from "../grpc/request-checks.js";
import type { Logger } from "../observability/logger.js";
import { meter } from "../observability/metrics.js";
import { processing } from "../observability/tracing.js";
import { ORGANIZATION_HEADER } from "./outbox.js";

/**
 * A JetStream stream of events as its contract describes it (e.g. `AUTH_EVENTS` in
 * `@tdt/proto/contracts/auth-events`): the kit knows how to read a stream, never whose it is.
 */
export interface EventSource<E> {
  stream: string;
  /** Every subject on the stream, as one filter ("auth.>"). */
  subjects: string;
  /** The event on `subject`, or undefined for a subject the contract does not know. */
  decode(subject: string, data: Uint8Array): E | undefined;
}

/**
 * A durable consumer a service declares (`consumers` of its started service): the server
 * remembers what was acknowledged, so events published while the service was down are handled
 * when it is back. A message is acknowledged only after `handle` resolves, and redelivered
 * after a failure, so `handle` must be idempotent.
 */
export interface EventConsumer<E = unknown> {
  source: EventSource<E>;
  /** The durable name; the service's NATS user alone may use it (infra/nats/nats.conf). */
  durable: string;
  /** One subject of the stream. */
  subject: string;
  /** `context.organization`: the organization the event belongs to (its Tdt-Organization header). */
  handle(event: E, context: EventContext): Promise<void>;
  /**
   * Several events at once, when more than one waits (at most `BATCH_MOST`, in the order they
   * came): one transaction for them all rather than one each. All are acknowledged after it
   * resolves; when it fails, each is handled again on its own by `handle`, so one event that
   * cannot be handled holds back only itself. Like `handle`, it must be idempotent.
   */
  handleBatch?(events: Array<[E, EventContext]>): Promise<void>;
}

/** The most events a consumer's `handleBatch` is given at once. */
export const BATCH_MOST = 64;

/** What a message says of its event besides the event itself. */
export interface EventContext {
  /** The event's organization: its Tdt-Organization header; the default organization's without one. */
  organization: string;
}

/** The context of a delivered message (an event from before organizations is the default one's). */
export function contextOf(message: Pick<JsMsg, "headers">): EventContext {
  const named = message.headers?.get(ORGANIZATION_HEADER);
  return { organization: named && UUID_PATTERN.test(named) ? named : DEFAULT_ORGANIZATION_ID };
}

/** How many messages the stream holds now (0 when it does not exist yet). */
export async function streamMessageCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return jsm.streams.info(stream).then(
    (info) => info.state.messages,
    () => 0,
  );
}

const isStreamNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

/** How a service's stream is kept. */
export interface StreamOptions {
  /** Servers of the NATS cluster holding it (NATS_STREAM_REPLICAS); 1 unless said. */
  replicas?: number;
}

/**
 * Creates the stream when missing: its owner, the only publisher, calls it before publishing.
 * Events are kept 30 days on file; a re-publish with the same `Nats-Msg-Id` within ten minutes
 * (an outbox relay after a crash) is dropped. Each event is stored on `replicas` servers: a
 * publish is confirmed once a majority of them has it (docs/resilience.md, "Durability"). A
 * stream kept on another number of servers (a deployment grown from one NATS server to a
 * cluster) is moved to this number.
 */
export async function ensureStream(
  nc: NatsConnection,
  source: Pick<EventSource<unknown>, "stream" | "subjects"> & { maxAgeDays?: number },
  options: StreamOptions = {},
) {
  const jsm = await jetstreamManager(nc);
  const replicas = options.replicas ?? 1;
  try {
    const info = await jsm.streams.info(source.stream);
    if (info.config.num_replicas !== replicas) {
      await jsm.streams.update(source.stream, { num_replicas: replicas });
    }
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    await jsm.streams
      .add({
        name: source.stream,
        subjects: [source.subjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: replicas,
        // 30 days unless the source says otherwise (0: kept for good, for a projection to rebuild from).
        max_age: (source.maxAgeDays ?? 30) * 24 * 3600 * 1e9,
        duplicate_window: 10 * 60 * 1e9,
      })
      .catch(async (error: unknown) => {
        // Another process created it between our two calls.
        await jsm.streams.info(source.stream).catch(() => {
          throw error;
        });
      });
  }
}

/**
 * Throws until the owner has created the stream. Consumers never create it, as their NATS
 * users may not (infra/nats/nats.conf); their consumers retry until it is there.
 */
async function streamExists(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.info(stream);
}

/**
 * Told when a consumer is following its stream and when it stops (the connection dropped or
 * the consumer ended): for state that may be trusted only while the events reach it.
 */
export interface FollowWatch {
  following(): void;
  interrupted(): void;
}

/**
 * Why a consumer could not open. A stream its owner has not made yet is expected on a first
 * start (the owner makes it before its first event): one line, no stack. Anything else is a
 * warning with the error.
 */
function cannotConsumeYet(log: Logger, stream: string, error: unknown): void {
  if (isStreamNotFound(error)) log.info({ stream }, "waiting for the stream: its owner makes it at its first start");
  else log.warn({ err: error, stream }, "cannot consume events yet; retrying");
}

/**
 * The messages in batches: each the next message and those already received behind it, up to
 * `most`, never waiting for more. "Already received" is whatever the iterator yields before the
 * next turn of the event loop (`setImmediate`): nats.js's own count of pending messages counts
 * status callbacks too, and waiting on it held a batch until a later message came. With `most`
 * 1, one message at a time, as a `for await` gives them.
 */
async function* batches(messages: ConsumerMessages, most: number): AsyncGenerator<JsMsg[]> {
  const iterator = messages[Symbol.asyncIterator]();
  // A next message asked for and not there yet: the first of the next batch.
  let ahead: Promise<IteratorResult<JsMsg>> | undefined;
  let ended = false;
  try {
    while (true) {
      const first = await (ahead ?? iterator.next());
      ahead = undefined;
      if (first.done) {
        ended = true;
        return;
      }
      const batch = [first.value];
      while (batch.length < most) {
        const next = iterator.next();
        const ready = await Promise.race([next, new Promise<undefined>((turn) => setImmediate(() => turn(undefined)))]);
        if (ready === undefined || ready.done) {
          ahead = next;
          break;
        }
        batch.push(ready.value);
      }
      yield batch;
    }
  } finally {
    // Left early (a handler threw, the loop stopped): the messages stop too, as a `for await`
    // would stop them; a next message still asked for is dropped with them (not acknowledged, so
    // redelivered).
    if (!ended) {
      ahead?.catch(() => {});
      await messages.close().catch(() => {});
    }
  }
}

/**
 * Keeps a consumer running: drains it, and when it ends or the connection comes back after an
 * outage (the server may have restarted), opens it again; an open that fails is retried until
 * it works. Returns a function that stops it.
 */
async function keepConsuming(
  nc: NatsConnection,
  stream: string,
  open: () => Promise<ConsumerMessages>,
  onMessages: (messages: JsMsg[]) => Promise<void>,
  log: Logger,
  watch?: FollowWatch,
  batchMost = 1,
): Promise<() => Promise<void>> {
  let stopped = false;
  // A first failure (NATS up but the stream not ready, say) is retried like any later one.
  let current: ConsumerMessages | undefined = await open().catch((error: unknown) => {
    cannotConsumeYet(log, stream, error);
    return undefined;
  });

  const drain = async (messages: ConsumerMessages) => {
    watch?.following();
    try {
      for await (const batch of batches(messages, batchMost)) await processing(batch, () => onMessages(batch));
    } finally {
      watch?.interrupted();
    }
  };

  void (async () => {
    while (!stopped) {
      if (current)
        await drain(current).catch((error: unknown) => log.warn({ err: error, stream }, "events interrupted"));
      current = undefined;
      // Never a tight loop, whatever ended the last consumer.
      await new Promise((wake) => setTimeout(wake, 100));
      while (!stopped && !current) {
        current = await open().catch(async (error: unknown) => {
          cannotConsumeYet(log, stream, error);
          await new Promise((wake) => setTimeout(wake, 500));
          return undefined;
        });
      }
    }
  })();
  void (async () => {
    for await (const status of nc.status()) {
      if (stopped) return;
      if (status.type === "disconnect") watch?.interrupted();
      if (status.type === "reconnect") await current?.close();
    }
  })();

  return async () => {
    stopped = true;
    await current?.close();
  };
}

function decodeOrWarn<E>(source: EventSource<E>, message: JsMsg, log: Logger): E | undefined {
  try {
    return source.decode(message.subject, message.data);
  } catch (error) {
    log.warn({ err: error, subject: message.subject }, "undecodable event skipped");
    return undefined;
  }
}

/**
 * Follows a stream from `since` on with an ordered (ephemeral) consumer, calling `handle` for
 * each event: for state a process keeps in memory, such as the revocations of the verifiers.
 * After an outage it starts again right after the last event it saw, so nothing is skipped or
 * handled twice.
 */
export async function followEvents<E>(
  nc: NatsConnection,
  source: EventSource<E>,
  since: Date,
  handle: (event: E, context: EventContext) => void,
  log: Logger,
  watch?: FollowWatch,
): Promise<() => Promise<void>> {
  const js = jetstream(nc);
  let lastSeq = 0;
  const open = async () => {
    await streamExists(nc, source.stream);
    const start =
      lastSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() };
    // One subject as a string: nats-server 2.9 (Debian's) does not know the list form.
    const consumer = await js.consumers.get(source.stream, { filter_subjects: source.subjects, ...start });
    return consumer.consume();
  };
  return keepConsuming(
    nc,
    source.stream,
    open,
    async ([message]) => {
      if (!message) return;
      lastSeq = message.seq;
      const event = decodeOrWarn(source, message, log);
      if (event !== undefined) handle(event, contextOf(message));
    },
    log,
    watch,
  );
}

/** Runs one declared durable consumer (see `EventConsumer`); returns a function that stops it. */
export async function consumeDurably<E>(
  nc: NatsConnection,
  consumer: EventConsumer<E>,
  log: Logger,
): Promise<() => Promise<void>> {
  const { stream } = consumer.source;
  const js = jetstream(nc);
  const progress = consumerProgress(stream, consumer.durable);
  const open = async () => {
    await streamExists(nc, stream);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.info(stream, consumer.durable).catch(() =>
      jsm.consumers.add(stream, {
        durable_name: consumer.durable,
        filter_subject: consumer.subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1e9,
      }),
    );
    return (await js.consumers.get(stream, consumer.durable)).consume();
  };
  return keepConsuming(
    nc,
    stream,
    open,
    async (messages) => {
      for (const message of messages) progress.delivered(message);
      const decoded = messages.map((message) => [message, decodeOrWarn(consumer.source, message, log)] as const);
      const events = decoded.filter((entry): entry is readonly [JsMsg, E] => entry[1] !== undefined);
      if (consumer.handleBatch && events.length > 1) {
        const handled = await consumer.handleBatch(events.map(([message, event]) => [event, contextOf(message)])).then(
          () => true,
          (error: unknown) => {
            log.warn({ err: error, events: events.length }, "event batch failed; handling its events one by one");
            return false;
          },
        );
        if (handled) {
          for (const message of messages) message.ack();
          return;
        }
      }
      for (const [message, event] of decoded) await handleOne(message, event);
    },
    log,
    undefined,
    consumer.handleBatch ? BATCH_MOST : 1,
  );

  async function handleOne(message: JsMsg, event: E | undefined): Promise<void> {
    try {
      if (event !== undefined) await consumer.handle(event, contextOf(message));
      message.ack();
    } catch (error) {
      log.warn({ err: error, subject: message.subject }, "event handling failed; will retry");
      message.nak(1000);
    }
  }
}

/**
 * `tdt.consumer.lag` and `tdt.consumer.redeliveries` of a durable consumer, from what every
 * delivered message says of itself (JetStream's metadata: messages still pending after it, and
 * its delivery count), so a scrape asks NATS nothing. The lag is as of the last delivery: a
 * consumer that receives nothing while messages pile up is seen by the outbox's figures and by
 * NATS's own monitoring.
 */
function consumerProgress(stream: string, durable: string) {
  const attributes = { "messaging.destination.name": stream, "messaging.consumer.group.name": durable };
  const m = meter();
  const redeliveries = m.createCounter("tdt.consumer.redeliveries", {
    description: "Messages a durable consumer received again (not acknowledged in time, or refused)",
  });
  let pending = 0;
  m.createObservableGauge("tdt.consumer.lag", {
    description: "Messages waiting for a durable consumer after the last one it received",
  }).addCallback((result) => result.observe(pending, attributes));
  return {
    delivered(message: JsMsg) {
      pending = message.info.pending;
      if (message.info.deliveryCount > 1) redeliveries.add(1, attributes);
    },
  };
}
