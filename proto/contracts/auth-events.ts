/**
 * The auth events of SPEC §7, written by hand next to their generated message types: the
 * stream, its subjects and which message each subject carries. Auth publishes them (through
 * its outbox); the gateway, trees and sessions follow them. Imported as
 * `@tdt/proto/contracts/auth-events`.
 */
import { SessionExpired, SessionRevoked, UserDeactivated, UserUpdated } from "@tdt/proto/tdt/events/v1/events";

export const AUTH_SUBJECTS = {
  sessionExpired: "auth.session.expired",
  sessionRevoked: "auth.session.revoked",
  userDeactivated: "auth.user.deactivated",
  userUpdated: "auth.user.updated",
} as const;

export type AuthEvent =
  | { subject: typeof AUTH_SUBJECTS.sessionExpired; event: SessionExpired }
  | { subject: typeof AUTH_SUBJECTS.sessionRevoked; event: SessionRevoked }
  | { subject: typeof AUTH_SUBJECTS.userDeactivated; event: UserDeactivated }
  | { subject: typeof AUTH_SUBJECTS.userUpdated; event: UserUpdated };

export function encodeAuthEvent(item: AuthEvent): Uint8Array {
  switch (item.subject) {
    case AUTH_SUBJECTS.sessionExpired:
      return SessionExpired.encode(item.event).finish();
    case AUTH_SUBJECTS.sessionRevoked:
      return SessionRevoked.encode(item.event).finish();
    case AUTH_SUBJECTS.userDeactivated:
      return UserDeactivated.encode(item.event).finish();
    case AUTH_SUBJECTS.userUpdated:
      return UserUpdated.encode(item.event).finish();
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
    case AUTH_SUBJECTS.userUpdated:
      return { subject, event: UserUpdated.decode(data) };
    default:
      return undefined;
  }
}

/** The JetStream stream of the auth events, created by auth alone (infra/nats/nats.conf). */
export const AUTH_EVENTS_STREAM = "AUTH_EVENTS";

/** The auth events as a stream a consumer reads: its name, every subject on it, and their decoding. */
export const AUTH_EVENTS = {
  stream: AUTH_EVENTS_STREAM,
  subjects: "auth.>",
  decode: decodeAuthEvent,
} as const;
