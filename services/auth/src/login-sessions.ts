import { randomUUID } from "node:crypto";
import type { Sql, TransactionSql } from "@tdt/kit";
import { announceSessionsEnded } from "./events.js";
import type { SessionPolicy } from "./policy.js";

/** Why a login session ended (SPEC §7): expiries and revocations are different events. */
export type SessionEnd =
  | { kind: "expired"; reason: "absolute" | "idle" }
  | {
      kind: "revoked";
      reason:
        | "logout"
        | "logout_all"
        | "user_revoked"
        | "refresh_token_reuse"
        | "admin"
        | "user_deactivated"
        | "sso_logout"
        | "sso_unlinked"
        | "password_changed"
        | "password_reset"
        | "email_changed";
    };

/** Where a login session came from when a provider signed its user in: the provider and its session id. */
export interface SessionOrigin {
  provider: string;
  sid: string | null;
}

/** Opens a login session with the policy snapshot it keeps for life. */
export async function openLoginSession(
  tx: TransactionSql,
  input: {
    userId: string;
    orgId: string;
    policy: SessionPolicy;
    authTime: Date;
    userAgent: string;
    ip: string;
    origin?: SessionOrigin | undefined;
  },
): Promise<string> {
  const sid = randomUUID();
  await tx`
    insert into login_sessions (sid, user_id, org_id, auth_time, idle_max_seconds, abs_max_seconds, reuse_grace_seconds,
                                user_agent, ip, oidc_provider, oidc_sid)
    values (${sid}, ${input.userId}, ${input.orgId}, ${input.authTime}, ${input.policy.idle_max_seconds},
            ${input.policy.abs_max_seconds}, ${input.policy.reuse_grace_seconds},
            ${input.userAgent.slice(0, 512)}, ${input.ip.slice(0, 64)},
            ${input.origin?.provider ?? null}, ${input.origin?.sid ?? null})`;
  return sid;
}

/** The provider a login session came from, or undefined for a password login. */
export async function originOfLoginSession(sql: Sql, sid: string): Promise<SessionOrigin | undefined> {
  const [row] = await sql<{ provider: string | null; sid: string | null }[]>`
    select oidc_provider as provider, oidc_sid as sid from login_sessions where sid = ${sid}`;
  return row?.provider ? { provider: row.provider, sid: row.sid } : undefined;
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
  await announceSessionsEnded(tx, ended, end);
  return sids;
}

/** The user's open login sessions: those one provider started, all but one (the caller's), or those in one organization. */
export async function openSessionsOfUser(
  tx: TransactionSql,
  userId: string,
  which: { provider: string } | { except: string } | { organization: string },
): Promise<string[]> {
  const rows = await tx<{ sid: string }[]>`
    select sid from login_sessions
    where user_id = ${userId} and ended_at is null and ${
      "provider" in which
        ? tx`oidc_provider = ${which.provider}`
        : "except" in which
          ? tx`sid <> ${which.except}`
          : tx`org_id = ${which.organization}`
    }`;
  return rows.map((row) => row.sid);
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

/** True while the login session is open and its user active: the auth service's own check of a token. */
export async function isLoginSessionLive(sql: Sql, sid: string): Promise<boolean> {
  const [open] = await sql`
    select 1 from login_sessions s join users u on u.id = s.user_id
      join memberships m on m.org_id = s.org_id and m.user_id = u.id
    where s.sid = ${sid} and s.ended_at is null and u.is_active`;
  return open !== undefined;
}

/** A login session as its user sees it listed. */
export interface OpenLoginSession {
  sid: string;
  auth_time: Date;
  last_used_at: Date;
  user_agent: string;
  ip: string;
  /** When its newest unused refresh token expires; null when it has none (then the absolute limit shows). */
  idle_expires_at: Date | null;
  absolute_expires_at: Date;
}

/** The user's login sessions still open and before their absolute limit, newest first. */
export async function listOpenLoginSessions(sql: Sql, userId: string, orgId?: string): Promise<OpenLoginSession[]> {
  return sql<OpenLoginSession[]>`
    select s.sid, s.auth_time, s.last_used_at, s.user_agent, s.ip,
           (select max(t.expires_at) from refresh_tokens t where t.sid = s.sid and t.revoked_at is null) as idle_expires_at,
           s.auth_time + make_interval(secs => s.abs_max_seconds) as absolute_expires_at
    from login_sessions s
    where s.user_id = ${userId} and s.ended_at is null
      and s.org_id = coalesce(${orgId ?? null}::uuid, s.org_id)
      and s.auth_time + make_interval(secs => s.abs_max_seconds) > now()
    -- auth_time has whole seconds: two logins in one second are told apart by when each was made.
    order by s.auth_time desc, s.created_at desc, s.sid`;
}
