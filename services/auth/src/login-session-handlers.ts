import {
  type AccessClaims,
  AppError,
  checks,
  type Handlers,
  inTransaction,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import type { AuthServiceService, LoginSession } from "@tdt/proto/tdt/auth/v1/auth";
import { endLoginSessions, listOpenLoginSessions } from "./login-sessions.js";
import { resolvePolicy } from "./policy.js";
import { currentPolicy, saveSessionPolicy } from "./policy-store.js";
import { findMember } from "./users.js";

type LoginSessionRpc =
  | "listLoginSessions"
  | "revokeLoginSession"
  | "listUserLoginSessions"
  | "revokeUserLoginSession"
  | "getSessionPolicy"
  | "setSessionPolicy";

export interface LoginSessionHandlerDeps {
  sql: Sql;
  /** The shortest idle or absolute lifetime an admin may set. */
  sessionPolicyMinSeconds: number;
  authorize: (rpc: LoginSessionRpc, ctx: RequestContext) => Promise<AccessClaims>;
}

/**
 * A user's own login sessions; any user's (admin), to end one without deactivating the account;
 * and the policy (admin) that bounds every login session's life.
 */
export function loginSessionHandlers(
  deps: LoginSessionHandlerDeps,
): Pick<Handlers<typeof AuthServiceService>, LoginSessionRpc> {
  const { sql, authorize } = deps;

  return {
    async listLoginSessions(_request, ctx) {
      const claims = await authorize("listLoginSessions", ctx);
      return { sessions: await sessionsOf(sql, claims.sub, claims.sid) };
    },

    async revokeLoginSession(request, ctx) {
      const claims = await authorize("revokeLoginSession", ctx);
      checks().uuid(["path", "sid"], request.sid).done();
      const ended = await inTransaction(sql, (tx) =>
        endLoginSessions(tx, { sids: [request.sid], userId: claims.sub }, { kind: "revoked", reason: "user_revoked" }),
      );
      if (ended.length === 0) throw new AppError("not_found");
      return {};
    },

    // A member's login sessions in the admin's organization (those elsewhere are not theirs to see).
    async listUserLoginSessions(request, ctx) {
      const claims = await authorize("listUserLoginSessions", ctx);
      checks().uuid(["path", "id"], request.id).done();
      if (!(await findMember(sql, claims.org, request.id))) throw new AppError("not_found");
      return { sessions: await sessionsOf(sql, request.id, undefined, claims.org) };
    },

    async revokeUserLoginSession(request, ctx) {
      const claims = await authorize("revokeUserLoginSession", ctx);
      checks().uuid(["path", "id"], request.id).uuid(["path", "sid"], request.sid).done();
      const ended = await inTransaction(sql, async (tx) => {
        const [inCallers] = await tx`
          select 1 from login_sessions where sid = ${request.sid} and user_id = ${request.id} and org_id = ${claims.org}`;
        if (!inCallers) return [];
        return endLoginSessions(tx, { sids: [request.sid], userId: request.id }, { kind: "revoked", reason: "admin" });
      });
      if (ended.length === 0) throw new AppError("not_found");
      return {};
    },

    // The policy of the organization the admin's token acts in.
    async getSessionPolicy(_request, ctx) {
      const claims = await authorize("getSessionPolicy", ctx);
      return { policy: await currentPolicy(sql, claims.org) };
    },

    async setSessionPolicy(request, ctx) {
      const claims = await authorize("setSessionPolicy", ctx);
      const policy = resolvePolicy(request, deps.sessionPolicyMinSeconds);
      await saveSessionPolicy(sql, claims.org, policy);
      return { policy };
    },
  };
}

/** The user's open login sessions as listed; `current` marks the one of the token that asks. */
async function sessionsOf(sql: Sql, userId: string, currentSid?: string, orgId?: string): Promise<LoginSession[]> {
  const rows = await listOpenLoginSessions(sql, userId, orgId);
  return rows
    .filter((row) => row.idle_expires_at === null || row.idle_expires_at > new Date())
    .map((row) => ({
      sid: row.sid,
      created_at: row.auth_time.toISOString(),
      last_used_at: row.last_used_at.toISOString(),
      user_agent: row.user_agent,
      ip: row.ip,
      idle_expires_at: (row.idle_expires_at ?? row.absolute_expires_at).toISOString(),
      absolute_expires_at: row.absolute_expires_at.toISOString(),
      current: row.sid === currentSid,
    }));
}
