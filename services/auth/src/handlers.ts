import {
  AccessTokenVerifier,
  AppError,
  authorizer,
  checks,
  countOutcome,
  type Handlers,
  inTransaction,
  type Logger,
  meter,
  type Role,
  type Sql,
  type TransactionSql,
} from "@tdt/kit";
import { AUTH_ACCESS } from "@tdt/proto/contracts/access";
import type { AuthServiceService, ClientInfo, LoginSession, RefreshRequest } from "@tdt/proto/tdt/auth/v1/auth";
import { accountHandlers } from "./account-handlers.js";
import type { AccountDeps } from "./accounts.js";
import { trustedClient } from "./client-address.js";
import { announceUserDeactivated, announceUserUpdated } from "./events.js";
import type { SigningKeys } from "./keys.js";
import { LoginAttempts } from "./login-attempts.js";
import {
  endLoginSessions,
  isLoginSessionLive,
  listOpenLoginSessions,
  openLoginSession,
  type SessionOrigin,
} from "./login-sessions.js";
import type { ThrottleRules } from "./login-throttle.js";
import { passwordMatches } from "./passwords.js";
import { resolvePolicy } from "./policy.js";
import { currentPolicy, saveSessionPolicy } from "./policy-store.js";
import type { RateLimiter } from "./rate-limit.js";
import { refreshSession } from "./refresh.js";
import {
  findRefreshUser,
  postgresRefreshTransaction,
  recordRefreshToken,
  rotateRefreshToken,
} from "./refresh-store.js";
import { checkLogin, checkRefresh } from "./request-limits.js";
import type { SsoConfig } from "./sso-config.js";
import { ssoHandlers } from "./sso-handlers.js";
import type { OidcProviders } from "./sso-providers.js";
import { mintWithClaims, verifyRefreshToken } from "./token-minting.js";
import {
  findLiveUser,
  findUserByEmail,
  findUserById,
  isRole,
  listUsers,
  lockUser,
  readUserForShare,
  toUser,
  updateUser,
} from "./users.js";

export interface AuthDeps {
  sql: Sql;
  keys: SigningKeys;
  rateLimiter: RateLimiter;
  accessTokenTtlSeconds: number;
  sessionPolicyMinSeconds: number;
  log: Logger;
  /** Single sign-on: the providers and where the browser comes back to. */
  sso: { config: SsoConfig; providers: OidcProviders };
  /** Counts sign-ins started with a provider, per client address. */
  ssoRateLimiter: RateLimiter;
  /** Registration mode, where mailed links point, and the mail relay to nudge. */
  accounts: Omit<AccountDeps, "sql">;
  /** Requests that send mail to a named address (forgot password, a new verification link). */
  mailRateLimiter: RateLimiter;
  /** How password logins are slowed per email and client address (login-throttle.ts). */
  loginThrottle: ThrottleRules;
  /** Epoch seconds; tests may move it. */
  now?: () => number;
}

const invalidCredentials = () => new AppError("invalid_credentials");
const notFound = () => new AppError("not_found");

