import { randomUUID } from "node:crypto";
import {
  type AccessClaims,
  AccessTokenVerifier,
  AppError,
  AUTH_SUBJECTS,
  checks,
  encodeAuthEvent,
  type Handlers,
  inTransaction,
  type Logger,
  type RequestContext,
  type Sql,
  writeOutboxEvent,
} from "@tdt/kit";
import type { AuthServiceService, ClientInfo, LoginSession } from "@tdt/proto/tdt/auth/v1/auth";
import { trustedClient } from "./client-address.js";
import type { SigningKeys } from "./keys.js";
import { endLoginSessions, openLoginSession } from "./login-sessions.js";
import { passwordMatches } from "./passwords.js";
import { resolvePolicy, type SessionPolicy } from "./policy.js";
import type { RateLimiter } from "./rate-limit.js";
import { refreshSession } from "./refresh.js";
import { postgresRefreshTransaction, recordRefreshToken } from "./refresh-store.js";
import { checkLogin, checkRefresh, checkRegisterBounds, REQUEST_LIMITS } from "./request-limits.js";
import { mintWithClaims, verifyRefreshToken } from "./token-minting.js";
import { checkRegistration, createUser, findUserByEmail, findUserById, isRole, toUser, type UserRow } from "./users.js";

export interface AuthDeps {
  sql: Sql;
  keys: SigningKeys;
  rateLimiter: RateLimiter;
  accessTokenTtlSeconds: number;
  sessionPolicyMinSeconds: number;
  log: Logger;
  /** Epoch seconds; tests may move it. */
  now?: () => number;
}

const invalidCredentials = () => new AppError("unauthenticated", "invalid_credentials");
const notFound = () => new AppError("not_found", "not_found");
const forbidden = () => new AppError("forbidden", "forbidden");

export async function currentPolicy(sql: Sql): Promise<SessionPolicy> {
  const [row] = await sql<SessionPolicy[]>`
    select preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds from session_policy`;
  return row as SessionPolicy;
}

