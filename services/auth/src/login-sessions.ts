import { randomUUID } from "node:crypto";
import { AUTH_SUBJECTS, type AuthEvent, encodeAuthEvent, type TransactionSql, writeOutboxEvent } from "@tdt/kit";
import type { SessionPolicy } from "./policy.js";

/** Why a login session ended (SPEC §7): expiries and revocations are different events. */
export type SessionEnd =
  | { kind: "expired"; reason: "absolute" | "idle" }
  | {
      kind: "revoked";
      reason: "logout" | "logout_all" | "user_revoked" | "refresh_token_reuse" | "admin" | "user_deactivated";
    };

/** Opens a login session with the policy snapshot it keeps for life. */
export async function openLoginSession(
  tx: TransactionSql,
  input: { userId: string; policy: SessionPolicy; authTime: Date; userAgent: string; ip: string },
): Promise<string> {
  const sid = randomUUID();
  await tx`
    insert into login_sessions (sid, user_id, auth_time, idle_max_seconds, abs_max_seconds, reuse_grace_seconds, user_agent, ip)
    values (${sid}, ${input.userId}, ${input.authTime}, ${input.policy.idle_max_seconds},
            ${input.policy.abs_max_seconds}, ${input.policy.reuse_grace_seconds},
            ${input.userAgent.slice(0, 512)}, ${input.ip.slice(0, 64)})`;
  return sid;
}

/**
 * Ends the open login sessions that `which` selects: marks them, revokes their refresh tokens
 * and writes one event per session into the outbox, all in the caller's transaction. A session
 * already ended is left alone, so racing callers announce it once.
 *
 * Lock order: every path that ends or rotates within a login session locks the session row
 * first (several in `sid` order), then its refresh tokens. Refresh does the same
 * (`lockLoginSession`), so the two can wait for each other but never deadlock.
 */
export async function endLoginSessions(
  tx: TransactionSql,
  which: { sids: string[]; userId?: string } | { userId: string },
  end: SessionEnd,
): Promise<string[]> {
  if ("sids" in which && which.sids.length === 0) return [];
  const locked = await tx<{ sid: string }[]>`
    select sid from login_sessions
    where ended_at is null and ${
      "sids" in which
        ? tx`sid = any(${which.sids}::uuid[]) and user_id = coalesce(${which.userId ?? null}::uuid, user_id)`
        : tx`user_id = ${which.userId}`
    }
    order by sid
    for update`;
  if (locked.length === 0) return [];
  const ended = await tx<{ sid: string; user_id: string }[]>`
    update login_sessions set ended_at = now(), ended_reason = ${end.reason}
    where sid = any(${locked.map((row) => row.sid)}::uuid[])
    returning sid, user_id`;
  const sids = ended.map((row) => row.sid);
  await tx`
    update refresh_tokens set revoked_at = now(), revoked_reason = 'session_ended', child_pair = null
    where sid = any(${sids}::uuid[]) and revoked_at is null`;
  const occurred_at = new Date().toISOString();
  const subject = end.kind === "expired" ? AUTH_SUBJECTS.sessionExpired : AUTH_SUBJECTS.sessionRevoked;
  for (const row of ended) {
    const event = { event_id: randomUUID(), occurred_at, sid: row.sid, user_id: row.user_id, reason: end.reason };
    const payload = encodeAuthEvent({ subject, event } as AuthEvent);
    await writeOutboxEvent(tx, { id: event.event_id, subject, payload });
  }
  return sids;
}

/**
 * Locks one login session row, first of everything a refresh touches (see `endLoginSessions`),
 * and tells whether the session is still open.
 */
export async function lockLoginSession(tx: TransactionSql, sid: string): Promise<boolean> {
  const [row] = await tx<{ open: boolean }[]>`
    select ended_at is null as open from login_sessions where sid = ${sid} for update`;
  return row?.open ?? false;
}