/** The gRPC handlers: thin, each checks its caller and calls the domain and the stores (no SQL here). */
export function authHandlers(deps: AuthDeps): Handlers<typeof AuthServiceService> {
  const { sql, keys } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));

  // The auth service verifies tokens as every service does, then asks its own tables whether
  // the login session is still open and the user still active: it is the source of truth.
  const verifier = new AccessTokenVerifier({
    fetchJwks: () => keys.jwks(),
    check: async (claims) => {
      if (!(await isLoginSessionLive(sql, claims.sid))) throw new AppError("session_revoked");
    },
    log: deps.log,
    refetchIntervalMs: 1000,
  });

  const authorize = authorizer(verifier, AUTH_ACCESS);

  // GetMe reads the user through the login session in one statement, which is the same check
  // as the verifier's (session open, user active): its token needs only the signature checked.
  const signatureOnly = new AccessTokenVerifier({
    fetchJwks: () => keys.jwks(),
    log: deps.log,
    refetchIntervalMs: 1000,
  });
  const authorizeBySignature = authorizer(signatureOnly, AUTH_ACCESS);

  /**
   * Opens a login session under the current policy and mints its first pair. `identify` names the
   * user inside the transaction (a one-time code is used there, so a failure leaves it unused).
   */
  const startLoginSession = async (
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
      if (!current?.is_active) throw invalidCredentials();
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

  // Password logins are slowed per email and client address, never per email alone (login-throttle.ts).
  const loginAttempts = new LoginAttempts(sql, deps.loginThrottle);

  /** A refresh (RefreshSession): the token pair of the next link in the token's chain. */
  const refreshOnce = async (request: RefreshRequest) => {
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
        currentPolicy: () => currentPolicy(sql),
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
  };
  const sso = ssoHandlers({ ...deps, sql, authorize, startLoginSession });
  const accounts = accountHandlers({
    ...deps.accounts,
    sql,
    rateLimiter: deps.rateLimiter,
    mailRateLimiter: deps.mailRateLimiter,
    authorize,
  });
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
        if (!user || !matches || !user.is_active) throw invalidCredentials();
        await attempt.succeeded();
        return { tokens: await startLoginSession(client, async () => ({ userId: user.id })) };
      }),

    refresh: (request) => countOutcome(refreshes, () => refreshOnce(request)),

    async getMe(_request, ctx) {
      const claims = await authorizeBySignature("getMe", ctx);
      const user = await findLiveUser(sql, claims);
      if (!user) throw new AppError("session_revoked");
      return {
        user: toUser(user),
        linked_providers: user.linked_providers.map((link) => ({
          provider: link.provider_id,
          email: link.email,
          linked_at: new Date(link.linked_at).toISOString(),
        })),
        has_password: user.password_hash !== null,
        email_verified: user.email_verified_at !== null,
      };
    },

    async logout(request, ctx) {
      const claims = await authorize("logout", ctx);
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
      const end_session_url = await sso.endSessionUrl(claims.sid);
      return end_session_url ? { end_session_url } : {};
    },

    async listLoginSessions(_request, ctx) {
      const claims = await authorize("listLoginSessions", ctx);
      const rows = await listOpenLoginSessions(sql, claims.sub);
      const sessions: LoginSession[] = rows
        .filter((row) => row.idle_expires_at === null || row.idle_expires_at > new Date())
        .map((row) => ({
          sid: row.sid,
          created_at: row.auth_time.toISOString(),
          last_used_at: row.last_used_at.toISOString(),
          user_agent: row.user_agent,
          ip: row.ip,
          idle_expires_at: (row.idle_expires_at ?? row.absolute_expires_at).toISOString(),
          absolute_expires_at: row.absolute_expires_at.toISOString(),
          current: row.sid === claims.sid,
        }));
      return { sessions };
    },

    async revokeLoginSession(request, ctx) {
      const claims = await authorize("revokeLoginSession", ctx);
      checks().uuid(["path", "sid"], request.sid).done();
      const ended = await inTransaction(sql, (tx) =>
        endLoginSessions(tx, { sids: [request.sid], userId: claims.sub }, { kind: "revoked", reason: "user_revoked" }),
      );
      if (ended.length === 0) throw notFound();
      return {};
    },

    async listUsers(request, ctx) {
      await authorize("listUsers", ctx);
      checks().page(request).done();
      const limit = Math.min(Math.max(request.limit || 50, 1), 100);
      const skip = Math.max(request.skip || 0, 0);
      const { users, total } = await listUsers(sql, { skip, limit });
      return { users: users.map(toUser), total };
    },

    async updateUser(request, ctx) {
      const claims = await authorize("updateUser", ctx);
      checks().uuid(["path", "id"], request.id).done();
      if (request.role !== undefined && !isRole(request.role)) {
        throw AppError.invalid([{ loc: ["body", "role"], msg: "Must be technician, engineer or admin", type: "enum" }]);
      }
      const target = await findUserById(sql, request.id);
      if (!target) throw notFound();
      // An admin cannot lock themselves out: another admin must do it.
      if (target.id === claims.sub && (request.is_active === false || (request.role && request.role !== "admin"))) {
        throw new AppError("cannot_change_own_account");
      }
      const updated = await inTransaction(sql, async (tx) => {
        // The row as it was, locked: what changes is decided against it, not against a read
        // that a concurrent update may already have overtaken.
        const before = await lockUser(tx, target.id);
        if (!before) throw notFound();
        // The role was checked above (isRole).
        const row = await updateUser(tx, target.id, {
          role: request.role as Role | undefined,
          is_active: request.is_active,
        });
        if (before.is_active && request.is_active === false) {
          await endLoginSessions(tx, { userId: target.id }, { kind: "revoked", reason: "user_deactivated" });
          await announceUserDeactivated(tx, target.id);
        } else if (request.role && request.role !== before.role) {
          // Tokens carry the role: end the sessions so the new role takes effect at the next login.
          await endLoginSessions(tx, { userId: target.id }, { kind: "revoked", reason: "admin" });
        }
        await announceUserUpdated(tx, target.id, before, row);
        return row;
      });
      return { user: toUser(updated) };
    },

    async getSessionPolicy(_request, ctx) {
      await authorize("getSessionPolicy", ctx);
      return { policy: await currentPolicy(sql) };
    },

    async setSessionPolicy(request, ctx) {
      await authorize("setSessionPolicy", ctx);
      const policy = resolvePolicy(request, deps.sessionPolicyMinSeconds);
      await saveSessionPolicy(sql, policy);
      return { policy };
    },

    async getJwks() {
      return { jwks_json: JSON.stringify(await keys.jwks()) };
    },

    ...sso.handlers,
    ...accounts,
  };
}
