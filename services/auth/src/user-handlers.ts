import {
  type AccessClaims,
  AppError,
  checks,
  type Handlers,
  inTransaction,
  type RequestContext,
  type Role,
  type Sql,
} from "@tdt/kit";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { announceUserDeactivated, announceUserUpdated } from "./events.js";
import { endLoginSessions } from "./login-sessions.js";
import { findLiveUser, findUserById, isRole, listUsers, lockUser, toUser, updateUser } from "./users.js";

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
      if (!target) throw new AppError("not_found");
      // An admin cannot lock themselves out: another admin must do it.
      if (target.id === claims.sub && (request.is_active === false || (request.role && request.role !== "admin"))) {
        throw new AppError("cannot_change_own_account");
      }
      const updated = await inTransaction(sql, async (tx) => {
        // The row as it was, locked: what changes is decided against it, not against a read
        // that a concurrent update may already have overtaken.
        const before = await lockUser(tx, target.id);
        if (!before) throw new AppError("not_found");
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
  };
}
