import { randomBytes } from "node:crypto";
import { AppError, DEFAULT_ORGANIZATION_ID, inTransaction, type Logger, type Sql } from "@tdt/kit";
import type { SsoLoginError } from "@tdt/proto/contracts/sso";
import * as oidc from "openid-client";
import type { RegistrationMode } from "./accounts.js";
import { normalizeEmail } from "./email-address.js";
import { announceUserChanged } from "./events.js";
import { accessTokenHashMatches, isVerified, lacksPersonClaims, withUserInfo } from "./oidc-claims.js";
import { admission, domainOf } from "./organization-settings.js";
import { isAdminAnywhere, joinOnly, roleIn } from "./organizations.js";
import type { OidcProviderConfig, SsoConfig } from "./sso-config.js";
import { describe, type OidcProviders } from "./sso-providers.js";
import {
  createSsoUser,
  findLinkedUser,
  linkAccount,
  type ProviderAccount,
  saveLoginAttempt,
  saveLoginCode,
  takeLoginAttempt,
} from "./sso-store.js";
import { findUserByEmail, type UserRow } from "./users.js";

/** How long a browser has at the provider, from authorize to callback. */
export const ATTEMPT_TTL_SECONDS = 600;
/** How long the one-time code handed to return_to lives. */
export const LOGIN_CODE_TTL_SECONDS = 60;

export interface SsoLoginDeps {
  sql: Sql;
  providers: OidcProviders;
  config: SsoConfig;
  log: Logger;
  /** REGISTRATION: whether a first sign-in may make an account (`mayMakeAccount`). */
  registration: RegistrationMode;
}

/**
 * Whether a first sign-in may make an account under the registration mode: under `open` and
 * `verify` (the provider proved the address), under `invite` only through a provider that owns
 * the email's domain (the organisation's own directory stands for the invitation), never under
 * `closed`.
 */
export function mayMakeAccount(
  registration: RegistrationMode,
  provider: Pick<OidcProviderConfig, "allowed_domains" | "organization">,
  email: string,
): boolean {
  if (registration === "closed") return false;
  return registration !== "invite" || ownsDomain(provider, email);
}

/** A random secret of 256 bits, URL-safe. */
const secret = () => randomBytes(32).toString("base64url");

/** The callback URL registered with the provider. */
export const callbackUrlOf = (config: SsoConfig, providerId: string) =>
  `${config.publicUrl}/api/v1/auth/oidc/${providerId}/callback`;

/** `return_to` as given, when it is an absolute http(s) URL on an allowed origin; a 422 at its field otherwise. */
export function checkReturnTo(returnTo: string, allowedOrigins: readonly string[]): string {
  let url: URL | undefined;
  try {
    url = new URL(returnTo);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw AppError.invalid([{ loc: ["query", "return_to"], msg: "Must be an absolute http(s) URL", type: "url" }]);
  }
  if (!allowedOrigins.includes(url.origin)) {
    throw AppError.invalid([
      { loc: ["query", "return_to"], msg: "Its origin is not one of OIDC_RETURN_ORIGINS", type: "origin_not_allowed" },
    ]);
  }
  return url.href;
}

/** `return_to` with the one-time code, the provider just linked, or an error code from the contract's list. */
function redirectTo(
  returnTo: string,
  outcome: { code: string } | { linked: string } | { error: SsoLoginError },
): string {
  const url = new URL(returnTo);
  for (const name of ["code", "linked", "error"]) url.searchParams.delete(name);
  if ("code" in outcome) url.searchParams.set("code", outcome.code);
  else if ("linked" in outcome) url.searchParams.set("linked", outcome.linked);
  else url.searchParams.set("error", outcome.error);
  return url.href;
}

/** A failed sign-in, redirected to `return_to` with its code. */
class SignInRefused extends Error {
  constructor(readonly error: SsoLoginError) {
    super(error);
  }
}

/** A signed-in user asking to link a provider to their account: who, from which login session. */
export interface LinkRequester {
  user_id: string;
  sid: string;
}

/**
 * BeginOidcLogin (and BeginOidcLink, with `link`): a new attempt with a binding the server mints
 * for it (a value the browser brings is never kept: a planted one would let its planter's sign-in
 * finish in this browser), stored by its state, and the provider's authorization URL with PKCE
 * (S256), state and nonce. A second sign-in started in another tab supersedes the first.
 */
