import type { Sql, TransactionSql } from "@tdt/kit";
import { endLoginSessions, lockLoginSession } from "./login-sessions.js";
import {
  type ConsumedToken,
  IDEMPOTENCY_WINDOW_SECONDS,
  type RefreshTransaction,
  type RefreshUser,
  type RotationChild,
} from "./refresh.js";
import type { SessionClaims, TokenPair } from "./token-minting.js";
import { UUID } from "./users.js";

const toSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
const fromSeconds = (seconds: number) => new Date(seconds * 1000);

/** Records a refresh token the moment it is minted: every refresh token is a row. */
export async function recordRefreshToken(
  tx: TransactionSql,
  token: { jti: string; sid: string; userId: string; issuedAt: number; expiresAt: number },
): Promise<void> {
  await tx`
    insert into refresh_tokens (jti, sid, user_id, issued_at, expires_at)
    values (${token.jti}, ${token.sid}, ${token.userId}, ${fromSeconds(token.issuedAt)}, ${fromSeconds(token.expiresAt)})`;
}

/**
 * Step 2 of a refresh in one read: the user, and whether the token is unused in an open login
 * session right now (a hint, read without a lock; `rotateRefreshToken` decides under one).
 */
export async function findRefreshUser(
  sql: Sql,
  id: string,
  token: { sid: string; jti: string },
): Promise<RefreshUser | undefined> {
  // A signed token names uuids: anything else has no login session, so no organization or role.
  if (!UUID.test(id) || !UUID.test(token.sid) || !UUID.test(token.jti)) return undefined;
  // The role is the membership's in the login session's organization: a user no longer a member
  // has none, and refreshes nothing.
  const [row] = await sql<RefreshUser[]>`
    select u.id, m.role, s.org_id as org, u.is_active, s.ended_at is null and exists (
             select 1 from refresh_tokens t
             where t.jti = ${token.jti}::uuid and t.sid = s.sid and t.revoked_at is null
           ) as rotatable
    from users u
    join login_sessions s on s.sid = ${token.sid}::uuid and s.user_id = u.id
    join memberships m on m.org_id = s.org_id and m.user_id = u.id
    where u.id = ${id}`;
  return row;
}

/**
 * Steps 4–7 of the common refresh as one statement, so one round trip and atomic without
 * BEGIN/COMMIT: lock the open login session row (first, the lock order of `endLoginSessions`;
 * the token update joins it, so it cannot run before), consume the unused token and mark it
 * rotated in one compare-and-set, insert the child, touch the session. When the session is not
 * open or the token not unused, nothing matches and nothing is written: false.
 */
export async function rotateRefreshToken(
  sql: Sql,
  parentJti: string,
  child: RotationChild,
  session: SessionClaims,
): Promise<boolean> {
  const rows = await sql`
    with session as (
      select sid, reuse_grace_seconds from login_sessions
      where sid = ${child.sid} and ended_at is null
      for update
    ), parent as (
      update refresh_tokens t set revoked_at = ${fromSeconds(child.issuedAt)}, revoked_reason = 'rotated',
        child_jti = ${child.refreshJti}, idempotency_key_hash = ${child.idempotencyKeyHash},
        child_pair = case
          when ${child.idempotencyKeyHash !== null} or session.reuse_grace_seconds > 0
          then ${sql.json(child.pair as never)} end
      from session
      where t.jti = ${parentJti} and t.sid = session.sid and t.revoked_at is null
      returning t.jti
    ), inserted as (
      insert into refresh_tokens (jti, sid, user_id, issued_at, expires_at)
      select ${child.refreshJti}, ${child.sid}, ${child.userId}, ${fromSeconds(child.issuedAt)}, ${fromSeconds(child.refreshExp)}
      from parent
      returning jti
    ), touched as (
      update login_sessions set last_used_at = now(), auth_time = ${fromSeconds(session.auth_time)},
        idle_max_seconds = ${session.idle_max}, abs_max_seconds = ${session.abs_max}
      where sid = ${child.sid} and exists (select 1 from parent)
      returning sid
    )
    select jti from inserted, touched`;
  return rows.length === 1;
}

/** Steps 4–7 of the refresh algorithm against Postgres, inside one transaction. */
export function postgresRefreshTransaction(tx: TransactionSql): RefreshTransaction {
  return {
    lockSession: (sid) => lockLoginSession(tx, sid),

    async consume(jti, at) {
      // The algorithm's clock, not the database's: step 5 subtracts this stamp from its own `now`.
      const rows = await tx`
        update refresh_tokens set revoked_at = ${fromSeconds(at)}
        where jti = ${jti} and revoked_at is null
        returning jti`;
      return rows.length === 1;
    },

    async consumedToken(jti): Promise<ConsumedToken | undefined> {
      const [row] = await tx<
        {
          revoked_reason: string | null;
          revoked_at: Date;
          child_pair: TokenPair | null;
          child_live: boolean;
          reuse_grace_seconds: number;
          idempotency_key_hash: string | null;
        }[]
      >`
        select parent.revoked_reason, parent.revoked_at, parent.child_pair, parent.idempotency_key_hash,
               coalesce(child.revoked_at is null, false) as child_live,
               session.reuse_grace_seconds
        from refresh_tokens parent
        join login_sessions session on session.sid = parent.sid
        left join refresh_tokens child on child.jti = parent.child_jti
        where parent.jti = ${jti}`;
      if (!row) return undefined;
      return {
        reason: row.revoked_reason,
        revokedAt: toSeconds(row.revoked_at),
        childPair: row.child_pair,
        childLive: row.child_live,
        reuseGraceSeconds: row.reuse_grace_seconds,
        idempotencyKeyHash: row.idempotency_key_hash,
      };
    },

    async endSession(sid, end) {
      // The consumed token itself is marked with the reason the session ended.
      await endLoginSessions(tx, { sids: [sid] }, end);
      await tx`
        update refresh_tokens set revoked_reason = ${end.kind === "expired" ? `expired_${end.reason}` : end.reason}
        where sid = ${sid} and revoked_reason is null`;
    },

    async recordChild(parentJti, child, session) {
      await recordRefreshToken(tx, {
        jti: child.refreshJti,
        sid: child.sid,
        userId: child.userId,
        issuedAt: child.issuedAt,
        expiresAt: child.refreshExp,
      });
      // The child pair is kept only while it may be asked for again: a grace window, or a retry
      // with the same Idempotency-Key.
      await tx`
        update refresh_tokens set revoked_reason = 'rotated', child_jti = ${child.refreshJti},
          idempotency_key_hash = ${child.idempotencyKeyHash},
          child_pair = case
            when ${child.idempotencyKeyHash !== null}
              or (select reuse_grace_seconds from login_sessions where sid = ${child.sid}) > 0
            then ${tx.json(child.pair as never)} end
        where jti = ${parentJti}`;
      // A grandfathered legacy session takes on the snapshot its new token carries.
      await tx`
        update login_sessions set last_used_at = now(), auth_time = ${fromSeconds(session.auth_time)},
          idle_max_seconds = ${session.idle_max}, abs_max_seconds = ${session.abs_max}
        where sid = ${child.sid}`;
    },
  };
}

/** Stored child pairs are only needed within a grace window; forget them after. */
export async function forgetExpiredChildPairs(sql: Sql): Promise<void> {
  await sql`
    update refresh_tokens t set child_pair = null
    from login_sessions s
    where s.sid = t.sid and t.child_pair is not null
      and t.revoked_at < now() - make_interval(secs => greatest(s.reuse_grace_seconds, ${IDEMPOTENCY_WINDOW_SECONDS}) + 60)`;
}
