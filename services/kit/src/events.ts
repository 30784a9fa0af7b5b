import { DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
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
 * `handle` for each. Returns a function that stops following.
 */
export async function followAuthEvents(
  nc: NatsConnection,
  since: Date,
  handle: (item: AuthEvent) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  await ensureAuthEventsStream(nc);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(AUTH_EVENTS_STREAM, {
    filter_subjects: ["auth.>"],
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
  });
  const messages = await consumer.consume();
  void (async () => {
    for await (const message of messages) {
      try {
        const item = decodeAuthEvent(message.subject, message.data);
        if (item) handle(item);
      } catch (error) {
        log.warn({ err: error, subject: message.subject }, "undecodable auth event skipped");
      }
    }
  })();
  return async () => {
    await messages.close();
  };
}