export async function beginSsoLogin(
  deps: SsoLoginDeps,
  request: { provider: string; return_to: string },
  link?: LinkRequester,
): Promise<{ authorization_url: string; binding: string; expires_in: number }> {
  // 1. A known provider and an allowed return_to.
  const provider = await deps.providers.get(request.provider);
  const returnTo = checkReturnTo(request.return_to, deps.config.returnOrigins);
  // 2. What the provider's metadata says (503 while it cannot be had).
  const configuration = await deps.providers.configuration(provider);
  // 3. The attempt's secrets, the browser's binding among them, stored by the state's hash.
  const binding = secret();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  await saveLoginAttempt(deps.sql, {
    state,
    binding,
    provider_id: provider.id,
    code_verifier: codeVerifier,
    nonce,
    return_to: returnTo,
    link_user_id: link?.user_id ?? null,
    link_sid: link?.sid ?? null,
    ttlSeconds: ATTEMPT_TTL_SECONDS,
  });
  // 4. Where the browser goes.
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackUrlOf(deps.config, provider.id),
    scope: provider.scopes.join(" "),
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  return { authorization_url: url.href, binding, expires_in: ATTEMPT_TTL_SECONDS };
}

/**
 * CompleteOidcLogin, top-down: take the attempt (only with the browser's binding), redeem the
 * provider's code (state, nonce, issuer, audience, signature and PKCE are checked there), then
 * either link the account to the user who asked for it, or find or make the user by the trust
 * rules (`userOfAccount`) and hand `return_to` a one-time code that only this browser (its
 * binding) can exchange. A callback whose attempt is not found is 400 `invalid_sso_state`; every
 * later failure goes back to `return_to` with its error code.
 */
export async function completeSsoLogin(
  deps: SsoLoginDeps,
  request: { provider: string; query: string; binding: string },
): Promise<{ redirect_to: string }> {
  const provider = await deps.providers.get(request.provider);
  const log = deps.log.child({ provider: provider.id });
  // 1. The attempt this callback ends, taken once.
  const params = new URLSearchParams(request.query);
  const state = params.get("state");
  const attempt =
    state && request.binding
      ? await takeLoginAttempt(deps.sql, { state, binding: request.binding, provider_id: provider.id })
      : undefined;
  if (!attempt || !state) {
    log.warn({ has_state: Boolean(state), has_binding: Boolean(request.binding) }, "oidc callback without its attempt");
    throw new AppError("invalid_sso_state");
  }
  try {
    // 2. The provider's answer: an error it reports, or the code redeemed for checked ID token claims.
    const account = await redeemCode(deps, provider, params, { ...attempt, state });
    // 3. A link asked for by a signed-in user: done, and the browser goes back signed in as it was.
    if (attempt.link_user_id && attempt.link_sid) {
      await linkToRequester(deps, account, { user_id: attempt.link_user_id, sid: attempt.link_sid });
      log.info({ user_id: attempt.link_user_id }, "oidc provider linked");
      return { redirect_to: redirectTo(attempt.return_to, { linked: provider.id }) };
    }
    // 4. The user this account signs in (through an organization's provider, a member of it).
    const user = await userOfAccount(deps, provider, account);
    // 5. A one-time code for return_to, good only in this browser: no token travels in a URL.
    const code = secret();
    await saveLoginCode(deps.sql, {
      code,
      binding: request.binding,
      user_id: user.id,
      provider_id: provider.id,
      provider_sid: account.sid ?? null,
      ttlSeconds: LOGIN_CODE_TTL_SECONDS,
    });
    log.info({ user_id: user.id }, "oidc sign-in");
    return { redirect_to: redirectTo(attempt.return_to, { code }) };
  } catch (error) {
    if (!(error instanceof SignInRefused)) throw error;
    log.warn({ error: error.error }, "oidc sign-in refused");
    return { redirect_to: redirectTo(attempt.return_to, { error: error.error }) };
  }
}

/** The account the ID token names, with its session id at the provider and what it says of the person. */
interface SignedInAccount extends ProviderAccount {
  email_verified: boolean;
  name: string | undefined;
  sid: string | undefined;
}

