import { AppError, inTransaction, type Logger, type Sql } from "@tdt/kit";
import type { JWTPayload } from "jose";
import { endLoginSessions } from "./login-sessions.js";
import { describe, type OidcProviders } from "./sso-providers.js";
import { firstUseOfLogoutToken, sessionsFromProvider } from "./sso-store.js";

const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** A logout token older than this is refused; its jti is remembered as long. */
const LOGOUT_TOKEN_MAX_AGE_SECONDS = 600;

const refuse = (): never => {
  throw new AppError("invalid_logout_token");
};

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.6, top-down: verify the token (signature with the
 * issuer's keys, issuer, audience, age), check its claims (the logout event, `sub` or `sid`, no
 * `nonce`), refuse a replay (its jti), and end the login sessions it names with
 * `auth.session.revoked` (reason `sso_logout`). Answers how many were ended.
 */
export async function backchannelLogout(
  deps: { sql: Sql; providers: OidcProviders; log: Logger },
  request: { provider: string; logout_token: string },
): Promise<number> {
  const provider = await deps.providers.get(request.provider);
  const log = deps.log.child({ provider: provider.id });
  // 1. The token's signature (the issuer's keys), issuer, audience and age (503 while the
  //    issuer's metadata cannot be had).
  let claims: JWTPayload;
  try {
    claims = await deps.providers.verify(provider, request.logout_token, {
      requiredClaims: ["iat", "jti"],
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      clockTolerance: 30,
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    log.warn({ err: describe(error) }, "logout token refused");
    return refuse();
  }
  // 2. What makes it a logout token and not another JWT of the issuer's (an ID token, say).
  const events = claims.events as Record<string, unknown> | undefined;
  const event = events && typeof events === "object" ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  const sub = typeof claims.sub === "string" ? claims.sub : undefined;
  const sid = typeof claims.sid === "string" ? claims.sid : undefined;
  if (typeof event !== "object" || event === null || "nonce" in claims || (sub === undefined && sid === undefined)) {
    log.warn(
      { has_event: event !== undefined, has_sub: sub !== undefined, has_sid: sid !== undefined },
      "logout token refused",
    );
    return refuse();
  }
  // 3. Once per jti, and the sessions it names ended in the same transaction.
  const ended = await inTransaction(deps.sql, async (tx) => {
    const first = await firstUseOfLogoutToken(tx, {
      provider_id: provider.id,
      jti: String(claims.jti),
      expiresAt: new Date(((claims.iat ?? 0) + LOGOUT_TOKEN_MAX_AGE_SECONDS + 60) * 1000),
    });
    if (!first) return undefined;
    const sids = await sessionsFromProvider(tx, {
      provider_id: provider.id,
      issuer: String(claims.iss),
      subject: sub,
      sid,
    });
    return endLoginSessions(tx, { sids }, { kind: "revoked", reason: "sso_logout" });
  });
  if (ended === undefined) {
    log.warn({ jti: String(claims.jti).slice(0, 64) }, "logout token replayed");
    return refuse();
  }
  log.info({ ended: ended.length }, "back-channel logout");
  return ended.length;
}
