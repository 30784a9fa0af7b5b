import {
  type ConsumerMessages,
  DeliverPolicy,
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

/** Creates the stream when missing; publisher and consumers all call it, so start order does not matter. */
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
 * Follows the auth events from `since` on with an ordered (ephemeral) consumer, calling
 * `handle` for each. When the connection comes back after an outage (the server may have
 * restarted and forgotten the consumer), it starts a new consumer right after the last event
 * it saw, so nothing is skipped or handled twice. Returns a function that stops following.
 */
export async function followAuthEvents(
  nc: NatsConnection,
  since: Date,
  handle: (item: AuthEvent) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  const js = jetstream(nc);
  let lastSeq = 0;
  let stopped = false;
  let current: ConsumerMessages | undefined;

  const open = async (): Promise<ConsumerMessages> => {
    await ensureAuthEventsStream(nc);
    const start =
      lastSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() };
    // One subject as a string: nats-server 2.9 (Debian's) does not know the list form.
    const consumer = await js.consumers.get(AUTH_EVENTS_STREAM, { filter_subjects: "auth.>", ...start });
    return consumer.consume();
  };

  const drain = async (messages: ConsumerMessages) => {
    for await (const message of messages) {
      lastSeq = message.seq;
      try {
        const item = decodeAuthEvent(message.subject, message.data);
        if (item) handle(item);
      } catch (error) {
        log.warn({ err: error, subject: message.subject }, "undecodable auth event skipped");
      }
    }
  };

  current = await open();
  void (async () => {
    while (!stopped) {
      if (current) await drain(current).catch((error: unknown) => log.warn({ err: error }, "auth events interrupted"));
      current = undefined;
      // Never a tight loop, whatever ended the last consumer.
      await new Promise((wake) => setTimeout(wake, 100));
      while (!stopped && !current) {
        current = await open().catch(async (error: unknown) => {
          log.warn({ err: error }, "cannot follow auth events yet; retrying");
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
