/**
 * The sessions events, written by hand next to their generated message types: the stream, its
 * subjects and the message of each. The sessions service publishes them through its outbox; the
 * trees service's analytics projection consumes them. Imported as
 * `@tdt/proto/contracts/session-events`.
 */
import {
  GuidedSessionAbandoned,
  GuidedSessionCompleted,
  GuidedSessionStarted,
  GuidedSessionStep,
} from "@tdt/proto/tdt/events/v1/events";

export const SESSION_SUBJECTS = {
  started: "sessions.session.started",
  step: "sessions.session.step",
  completed: "sessions.session.completed",
  abandoned: "sessions.session.abandoned",
} as const;

export type SessionEvent =
  | { subject: typeof SESSION_SUBJECTS.started; event: GuidedSessionStarted }
  | { subject: typeof SESSION_SUBJECTS.step; event: GuidedSessionStep }
  | { subject: typeof SESSION_SUBJECTS.completed; event: GuidedSessionCompleted }
  | { subject: typeof SESSION_SUBJECTS.abandoned; event: GuidedSessionAbandoned };

export function encodeSessionEvent(item: SessionEvent): Uint8Array {
  switch (item.subject) {
    case SESSION_SUBJECTS.started:
      return GuidedSessionStarted.encode(item.event).finish();
    case SESSION_SUBJECTS.step:
      return GuidedSessionStep.encode(item.event).finish();
    case SESSION_SUBJECTS.completed:
      return GuidedSessionCompleted.encode(item.event).finish();
    case SESSION_SUBJECTS.abandoned:
      return GuidedSessionAbandoned.encode(item.event).finish();
  }
}

/** The message on `subject` decoded, or undefined for a subject this contract does not know. */
export function decodeSessionEvent(subject: string, data: Uint8Array): SessionEvent | undefined {
  switch (subject) {
    case SESSION_SUBJECTS.started:
      return { subject, event: GuidedSessionStarted.decode(data) };
    case SESSION_SUBJECTS.step:
      return { subject, event: GuidedSessionStep.decode(data) };
    case SESSION_SUBJECTS.completed:
      return { subject, event: GuidedSessionCompleted.decode(data) };
    case SESSION_SUBJECTS.abandoned:
      return { subject, event: GuidedSessionAbandoned.decode(data) };
    default:
      return undefined;
  }
}

/** The JetStream stream of the sessions events, created by the sessions service alone (infra/nats/nats.conf). */
export const SESSION_EVENTS_STREAM = "SESSION_EVENTS";

/** The sessions events as a stream a consumer reads. */
export const SESSION_EVENTS = {
  stream: SESSION_EVENTS_STREAM,
  subjects: "sessions.>",
  decode: decodeSessionEvent,
  // Kept for good: the analytics projection is rebuilt from the whole stream.
  maxAgeDays: 0,
} as const;
