import {
  type AccessClaims,
  AppError,
  checks,
  type Handlers,
  inTransaction,
  type Logger,
  type RequestContext,
  type Sql,
} from "@tdt/kit";
import { PROVIDER_ID_PATTERN } from "@tdt/proto/contracts/sso";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import * as oidc from "openid-client";
import type { RegistrationMode } from "./accounts.js";
import { trustedClient } from "./client-address.js";
import { announceUserChanged } from "./events.js";
import type { StartLoginSession } from "./login-session-start.js";
import { endLoginSessions, openSessionsOfUser, originOfLoginSession } from "./login-sessions.js";
import { hashPassword, passwordMatches } from "./passwords.js";
import type { RateLimiter } from "./rate-limit.js";
import type { SsoConfig } from "./sso-config.js";
import { beginSsoLogin, completeSsoLogin } from "./sso-login.js";
import { backchannelLogout } from "./sso-logout.js";
import type { StoredProviders } from "./sso-provider-store.js";
import { describe, type OidcProviders } from "./sso-providers.js";
import { unlinkAccount, useLoginCode } from "./sso-store.js";
import { lockUser, passwordOfSession, setPasswordHash, UUID } from "./users.js";

/** A first password may be set this long after signing in (the session's start) without the old one. */
const FIRST_PASSWORD_WINDOW_SECONDS = 600;
const PROVIDER_ID = new RegExp(PROVIDER_ID_PATTERN);

type SsoRpc =
  | "listOidcProviders"
  | "beginOidcLogin"
  | "completeOidcLogin"
  | "exchangeOidcCode"
  | "oidcBackchannelLogout"
  | "unlinkOidcIdentity"
  | "setPassword"
  | "beginOidcLink";

export interface SsoHandlerDeps {
  sql: Sql;
  /** The registration mode, which decides whether a first sign-in makes an account. */
  accounts: { registration: RegistrationMode };
  sso: { config: SsoConfig; providers: OidcProviders; stored: StoredProviders };
  /** Login's limit: guesses of a current password per user count as login attempts do. */
  rateLimiter: RateLimiter;
  /** Sign-ins started per client address. */
  ssoRateLimiter: RateLimiter;
  log: Logger;
  now?: () => number;
  authorize: (
    rpc: "unlinkOidcIdentity" | "setPassword" | "beginOidcLink",
    ctx: RequestContext,
  ) => Promise<AccessClaims>;
  startLoginSession: StartLoginSession;
}

