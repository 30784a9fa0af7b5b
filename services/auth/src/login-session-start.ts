import { AppError, inTransaction, type Sql, type TransactionSql } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import type { SigningKeys } from "./keys.js";
import { openLoginSession, type SessionOrigin } from "./login-sessions.js";
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

/** Opens a login session and mints its first pair: the end of a password login and of a single sign-on. */
export type StartLoginSession = ReturnType<typeof loginSessionStarter>;

export function loginSessionStarter(deps: LoginSessionStartDeps) {
  const { sql, keys, now } = deps;

  /**
   * Opens a login session under the current policy and mints its first pair. `identify` names the
   * user inside the transaction (a one-time code is used there, so a failure leaves it unused).
   */
  return async (
    client: ClientInfo,
    identify: (tx: TransactionSql) => Promise<{ userId: string; origin?: SessionOrigin }>,
  ) => {
    const policy = await currentPolicy(sql);
    const issuedAt = now();
    const key = await keys.signingKey();
    return inTransaction(sql, async (tx) => {
      const { userId, origin } = await identify(tx);
      // The user row, locked for share: a deactivation or role change either finished before
      // (and is seen here) or waits for this session to exist (and then ends it).
      const current = await readUserForShare(tx, userId);
      if (!current?.is_active) throw new AppError("invalid_credentials");
      // Registered under REGISTRATION=verify: the password was right, the address is not proven yet.
      if (current.verification_required && !current.email_verified_at) throw new AppError("email_not_verified");
      const sid = await openLoginSession(tx, {
        userId,
        policy,
        authTime: new Date(issuedAt * 1000),
        userAgent: client.user_agent,
        ip: client.ip,
        origin,
      });
      const session = { auth_time: issuedAt, idle_max: policy.idle_max_seconds, abs_max: policy.abs_max_seconds };
      const minted = await mintWithClaims({
        key,
        user: { id: userId, role: current.role },
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
