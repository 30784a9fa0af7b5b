import {
  type AccessClaims,
  AppError,
  checks,
  DEFAULT_ORGANIZATION_ID,
  type Handlers,
  inTransaction,
  type RequestContext,
  type Role,
  type Sql,
} from "@tdt/kit";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { announceUserDeactivated, announceUserUpdated } from "./events.js";
import { endLoginSessions, openSessionsOfUser } from "./login-sessions.js";
import { isPlatformAdmin } from "./organizations.js";
import { findLiveUser, findMember, isRole, listUsers, lockUser, toUser, updateUser } from "./users.js";

type UserRpc = "getMe" | "listUsers" | "updateUser";

export interface UserHandlerDeps {
  sql: Sql;
  authorize: (rpc: "listUsers" | "updateUser", ctx: RequestContext) => Promise<AccessClaims>;
  /** GetMe's check: the signature only, as its one statement reads the user through the open session. */
  authorizeBySignature: (rpc: "getMe", ctx: RequestContext) => Promise<AccessClaims>;
}

/** The caller's own account, and the users as an admin lists and changes them. */
export function userHandlers(deps: UserHandlerDeps): Pick<Handlers<typeof AuthServiceService>, UserRpc> {
  const { sql, authorize } = deps;

  return {
    async getMe(_request, ctx) {
      const claims = await deps.authorizeBySignature("getMe", ctx);
      const user = await findLiveUser(sql, claims);
      if (!user) throw new AppError("session_revoked");
      // The role is the one in the organization the token acts in, as the token says.
      const { org } = user;
      return {
        user: toUser({ ...user, role: org.role }),
        organization: {
          id: org.id,
          name: org.name,
          slug: org.slug,
          role: org.role,
          created_at: new Date(org.created_at).toISOString(),
          current: true,
        },
        is_platform_admin: user.is_platform_admin,
        linked_providers: user.linked_providers.map((link) => ({
          provider: link.provider_id,
          email: link.email,
          linked_at: new Date(link.linked_at).toISOString(),
        })),
        has_password: user.password_hash !== null,
        email_verified: user.email_verified_at !== null,
      };
    },

    // An admin manages the members of the organization their token acts in, with their roles there.
    async listUsers(request, ctx) {
      const claims = await authorize("listUsers", ctx);
      checks().page(request).done();
      const limit = Math.min(Math.max(request.limit || 50, 1), 100);
      const skip = Math.max(request.skip || 0, 0);
      const { users, total } = await listUsers(sql, claims.org, { skip, limit });
      return { users: users.map(toUser), total };
    },

    async updateUser(request, ctx) {
      const claims = await authorize("updateUser", ctx);
      checks().uuid(["path", "id"], request.id).done();
      if (request.role !== undefined && !isRole(request.role)) {
        throw AppError.invalid([{ loc: ["body", "role"], msg: "Must be technician, engineer or admin", type: "enum" }]);
      }
      // Someone of another organization is nobody here.
      const target = await findMember(sql, claims.org, request.id);
      if (!target) throw new AppError("not_found");
      // An admin cannot lock themselves out: another admin must do it.
      if (target.id === claims.sub && (request.is_active === false || (request.role && request.role !== "admin"))) {
        throw new AppError("cannot_change_own_account");
      }
      const updated = await inTransaction(sql, async (tx) => {
        // The row as it was, locked: what changes is decided against it, not against a read
        // that a concurrent update may already have overtaken.
        const before = await lockUser(tx, target.id);
        const member = before && (await findMember(tx, claims.org, target.id));
        if (!before || !member) throw new AppError("not_found");
        // The account is the platform's: an organization's admin (de)activates it only when it
        // belongs to no other organization.
        if (request.is_active !== undefined && request.is_active !== before.is_active) {
          const [elsewhere] = await tx`
            select 1 from memberships where user_id = ${target.id} and org_id <> ${claims.org} limit 1`;
          if (elsewhere && !(await isPlatformAdmin(tx, claims.sub))) throw new AppError("forbidden");
        }
        const role = request.role as Role | undefined;
        // users.role is the default organization's (the migration's trigger keeps its membership).
        const row = await updateUser(tx, target.id, {
          role: claims.org === DEFAULT_ORGANIZATION_ID ? role : undefined,
          is_active: request.is_active,
        });
        if (role && claims.org !== DEFAULT_ORGANIZATION_ID) {
          await tx`update memberships set role = ${role} where org_id = ${claims.org} and user_id = ${target.id}`;
        }
        if (before.is_active && request.is_active === false) {
          await endLoginSessions(tx, { userId: target.id }, { kind: "revoked", reason: "user_deactivated" });
          await announceUserDeactivated(tx, target.id);
        } else if (role && role !== member.role) {
          // Tokens carry the role: end the sessions in this organization so the new role takes
          // effect at the next login there.
          const sids = await openSessionsOfUser(tx, target.id, { organization: claims.org });
          await endLoginSessions(tx, { sids, userId: target.id }, { kind: "revoked", reason: "admin" });
        }
        await announceUserUpdated(tx, target.id, before, row);
        return { ...row, role: role ?? member.role };
      });
      return { user: toUser(updated) };
    },
  };
}
