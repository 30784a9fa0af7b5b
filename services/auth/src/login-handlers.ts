import {
  type AccessClaims,
  AppError,
  checks,
  countOutcome,
  type Handlers,
  inTransaction,
  meter,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import type { AuthServiceService, RefreshRequest } from "@tdt/proto/tdt/auth/v1/auth";
import { trustedClient } from "./client-address.js";
import type { SigningKeys } from "./keys.js";
import { LoginAttempts } from "./login-attempts.js";
import type { StartLoginSession } from "./login-session-start.js";
import { endLoginSessions } from "./login-sessions.js";
import type { ThrottleRules } from "./login-throttle.js";
import { passwordMatches } from "./passwords.js";
import { currentPolicy } from "./policy-store.js";
import { refreshSession } from "./refresh.js";
import { findRefreshUser, postgresRefreshTransaction, rotateRefreshToken } from "./refresh-store.js";
import { checkLogin, checkRefresh } from "./request-limits.js";
import { mintWithClaims, verifyRefreshToken } from "./token-minting.js";
import { findUserByEmail } from "./users.js";

type LoginRpc = "login" | "refresh" | "logout";

export interface LoginHandlerDeps {
  sql: Sql;
  keys: SigningKeys;
  accessTokenTtlSeconds: number;
  /** How password logins are slowed per email and client address (login-throttle.ts). */
  loginThrottle: ThrottleRules;
  /** Epoch seconds. */
  now: () => number;
  authorize: (rpc: "logout", ctx: RequestContext) => Promise<AccessClaims>;
  startLoginSession: StartLoginSession;
  /** Where the browser signs out at the provider a login session came from, if any (sso-handlers.ts). */
  endSessionUrl: (sid: string) => Promise<string | undefined>;
}

/** A password login, a refresh and a logout: where a login session's tokens begin, follow and end. */
export function loginHandlers(deps: LoginHandlerDeps): Pick<Handlers<typeof AuthServiceService>, LoginRpc> {
  const { sql, keys } = deps;

  // Password logins are slowed per email and client address, never per email alone (login-throttle.ts).
  const loginAttempts = new LoginAttempts(sql, deps.loginThrottle);

  const logins = meter().createCounter("tdt.auth.logins", { description: "Password logins, by outcome" });
  const refreshes = meter().createCounter("tdt.auth.refreshes", { description: "Token refreshes, by outcome" });

  return {
    login: (request, ctx) =>
      countOutcome(logins, async () => {
        checkLogin(request);
        const client = trustedClient(request.client, ctx);
        // Counted as a failure from here until the password proves right; 429 while it must wait.
        const attempt = await loginAttempts.start({ address: client.ip, email: request.email });
        const user = request.email ? await findUserByEmail(sql, request.email) : undefined;
        // Same work and the same answer for an unknown email, a wrong password and an inactive user.
        // A user made by single sign-on has no password until they set one: refused the same way.
        const matches = await passwordMatches(request.password, user?.password_hash ?? undefined);
        if (!user || !matches || !user.is_active) throw new AppError("invalid_credentials");
        await attempt.succeeded();
        return { tokens: await deps.startLoginSession(client, async () => ({ userId: user.id })) };
      }),

    refresh: (request) => countOutcome(refreshes, () => refreshOnce(deps, request)),

    async logout(request, ctx) {
      const claims = await deps.authorize("logout", ctx);
      // A refresh token here is bounded as Refresh bounds it.
      checks().contract("tdt.auth.v1.RefreshRequest", { refresh_token: request.refresh_token }).done();
      // A refresh token handed in with the logout ends its own login session too, if it is the caller's.
      const handedIn = request.refresh_token
        ? await verifyRefreshToken(request.refresh_token, keys).catch(() => undefined)
        : undefined;
      const sids = [claims.sid];
      if (handedIn?.sub === claims.sub && handedIn.sid !== claims.sid) sids.push(handedIn.sid);
      await inTransaction(sql, (tx) =>
        request.all
          ? endLoginSessions(tx, { userId: claims.sub }, { kind: "revoked", reason: "logout_all" })
          : endLoginSessions(tx, { sids, userId: claims.sub }, { kind: "revoked", reason: "logout" }),
      );
      // A session a provider started: where the browser signs out there too (RP-initiated logout).
      const end_session_url = await deps.endSessionUrl(claims.sid);
      return end_session_url ? { end_session_url } : {};
    },
  };
}

/** A refresh (RefreshSession): the token pair of the next link in the token's chain. */
async function refreshOnce(
  deps: Pick<LoginHandlerDeps, "sql" | "keys" | "now" | "accessTokenTtlSeconds">,
  request: RefreshRequest,
) {
  const { sql, keys, now } = deps;
  checkRefresh(request);
  // Read before the transaction: minting runs inside it, and a key read there would wait
  // for a second connection while holding one (ten refreshes at once when the key cache
  // expired held the whole pool, each waiting for another connection, for ever).
  const key = await keys.signingKey();
  const tokens = await refreshSession(
    request.refresh_token,
    {
      now,
      verify: (token) => verifyRefreshToken(token, keys),
      findUser: (id, token) => findRefreshUser(sql, id, token),
      currentPolicy: (orgId) => currentPolicy(sql, orgId),
      mint: async (user, sid, session, issuedAt) =>
        mintWithClaims({
          key,
          user,
          sid,
          session,
          now: issuedAt,
          accessTtlSeconds: deps.accessTokenTtlSeconds,
        }),
      transaction: (work) => inTransaction(sql, (tx) => work(postgresRefreshTransaction(tx))),
      rotate: (parentJti, child, session) => rotateRefreshToken(sql, parentJti, child, session),
    },
    request.idempotency_key || undefined,
  );
  return { tokens };
}