async function redeemCode(
  deps: SsoLoginDeps,
  provider: OidcProviderConfig,
  params: URLSearchParams,
  attempt: { state: string; nonce: string; code_verifier: string },
): Promise<SignedInAccount> {
  const reported = params.get("error");
  if (reported !== null) {
    deps.log.warn(
      {
        provider: provider.id,
        provider_error: reported.slice(0, 64),
        description: params.get("error_description")?.slice(0, 200),
      },
      "oidc provider refused the sign-in",
    );
    throw new SignInRefused(reported === "access_denied" ? "access_denied" : "provider_error");
  }
  let configuration: oidc.Configuration;
  try {
    configuration = await deps.providers.configuration(provider);
  } catch {
    throw new SignInRefused("provider_unavailable");
  }
  const callback = new URL(callbackUrlOf(deps.config, provider.id));
  callback.search = params.toString();
  let claims: Record<string, unknown> | undefined;
  try {
    // State, nonce, PKCE, and the `iss` response parameter (RFC 9207) when the provider advertises it.
    const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
      pkceCodeVerifier: attempt.code_verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken || !tokens.id_token) throw new SignInRefused("login_failed");
    // The ID token's signature, against the issuer's keys: not only taken on TLS's word.
    await deps.providers.verify(provider, tokens.id_token, {}, { fromTokenEndpoint: true });
    if (!accessTokenHashMatches(tokens.id_token, tokens.access_token, idToken.at_hash)) {
      deps.log.warn({ provider: provider.id }, "oidc ID token's at_hash does not match its access token");
      throw new SignInRefused("login_failed");
    }
    // What the ID token lacks of the person comes from UserInfo, whose `sub` must be the ID token's.
    claims =
      lacksPersonClaims(idToken) && configuration.serverMetadata().userinfo_endpoint
        ? withUserInfo(idToken, await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub))
        : idToken;
  } catch (error) {
    if (error instanceof SignInRefused) throw error;
    const unreachable = !(error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError);
    deps.log.warn({ provider: provider.id, err: describe(error) }, "oidc code redemption failed");
    // The provider may have moved its endpoints or keys: the next attempt discovers again.
    if (unreachable) deps.providers.forget(provider.id);
    throw new SignInRefused("login_failed");
  }
  if (!claims) throw new SignInRefused("login_failed");
  const email = typeof claims.email === "string" ? normalizeEmail(claims.email) : "";
  return {
    provider_id: provider.id,
    issuer: String(claims.iss),
    subject: String(claims.sub),
    email,
    email_verified: isVerified(claims.email_verified),
    name: typeof claims.name === "string" ? claims.name : undefined,
    sid: typeof claims.sid === "string" ? claims.sid : undefined,
  };
}

/** The email's domain, when the provider restricts domains and it is not one of them. */
function domainRefused(provider: OidcProviderConfig, email: string): boolean {
  return provider.allowed_domains !== undefined && !provider.allowed_domains.includes(domainOf(email));
}

/**
 * True when the provider is one of the deployment's, restricted to domains, and this email's is
 * one of them: it owns the address. An organization's provider owns nothing: its admin chose
 * the domains, and no one checked that they are the organization's.
 */
export function ownsDomain(
  provider: Pick<OidcProviderConfig, "allowed_domains" | "organization">,
  email: string,
): boolean {
  return provider.organization === undefined && (provider.allowed_domains?.includes(domainOf(email)) ?? false);
}

/**
 * Whether a sign-in may be linked to an existing account on the strength of its email alone
 * (docs/decisions, "Trust rules for linking"): only when the provider is restricted to domains
 * and owns this one, the account's own address is proven, and the account is not an admin's.
 * Anything else needs the account's owner to ask for the link while signed in.
 */
export function mayLinkByEmail(
  provider: Pick<OidcProviderConfig, "allowed_domains" | "organization">,
  existing: Pick<UserRow, "role" | "email_verified_at">,
  email: string,
): boolean {
  return ownsDomain(provider, email) && existing.email_verified_at !== null && existing.role !== "admin";
}

/**
 * Links the provider's account to the signed-in user who asked for it, while their login session
 * is still open. An account already linked to someone else, or a second account at this provider
 * for the user, is `identity_conflict`; linking the same pair again is fine.
 */
