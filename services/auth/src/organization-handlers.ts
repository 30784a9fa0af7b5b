import {
  type AccessClaims,
  AppError,
  checks,
  type Handlers,
  inTransaction,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { type AccountDeps, addOrganizationMember } from "./accounts.js";
import { trustedClient } from "./client-address.js";
import type { StartLoginSession } from "./login-session-start.js";
import { endLoginSessions, openSessionsOfUser } from "./login-sessions.js";
import { domainList, organizationSettings, setDomains, setMemberLimit } from "./organization-settings.js";
import { createOrganization, isPlatformAdmin, organizationsOf, requireOrganizationAdmin } from "./organizations.js";
import { resolvePolicy } from "./policy.js";
import { currentPolicy, saveSessionPolicy } from "./policy-store.js";
import type { StoredProviders } from "./sso-provider-store.js";
import { lockUser } from "./users.js";

type OrganizationRpc =
  | "createOrganization"
  | "listOrganizations"
  | "switchOrganization"
  | "getOrganizationPolicy"
  | "setOrganizationPolicy"
  | "addOrganizationMember"
  | "removeOrganizationMember"
  | "getOrganization"
  | "setOrganizationDomains"
  | "setOrganizationLimits"
  | "listOrganizationSsoProviders"
  | "createOrganizationSsoProvider"
  | "updateOrganizationSsoProvider"
  | "deleteOrganizationSsoProvider";

export interface OrganizationHandlerDeps {
  sql: Sql;
  accounts: Omit<AccountDeps, "sql">;
  sessionPolicyMinSeconds: number;
  authorize: (rpc: OrganizationRpc, ctx: RequestContext) => Promise<AccessClaims>;
  startLoginSession: StartLoginSession;
  /** The providers organizations added. */
  sso: { stored: StoredProviders };
}

/**
 * Organizations as their members see them (docs/organizations.md): which they belong to, switching
 * between them, and what an organization's admins (and the platform's) manage in one.
 */
export function organizationHandlers(
  deps: OrganizationHandlerDeps,
): Pick<Handlers<typeof AuthServiceService>, OrganizationRpc> {
  const { sql, authorize } = deps;

  /** The caller, checked to administer organization `id` (404 to a non-member, 403 to a member). */
  const administering = async (rpc: OrganizationRpc, id: string, ctx: RequestContext) => {
    const claims = await authorize(rpc, ctx);
    checks().uuid(["path", "id"], id).done();
    await requireOrganizationAdmin(sql, id, claims.sub);
    return claims;
  };

  return {
    // The platform's admins make organizations; to anyone else it is 403.
    async createOrganization(request, ctx) {
      const claims = await authorize("createOrganization", ctx);
      if (!(await isPlatformAdmin(sql, claims.sub))) throw new AppError("forbidden");
      checks().contract("tdt.auth.v1.CreateOrganizationRequest", request).done();
      const made = await createOrganization(sql, request, claims.sub);
      return { organization: { ...made, current: false } };
    },

    async listOrganizations(_request, ctx) {
      const claims = await authorize("listOrganizations", ctx);
      return { organizations: await organizationsOf(sql, claims.sub, claims.org) };
    },

    async switchOrganization(request, ctx) {
      const claims = await authorize("switchOrganization", ctx);
      checks().uuid(["body", "organization_id"], request.organization_id).done();
      const client = trustedClient(request.client, ctx);
      const tokens = await deps.startLoginSession(client, async (tx) => {
        // The session switched from, locked for share: ended meanwhile, it switches nowhere. The
        // new one rests on its sign-in (auth_time) and its provider, so neither the absolute
        // limit nor a provider's logout is escaped by switching.
        const [current] = await tx<{ auth_time: Date; provider: string | null; sid: string | null }[]>`
          select auth_time, oidc_provider as provider, oidc_sid as sid from login_sessions
          where sid = ${claims.sid} and user_id = ${claims.sub} and ended_at is null
          for share`;
        if (!current) throw new AppError("session_revoked");
        return {
          userId: claims.sub,
          organization: request.organization_id,
          authTime: Math.floor(current.auth_time.getTime() / 1000),
          origin: current.provider ? { provider: current.provider, sid: current.sid } : undefined,
        };
      });
      return { tokens };
    },

    async getOrganizationPolicy(request, ctx) {
      await administering("getOrganizationPolicy", request.id, ctx);
      return { policy: await currentPolicy(sql, request.id) };
    },

    async setOrganizationPolicy(request, ctx) {
      await administering("setOrganizationPolicy", request.id, ctx);
      const policy = resolvePolicy(request, deps.sessionPolicyMinSeconds);
      await saveSessionPolicy(sql, request.id, policy);
      return { policy };
    },

    // Their login sessions there end with it; their account and other organizations stay.
    async removeOrganizationMember(request, ctx) {
      const claims = await administering("removeOrganizationMember", request.id, ctx);
      checks().uuid(["path", "user_id"], request.user_id).done();
      if (request.user_id === claims.sub) throw new AppError("cannot_change_own_account");
      const removed = await inTransaction(sql, async (tx) => {
        // The user's row first, as every change of what a user may do locks it (a login waits for it).
        await lockUser(tx, request.user_id);
        const gone = await tx`
          delete from memberships where org_id = ${request.id} and user_id = ${request.user_id} returning 1`;
        if (gone.length === 0) return false;
        const sids = await openSessionsOfUser(tx, request.user_id, { organization: request.id });
        await endLoginSessions(tx, { sids, userId: request.user_id }, { kind: "revoked", reason: "admin" });
        return true;
      });
      if (!removed) throw new AppError("not_found");
      return {};
    },

    async addOrganizationMember(request, ctx) {
      const claims = await administering("addOrganizationMember", request.id, ctx);
      return { member: await addOrganizationMember({ ...deps.accounts, sql }, claims, request) };
    },

    async getOrganization(request, ctx) {
      await administering("getOrganization", request.id, ctx);
      return { organization: await organizationSettings(sql, request.id) };
    },

    async setOrganizationDomains(request, ctx) {
      await administering("setOrganizationDomains", request.id, ctx);
      checks().contract("tdt.auth.v1.SetOrganizationDomainsRequest", request).done();
      const domains = domainList(request.domains, ["body", "domains"]);
      return {
        organization: await inTransaction(sql, async (tx) => {
          await setDomains(tx, request.id, domains);
          return organizationSettings(tx, request.id);
        }),
      };
    },

    // The platform's admins set limits; the organization's own read them and get 403 here.
    async setOrganizationLimits(request, ctx) {
      const claims = await administering("setOrganizationLimits", request.id, ctx);
      if (!(await isPlatformAdmin(sql, claims.sub))) throw new AppError("forbidden");
      checks().contract("tdt.auth.v1.SetOrganizationLimitsRequest", request).done();
      await setMemberLimit(sql, request.id, request.max_members);
      return { organization: await organizationSettings(sql, request.id) };
    },

    async listOrganizationSsoProviders(request, ctx) {
      await administering("listOrganizationSsoProviders", request.id, ctx);
      return { providers: await deps.sso.stored.list(request.id) };
    },

    async createOrganizationSsoProvider(request, ctx) {
      await administering("createOrganizationSsoProvider", request.id, ctx);
      checks().contract("tdt.auth.v1.CreateOrganizationSsoProviderRequest", request).done();
      const provider = await inTransaction(sql, (tx) =>
        deps.sso.stored.create(tx, request.id, request.provider_id, request),
      );
      return { provider };
    },

    async updateOrganizationSsoProvider(request, ctx) {
      await administering("updateOrganizationSsoProvider", request.id, ctx);
      checks().contract("tdt.auth.v1.UpdateOrganizationSsoProviderRequest", request).done();
      const provider = await inTransaction(sql, (tx) =>
        deps.sso.stored.update(tx, request.id, request.provider_id, request),
      );
      return { provider };
    },

    // Sign-ins through it stop, and the login sessions it started end with it.
    async deleteOrganizationSsoProvider(request, ctx) {
      await administering("deleteOrganizationSsoProvider", request.id, ctx);
      const removed = await inTransaction(sql, async (tx) => {
        const sids = await deps.sso.stored.remove(tx, request.id, request.provider_id);
        if (!sids) return false;
        await endLoginSessions(tx, { sids }, { kind: "revoked", reason: "sso_unlinked" });
        return true;
      });
      if (!removed) throw new AppError("not_found");
      return {};
    },
  };
}
