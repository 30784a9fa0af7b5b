import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { SessionExpired, SessionRevoked, UserDeactivated } from "@tdt/proto/tdt/events/v1/events";
import type { Logger } from "./logger.js";

/** The auth events of SPEC §7: one stream, one protobuf message type per subject. */
export const AUTH_EVENTS_STREAM = "AUTH_EVENTS";
export const AUTH_SUBJECTS = {
  sessionExpired: "auth.session.expired",
  sessionRevoked: "auth.session.revoked",
  userDeactivated: "auth.user.deactivated",
} as const;

export type AuthEvent =
  | { subject: typeof AUTH_SUBJECTS.sessionExpired; event: SessionExpired }
  | { subject: typeof AUTH_SUBJECTS.sessionRevoked; event: SessionRevoked }
  | { subject: typeof AUTH_SUBJECTS.userDeactivated; event: UserDeactivated };

export function encodeAuthEvent(item: AuthEvent): Uint8Array {
  switch (item.subject) {
    case AUTH_SUBJECTS.sessionExpired:
      return SessionExpired.encode(item.event).finish();
    case AUTH_SUBJECTS.sessionRevoked:
      return SessionRevoked.encode(item.event).finish();
    case AUTH_SUBJECTS.userDeactivated:
      return UserDeactivated.encode(item.event).finish();
  }
}

/** The message on `subject` decoded, or undefined for a subject this contract does not know. */
export function decodeAuthEvent(subject: string, data: Uint8Array): AuthEvent | undefined {
  switch (subject) {
    case AUTH_SUBJECTS.sessionExpired:
      return { subject, event: SessionExpired.decode(data) };
    case AUTH_SUBJECTS.sessionRevoked:
      return { subject, event: SessionRevoked.decode(data) };
    case AUTH_SUBJECTS.userDeactivated:
      return { subject, event: UserDeactivated.decode(data) };
    default:
      return undefined;
  }
}

/** Creates the stream when missing: auth, its owner and only publisher, calls it before publishing. */
export async function ensureAuthEventsStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(AUTH_EVENTS_STREAM);
  } catch {
    await jsm.streams
      .add({
        name: AUTH_EVENTS_STREAM,
        subjects: ["auth.>"],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: 30 * 24 * 3600 * 1e9,
        // Nats-Msg-Id deduplicates a relay's re-publish within this window.
        duplicate_window: 10 * 60 * 1e9,
      })
      .catch(async (error: unknown) => {
        // Another process created it between our two calls.
        await jsm.streams.info(AUTH_EVENTS_STREAM).catch(() => {
          throw error;
        });
      });
  }
}

/**
 * Throws until auth has created the stream. Consumers never create it, as
 * their NATS users may not (infra/nats/nats.conf); their consumers retry until it is there.
 */
async function authEventsStreamExists(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.info(AUTH_EVENTS_STREAM);
}

/**
 * Keeps a consumer running: drains it, and when it ends or the connection comes back after an
 * outage (the server may have restarted), opens it again; an open that fails is retried until
 * it works. Returns a function that stops it.
 */
async function keepConsuming(
  nc: NatsConnection,
  open: () => Promise<ConsumerMessages>,
  onMessage: (message: JsMsg) => Promise<void>,
  log: Logger,
): Promise<() => Promise<void>> {
  let stopped = false;
  // A first failure (NATS up but the stream not ready, say) is retried like any later one.
  let current: ConsumerMessages | undefined = await open().catch((error: unknown) => {
    log.warn({ err: error }, "cannot consume auth events yet; retrying");
    return undefined;
  });

  const drain = async (messages: ConsumerMessages) => {
    for await (const message of messages) await onMessage(message);
  };

  void (async () => {
    while (!stopped) {
      if (current) await drain(current).catch((error: unknown) => log.warn({ err: error }, "auth events interrupted"));
      current = undefined;
      // Never a tight loop, whatever ended the last consumer.
      await new Promise((wake) => setTimeout(wake, 100));
      while (!stopped && !current) {
        current = await open().catch(async (error: unknown) => {
          log.warn({ err: error }, "cannot consume auth events yet; retrying");
          await new Promise((wake) => setTimeout(wake, 500));
          return undefined;
        });
      }
    }
  })();
  void (async () => {
    for await (const status of nc.status()) {
      if (stopped) return;
      if (status.type === "reconnect") await current?.close();
    }
  })();

  return async () => {
    stopped = true;
    await current?.close();
  };
}

function decodeOrWarn(message: JsMsg, log: Logger): AuthEvent | undefined {
  try {
    return decodeAuthEvent(message.subject, message.data);
  } catch (error) {
    log.warn({ err: error, subject: message.subject }, "undecodable auth event skipped");
    return undefined;
  }
}

/**
 * Follows the auth events from `since` on with an ordered (ephemeral) consumer, calling
 * `handle` for each: for state a process keeps in memory, such as the gateway's revocations.
 * After an outage it starts again right after the last event it saw, so nothing is skipped or
 * handled twice.
 */
export async function followAuthEvents(
  nc: NatsConnection,
  since: Date,
  handle: (item: AuthEvent) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  const js = jetstream(nc);
  let lastSeq = 0;
  const open = async () => {
    await authEventsStreamExists(nc);
    const start =
      lastSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() };
    // One subject as a string: nats-server 2.9 (Debian's) does not know the list form.
    const consumer = await js.consumers.get(AUTH_EVENTS_STREAM, { filter_subjects: "auth.>", ...start });
    return consumer.consume();
  };
  return keepConsuming(
    nc,
    open,
    async (message) => {
      lastSeq = message.seq;
      const item = decodeOrWarn(message, log);
      if (item) handle(item);
    },
    log,
  );
}

/**
 * A durable consumer of one auth subject, for a service that acts on events: the server
 * remembers what was acknowledged, so events published while the service was down are handled
 * when it is back. A message is acknowledged only after `handle` resolves, and redelivered
 * after a failure, so `handle` must be idempotent.
 */
export async function consumeAuthEvents(
  nc: NatsConnection,
  options: { durable: string; subject: string; handle: (item: AuthEvent) => Promise<void>; log: Logger },
): Promise<() => Promise<void>> {
  const js = jetstream(nc);
  const open = async () => {
    await authEventsStreamExists(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.info(AUTH_EVENTS_STREAM, options.durable).catch(() =>
      jsm.consumers.add(AUTH_EVENTS_STREAM, {
        durable_name: options.durable,
        filter_subject: options.subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1e9,
      }),
    );
    const consumer = await js.consumers.get(AUTH_EVENTS_STREAM, options.durable);
    return consumer.consume();
  };
  return keepConsuming(
    nc,
    open,
    async (message) => {
      const item = decodeOrWarn(message, options.log);
      try {
        if (item) await options.handle(item);
        message.ack();
      } catch (error) {
        options.log.warn({ err: error, subject: message.subject }, "auth event handling failed; will retry");
        message.nak(1000);
      }
    },
    options.log,
  );
}