/** The gRPC handlers: thin, each checks its caller and calls the domain. */
export function authHandlers(deps: AuthDeps): Handlers<typeof AuthServiceService> {
  const { sql, keys } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));

  // The auth service verifies tokens as every service does, then asks its own tables whether
  // the login session is still open and the user still active: it is the source of truth.
  const verifier = new AccessTokenVerifier({
    fetchJwks: () => keys.jwks(),
    check: async (claims) => {
      const [open] = await sql`
        select 1 from login_sessions s join users u on u.id = s.user_id
        where s.sid = ${claims.sid} and s.ended_at is null and u.is_active`;
      if (!open) throw new AppError("unauthenticated", "session_revoked");
    },
    log: deps.log,
    refetchIntervalMs: 1000,
  });

  const caller = (ctx: RequestContext): Promise<AccessClaims> => verifier.verify(ctx.accessToken);
  const admin = async (ctx: RequestContext): Promise<AccessClaims> => {
    const claims = await caller(ctx);
    if (claims.role !== "admin") throw forbidden();
    return claims;
  };

  /** Opens a login session under the current policy and mints its first pair. */
  const startLoginSession = async (user: UserRow, client: ClientInfo) => {
    const policy = await currentPolicy(sql);
    const issuedAt = now();
    const key = await keys.signingKey();
    return inTransaction(sql, async (tx) => {
      // The user row, locked for share: a deactivation or role change either finished before
      // (and is seen here) or waits for this session to exist (and then ends it).
      const [current] = await tx<Pick<UserRow, "role" | "is_active">[]>`
        select role, is_active from users where id = ${user.id} for share`;
      if (!current?.is_active) throw invalidCredentials();
      const sid = await openLoginSession(tx, {
        userId: user.id,
        policy,
        authTime: new Date(issuedAt * 1000),
        userAgent: client.user_agent,
        ip: client.ip,
      });
      const session = { auth_time: issuedAt, idle_max: policy.idle_max_seconds, abs_max: policy.abs_max_seconds };
      const minted = await mintWithClaims({
        key,
        user: { ...user, role: current.role },
        sid,
        session,
        now: issuedAt,
        accessTtlSeconds: deps.accessTokenTtlSeconds,
      });
      await recordRefreshToken(tx, {
        jti: minted.refreshJti,
        sid,
        userId: user.id,
        issuedAt,
        expiresAt: minted.refreshExp,
      });
      return minted.pair;
    });
  };

  const rateLimitKeys = (kind: string, email: string, client: ClientInfo) => [
    `${kind}:ip:${client.ip || "unknown"}`,
    `${kind}:email:${email.trim().toLowerCase()}`,
  ];

  return {
    async register(request, ctx) {
      checkRegisterBounds(request);
      await deps.rateLimiter.hit(rateLimitKeys("register", request.email, trustedClient(request.client, ctx)));
      checkRegistration(request);
      const user = await createUser(sql, { ...request, role: "technician" });
      return { user: toUser(user) };
    },

    async login(request, ctx) {
      checkLogin(request);
      const client = trustedClient(request.client, ctx);
      await deps.rateLimiter.hit(rateLimitKeys("login", request.email, client));
      const user = request.email ? await findUserByEmail(sql, request.email) : undefined;
      // Same work and the same answer for an unknown email, a wrong password and an inactive user.
      const matches = await passwordMatches(request.password, user?.password_hash);
      if (!user || !matches || !user.is_active) throw invalidCredentials();
      return { tokens: await startLoginSession(user, client) };
    },

    async refresh(request) {
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
          findUser: (id) => findUserById(sql, id),
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
        },
        request.idempotency_key || undefined,
      );
      return { tokens };
    },

    async getMe(_request, ctx) {
      const claims = await caller(ctx);
      const user = await findUserById(sql, claims.sub);
      if (!user) throw new AppError("unauthenticated", "session_revoked");
      return { user: toUser(user) };
    },

    async logout(request, ctx) {
      const claims = await caller(ctx);
      checks().maxLength(["body", "refresh_token"], request.refresh_token, REQUEST_LIMITS.refreshTokenMax).done();
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
      return {};
    },

    async listLoginSessions(_request, ctx) {
      const claims = await caller(ctx);
      const rows = await sql<
        {
          sid: string;
          auth_time: Date;
          last_used_at: Date;
          user_agent: string;
          ip: string;
          idle_expires_at: Date | null;
          absolute_expires_at: Date;
        }[]
      >`
        select s.sid, s.auth_time, s.last_used_at, s.user_agent, s.ip,
               (select max(t.expires_at) from refresh_tokens t where t.sid = s.sid and t.revoked_at is null) as idle_expires_at,
               s.auth_time + make_interval(secs => s.abs_max_seconds) as absolute_expires_at
        from login_sessions s
        where s.user_id = ${claims.sub} and s.ended_at is null
          and s.auth_time + make_interval(secs => s.abs_max_seconds) > now()
        order by s.auth_time desc`;
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
      const claims = await caller(ctx);
      checks().uuid(["path", "sid"], request.sid).done();
      const ended = await inTransaction(sql, (tx) =>
        endLoginSessions(tx, { sids: [request.sid], userId: claims.sub }, { kind: "revoked", reason: "user_revoked" }),
      );
      if (ended.length === 0) throw notFound();
      return {};
    },

    async listUsers(request, ctx) {
      await admin(ctx);
      checks().page(request).done();
      const limit = Math.min(Math.max(request.limit || 50, 1), 100);
      const skip = Math.max(request.skip || 0, 0);
      const rows = await sql<(UserRow & { total: number })[]>`
        select *, count(*) over () ::int as total from users order by created_at, id offset ${skip} limit ${limit}`;
      const total = rows[0]?.total ?? (await sql<{ n: number }[]>`select count(*)::int as n from users`)[0]?.n ?? 0;
      return { users: rows.map(toUser), total };
    },

    async updateUser(request, ctx) {
      const claims = await admin(ctx);
      checks().uuid(["path", "id"], request.id).done();
      if (request.role !== undefined && !isRole(request.role)) {
        throw AppError.invalid([{ loc: ["body", "role"], msg: "Must be technician, engineer or admin", type: "enum" }]);
      }
      const target = await findUserById(sql, request.id);
      if (!target) throw notFound();
      // An admin cannot lock themselves out: another admin must do it.
      if (target.id === claims.sub && (request.is_active === false || (request.role && request.role !== "admin"))) {
        throw new AppError("conflict", "cannot_change_own_account");
      }
      const updated = await inTransaction(sql, async (tx) => {
        // The row as it was, locked: what changes is decided against it, not against a read
        // that a concurrent update may already have overtaken.
        const [before] = await tx<UserRow[]>`select * from users where id = ${target.id} for no key update`;
        if (!before) throw notFound();
        const [row] = await tx<UserRow[]>`
          update users set
            role = coalesce(${request.role ?? null}, role),
            is_active = coalesce(${request.is_active ?? null}::boolean, is_active)
          where id = ${target.id}
          returning *`;
        if (before.is_active && request.is_active === false) {
          await endLoginSessions(tx, { userId: target.id }, { kind: "revoked", reason: "user_deactivated" });
          const event = { event_id: randomUUID(), occurred_at: new Date().toISOString(), user_id: target.id };
          await writeOutboxEvent(tx, {
            id: event.event_id,
            subject: AUTH_SUBJECTS.userDeactivated,
            payload: encodeAuthEvent({ subject: AUTH_SUBJECTS.userDeactivated, event }),
          });
        } else if (request.role && request.role !== before.role) {
          // Tokens carry the role: end the sessions so the new role takes effect at the next login.
          await endLoginSessions(tx, { userId: target.id }, { kind: "revoked", reason: "admin" });
        }
        return row as UserRow;
      });
      return { user: toUser(updated) };
    },

    async getSessionPolicy(_request, ctx) {
      await admin(ctx);
      return { policy: await currentPolicy(sql) };
    },

    async setSessionPolicy(request, ctx) {
      await admin(ctx);
      const policy = resolvePolicy(request, deps.sessionPolicyMinSeconds);
      await sql`
        update session_policy set preset = ${policy.preset}, idle_max_seconds = ${policy.idle_max_seconds},
          abs_max_seconds = ${policy.abs_max_seconds}, reuse_grace_seconds = ${policy.reuse_grace_seconds},
          updated_at = now()`;
      return { policy };
    },

    async getJwks() {
      return { jwks_json: JSON.stringify(await keys.jwks()) };
    },
  };
}
