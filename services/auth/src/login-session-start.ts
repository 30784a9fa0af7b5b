import { AppError, inTransaction, type Sql, type TransactionSql } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import type { SigningKeys } from "./keys.js";
import { openLoginSession, type SessionOrigin } from "./login-sessions.js";
import { loginOrganization } from "./organizations.js";
import { currentPolicy } from "./policy-store.js";
import { recordRefreshToken } from "./refresh-store.js";
import { mintWithClaims } from "./token-minting.js";
import { readUserForShare } from "./users.js";

export interface LoginSessionStartDeps {
  sql: Sql;
  keys: SigningKeys;
  accessTokenTtlSeconds: number;
  /** Epoch seconds. */
  now: () => number;
}

/** Who a new login session is for, as `identify` finds inside the session's transaction. */
export interface LoginIdentity {
  userId: string;
  origin?: SessionOrigin | undefined;
  /** The organization to act in; by default the one the user last signed in to. */
  organization?: string | undefined;
  /** Epoch seconds of the authentication the session rests on; by default now. */
  authTime?: number | undefined;
}

/** Opens a login session and mints its first pair: the end of a password login and of a single sign-on. */
export type StartLoginSession = ReturnType<typeof loginSessionStarter>;

export function loginSessionStarter(deps: LoginSessionStartDeps) {
  const { sql, keys, now } = deps;

  /**
   * Opens a login session in one of the user's organizations, under that organization's policy,
   * and mints its first pair. `identify` names the user inside the transaction (a one-time code is
   * used there, so a failure leaves it unused), and may name the organization (a switch) and keep
   * an earlier authentication's time (a switch must not restart the absolute limit).
   */
  return async (client: ClientInfo, identify: (tx: TransactionSql) => Promise<LoginIdentity>) => {
    const issuedAt = now();
    const key = await keys.signingKey();
    return inTransaction(sql, async (tx) => {
      const { userId, origin, organization, authTime = issuedAt } = await identify(tx);
      // The user row, locked for share: a deactivation or role change either finished before
      // (and is seen here) or waits for this session to exist (and then ends it).
      const current = await readUserForShare(tx, userId);
      if (!current?.is_active) throw new AppError("invalid_credentials");
      // Registered under REGISTRATION=verify: the password was right, the address is not proven yet.
      if (current.verification_required && !current.email_verified_at) throw new AppError("email_not_verified");
      // The organization asked for (a switch), or the one last signed in to; its membership row is
      // locked for share like the user's, so a role change or removal is seen or waits.
      const membership = await loginOrganization(tx, userId, organization);
      if (!membership) throw new AppError(organization ? "not_found" : "invalid_credentials");
      const policy = await currentPolicy(tx, membership.org_id);
      // A switch keeps the sign-in it rests on: past the organization's absolute limit, sign in again.
      if (authTime + policy.abs_max_seconds <= issuedAt) throw new AppError("session_expired_absolute");
      const sid = await openLoginSession(tx, {
        userId,
        orgId: membership.org_id,
        policy,
        authTime: new Date(authTime * 1000),
        userAgent: client.user_agent,
        ip: client.ip,
        origin,
      });
      const session = { auth_time: authTime, idle_max: policy.idle_max_seconds, abs_max: policy.abs_max_seconds };
      const minted = await mintWithClaims({
        key,
        user: { id: userId, role: membership.role, org: membership.org_id },
        sid,
        session,
        now: issuedAt,
        accessTtlSeconds: deps.accessTokenTtlSeconds,
      });
      await recordRefreshToken(tx, {
        jti: minted.refreshJti,
        sid,
        userId,
        issuedAt,
        expiresAt: minted.refreshExp,
      });
      return minted.pair;
    });
  };
}