async function linkToRequester(deps: SsoLoginDeps, account: SignedInAccount, requester: LinkRequester): Promise<void> {
  await inTransaction(deps.sql, async (tx) => {
    const [session] = await tx`
      select 1 from login_sessions s join users u on u.id = s.user_id
      where s.sid = ${requester.sid} and s.user_id = ${requester.user_id} and s.ended_at is null and u.is_active
      for share of s`;
    if (!session) throw new SignInRefused("link_session_ended");
    if (await linkAccount(tx, requester.user_id, account)) {
      await announceUserChanged(tx, requester.user_id);
      return;
    }
    const linked = await findLinkedUser(tx, account);
    if (linked?.id !== requester.user_id) throw new SignInRefused("identity_conflict");
  });
}

/**
 * The user of the account: its link, or, the first time, the existing user of its verified email
 * when the trust rules allow linking by email (`mayLinkByEmail`; otherwise
 * `account_exists_link_required`), or a new user (when the provider's domains allow it), who
 * joins the default organization within its domains and seats.
 *
 * Through an organization's provider the user is a member of that organization: its linked
 * account when that is a member there (`not_a_member` otherwise), or, the first time, a new
 * account made a member of that organization alone, with the provider's role, within its domains
 * and seats, whatever REGISTRATION says (its admin chose the provider as they would invite). Such
 * a provider links no existing account by its email (`mayLinkByEmail` is false for it): its admin
 * is not the account's owner.
 *
 * Racing first sign-ins of one account make one user and one link: the loser of a unique index
 * looks again.
 */
async function userOfAccount(
  deps: SsoLoginDeps,
  provider: OidcProviderConfig,
  account: SignedInAccount,
): Promise<UserRow> {
  const orgId = provider.organization;
  for (let attempt = 0; attempt < 3; attempt++) {
    const linked = await findLinkedUser(deps.sql, account);
    if (linked) {
      if (!linked.is_active) throw new SignInRefused("account_disabled");
      if (orgId && !(await roleIn(deps.sql, orgId, linked.id))) throw new SignInRefused("not_a_member");
      return linked;
    }
    if (!account.email) throw new SignInRefused("email_missing");
    if (!account.email_verified) throw new SignInRefused("email_not_verified");
    if (domainRefused(provider, account.email)) throw new SignInRefused("domain_not_allowed");
    const user = await inTransaction(deps.sql, async (tx) => {
      const existing = await findUserByEmail(tx, account.email);
      if (existing) {
        // An admin anywhere (of any organization, or the platform's) is never linked by email.
        const asLinked = { ...existing, role: (await isAdminAnywhere(tx, existing.id)) ? "admin" : existing.role };
        if (!mayLinkByEmail(provider, asLinked, account.email)) {
          // Made by a racing first sign-in of this very account (its link committed with it): look again.
          if (await findLinkedUser(tx, account)) return undefined;
          throw new SignInRefused("account_exists_link_required");
        }
      } else {
        if (!orgId && !mayMakeAccount(deps.registration, provider, account.email)) {
          throw new SignInRefused("registration_closed");
        }
        const refused = await admission(tx, orgId ?? DEFAULT_ORGANIZATION_ID, account.email);
        if (refused) throw new SignInRefused(refused);
      }
      const user =
        existing ??
        (await createSsoUser(tx, {
          // Proven only by a provider that owns the domain: one whose users choose their email
          // vouches for nothing another provider may rely on.
          emailVerified: ownsDomain(provider, account.email),
          email: account.email,
          full_name: (account.name?.trim() || account.email.slice(0, account.email.indexOf("@"))).slice(0, 200),
          role: provider.default_role,
        }));
      if (!user) return undefined;
      if (!existing && orgId) await joinOnly(tx, user.id, orgId, provider.default_role);
      if (!(await linkAccount(tx, user.id, account))) {
        // Linked by a racing sign-in of this account (look again), or the user has another
        // account at this provider: a second account claiming their email is not let in.
        if (await findLinkedUser(tx, account)) return undefined;
        throw new SignInRefused("identity_conflict");
      }
      // What /auth/me shows of an existing user changed: whoever keeps a copy drops it.
      if (existing) await announceUserChanged(tx, user.id);
      return user;
    });
    if (user) {
      if (!user.is_active) throw new SignInRefused("account_disabled");
      return user;
    }
  }
  throw new SignInRefused("login_failed");
}