/** The single sign-on RPCs (thin: the flows are in sso-login.ts and sso-logout.ts), and the logout URL. */
export function ssoHandlers(deps: SsoHandlerDeps) {
  const { sql } = deps;
  const { config, providers } = deps.sso;
  const flow = { sql, providers, config, log: deps.log, registration: deps.accounts.registration };
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));

  const handlers: Pick<Handlers<typeof AuthServiceService>, SsoRpc> = {
    // The deployment's providers, or, for a login page of one organization (its slug), that organization's.
    async listOidcProviders(request) {
      checks().contract("tdt.auth.v1.ListOidcProvidersRequest", request).done();
      if (request.organization !== undefined)
        return { providers: await deps.sso.stored.offeredBy(request.organization) };
      return { providers: providers.configs.map(({ id, name }) => ({ id, name })) };
    },

    async beginOidcLogin(request, ctx) {
      checks().contract("tdt.auth.v1.BeginOidcLoginRequest", request).done();
      const client = trustedClient(request.client, ctx);
      // Each attempt is a row until it expires: a flood from one address is cut off.
      await deps.ssoRateLimiter.hit([`oidc:ip:${client.ip || "unknown"}`]);
      return beginSsoLogin(flow, request);
    },

    async beginOidcLink(request, ctx) {
      const claims = await deps.authorize("beginOidcLink", ctx);
      checks().contract("tdt.auth.v1.BeginOidcLinkRequest", request).done();
      const client = trustedClient(request.client, ctx);
      await deps.ssoRateLimiter.hit([`oidc:ip:${client.ip || "unknown"}`]);
      return beginSsoLogin(flow, request, { user_id: claims.sub, sid: claims.sid });
    },

    async completeOidcLogin(request) {
      checks().contract("tdt.auth.v1.CompleteOidcLoginRequest", request).done();
      return completeSsoLogin(flow, request);
    },

    async exchangeOidcCode(request, ctx) {
      checks().contract("tdt.auth.v1.ExchangeOidcCodeRequest", request).done();
      const tokens = await deps.startLoginSession(trustedClient(request.client, ctx), async (tx) => {
        const grant = await useLoginCode(tx, request.code, request.binding);
        if (!grant) throw new AppError("invalid_login_code");
        // An organization's provider signs in to that organization; one removed since signs in nowhere.
        const provider = await providers.get(grant.provider_id).catch(() => undefined);
        if (!provider) throw new AppError("invalid_login_code");
        return {
          userId: grant.user_id,
          organization: provider.organization,
          origin: { provider: grant.provider_id, sid: grant.provider_sid },
        };
      });
      return { tokens };
    },

    async oidcBackchannelLogout(request) {
      checks().contract("tdt.auth.v1.OidcBackchannelLogoutRequest", request).done();
      await backchannelLogout(flow, request);
      return {};
    },

    async unlinkOidcIdentity(request, ctx) {
      await deps.authorize("unlinkOidcIdentity", ctx);
      checks().uuid(["path", "id"], request.user_id).done();
      if (!PROVIDER_ID.test(request.provider)) throw new AppError("not_found");
      await inTransaction(sql, async (tx) => {
        const user = await lockUser(tx, request.user_id);
        if (!user || !(await unlinkAccount(tx, request.user_id, request.provider))) throw new AppError("not_found");
        // The account keeps a way to sign in: a password, or another provider.
        const [other] = await tx`select 1 from oidc_identities where user_id = ${request.user_id} limit 1`;
        if (user.password_hash === null && !other) throw new AppError("last_sign_in_method");
        // The sessions that link started end with it.
        const sids = await openSessionsOfUser(tx, request.user_id, { provider: request.provider });
        await endLoginSessions(tx, { sids, userId: request.user_id }, { kind: "revoked", reason: "sso_unlinked" });
        await announceUserChanged(tx, request.user_id);
      });
      return {};
    },

    async setPassword(request, ctx) {
      const claims = await deps.authorize("setPassword", ctx);
      checks().contract("tdt.auth.v1.SetPasswordRequest", request).done();
      // Guessing the current password with a stolen access token is as limited as guessing a login.
      await deps.rateLimiter.hit([`password:user:${claims.sub}`]);
      const row = await passwordOfSession(sql, claims);
      if (!row) throw new AppError("session_revoked");
      if (row.password_hash !== null) {
        if (!(await passwordMatches(request.current_password, row.password_hash))) throw new AppError("wrong_password");
      } else if (now() - row.auth_time.getTime() / 1000 > FIRST_PASSWORD_WINDOW_SECONDS) {
        throw new AppError("reauthentication_required");
      }
      const hash = await hashPassword(request.new_password);
      await inTransaction(sql, async (tx) => {
        const before = await lockUser(tx, claims.sub);
        if (!before) throw new AppError("session_revoked");
        // Changed (not set the first time) under a racing change: the one that locked first wins.
        if ((before.password_hash ?? null) !== row.password_hash) throw new AppError("conflict");
        await setPasswordHash(tx, claims.sub, hash);
        if (row.password_hash !== null) {
          // A changed password ends every other session: whoever knew the old one is out.
          const sids = await openSessionsOfUser(tx, claims.sub, { except: claims.sid });
          await endLoginSessions(tx, { sids, userId: claims.sub }, { kind: "revoked", reason: "password_changed" });
        }
        await announceUserChanged(tx, claims.sub);
      });
      return {};
    },
  };

  /** Where to send the browser so that it signs out at the provider its session came from, if it offers that. */
  const endSessionUrl = async (sid: string): Promise<string | undefined> => {
    if (!UUID.test(sid)) return undefined;
    const origin = await originOfLoginSession(sql, sid);
    if (!origin) return undefined;
    try {
      const provider = await providers.get(origin.provider);
      const configuration = await providers.configuration(provider);
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(configuration, {
        client_id: provider.client_id,
        post_logout_redirect_uri: config.postLogoutUrl,
      }).href;
    } catch (error) {
      // A provider removed from the configuration, or away: the logout here stands.
      deps.log.warn({ provider: origin.provider, err: describe(error) }, "no end-session URL");
      return undefined;
    }
  };

  return { handlers, endSessionUrl };
}
