import { randomUUID } from "node:crypto";
import { ensureStream, type NatsConnection, type StreamOptions, type TransactionSql, writeOutboxEvent } from "@tdt/kit";
import { AUTH_EVENTS, AUTH_SUBJECTS, type AuthEvent, encodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import type { SessionEnd } from "./login-sessions.js";

/**
 * The events auth publishes (SPEC §7), written into its outbox in the caller's transaction:
 * the change and its event commit together, and the kit's relay sends them to JetStream.
 */

/** Auth owns the stream: its relay creates it before the first publish. */
export const prepareAuthEvents = (nc: NatsConnection, options?: StreamOptions): Promise<void> =>
  ensureStream(nc, AUTH_EVENTS, options);

/** One `auth.session.expired` or `auth.session.revoked` event per ended login session. */
export async function announceSessionsEnded(
  tx: TransactionSql,
  ended: Array<{ sid: string; user_id: string }>,
  end: SessionEnd,
): Promise<void> {
  const occurred_at = new Date().toISOString();
  for (const row of ended) {
    const event = { event_id: randomUUID(), occurred_at, sid: row.sid, user_id: row.user_id, reason: end.reason };
    const item: AuthEvent =
      end.kind === "expired"
        ? { subject: AUTH_SUBJECTS.sessionExpired, event }
        : { subject: AUTH_SUBJECTS.sessionRevoked, event };
    await writeOutboxEvent(tx, { id: event.event_id, subject: item.subject, payload: encodeAuthEvent(item) });
  }
}

/** `auth.user.deactivated`: sessions abandons the user's runs, every verifier refuses their tokens. */
export async function announceUserDeactivated(tx: TransactionSql, userId: string): Promise<void> {
  const event = { event_id: randomUUID(), occurred_at: new Date().toISOString(), user_id: userId };
  await writeOutboxEvent(tx, {
    id: event.event_id,
    subject: AUTH_SUBJECTS.userDeactivated,
    payload: encodeAuthEvent({ subject: AUTH_SUBJECTS.userDeactivated, event }),
  });
}

/** The fields of a user that `auth.user.updated` announces a change of. */
type AnnouncedFields = { role: string; full_name: string; email: string; is_active: boolean };

/**
 * `auth.user.updated` when the user's role, name, email or active flag differs between `before`
 * and `after` (nothing when a change changed none of them): whoever keeps a copy of the user,
 * e.g. a cached GET /auth/me, drops it. In the transaction of the change, like every event.
 */
export async function announceUserUpdated(
  tx: TransactionSql,
  userId: string,
  before: AnnouncedFields,
  after: AnnouncedFields,
): Promise<void> {
  const changed =
    before.role !== after.role ||
    before.full_name !== after.full_name ||
    before.email !== after.email ||
    before.is_active !== after.is_active;
  if (changed) await announceUserChanged(tx, userId);
}

/**
 * `auth.user.updated` for a change of what GET /auth/me shows besides the user's fields: a
 * provider linked or unlinked, a password set.
 */
export async function announceUserChanged(tx: TransactionSql, userId: string): Promise<void> {
  const event = { event_id: randomUUID(), occurred_at: new Date().toISOString(), user_id: userId };
  await writeOutboxEvent(tx, {
    id: event.event_id,
    subject: AUTH_SUBJECTS.userUpdated,
    payload: encodeAuthEvent({ subject: AUTH_SUBJECTS.userUpdated, event }),
  });
}
