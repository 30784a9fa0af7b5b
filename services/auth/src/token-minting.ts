import { randomUUID } from "node:crypto";
import {
  ACCESS_TOKEN_TYPE,
  AppError,
  REFRESH_TOKEN_TYPE,
  type Role,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  verifyJwt,
} from "@tdt/kit";
import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors, SignJWT } from "jose";
import type { SigningKey, SigningKeys } from "./keys.js";

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

/** The limits a login session carries in its refresh tokens (SPEC §4.2), in epoch seconds. */
export interface SessionClaims {
  auth_time: number;
  idle_max: number;
  abs_max: number;
}

/** A refresh token's claims; the three session claims are missing from legacy tokens. */
export interface RefreshClaims extends Partial<SessionClaims> {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

function signer(payload: Record<string, unknown>, key: SigningKey, typ: string) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE);
}

/**
 * A new access + refresh pair for a login session. The access token never outlives the
 * session's absolute deadline; the refresh token expires after the idle limit.
 */
export async function mintWithClaims(input: {
  key: SigningKey;
  user: { id: string; role: Role };
  sid: string;
  session: SessionClaims;
  now: number;
  accessTtlSeconds: number;
  refreshJti?: string;
}): Promise<{ pair: TokenPair; refreshJti: string; refreshExp: number }> {
  const { key, user, sid, session, now } = input;
  const accessExp = Math.min(now + input.accessTtlSeconds, session.auth_time + session.abs_max);
  const refreshJti = input.refreshJti ?? randomUUID();
  const refreshExp = now + session.idle_max;
  const access = await signer({ sid, role: user.role }, key, ACCESS_TOKEN_TYPE)
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(accessExp)
    .sign(key.key);
  const refresh = await signer({ sid, ...session }, key, REFRESH_TOKEN_TYPE)
    .setSubject(user.id)
    .setJti(refreshJti)
    .setIssuedAt(now)
    .setExpirationTime(refreshExp)
    .sign(key.key);
  return {
    pair: {
      access_token: access,
      refresh_token: refresh,
      token_type: "bearer",
      expires_in: Math.max(0, accessExp - now),
    },
    refreshJti,
    refreshExp,
  };
}

const invalid = () => new AppError("invalid_refresh_token");

/**
 * The verifying key set of each key set read: `SigningKeys` hands out the same object until it
 * reads again, so the public keys are imported once per read, not once per refresh.
 */
const localKeySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
function localKeySet(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let keySet = localKeySets.get(jwks);
  if (!keySet) {
    keySet = createLocalJWKSet(jwks);
    localKeySets.set(jwks, keySet);
  }
  return keySet;
}

/**
 * SPEC §4.3 step 1: an expired `exp` is the idle limit (`session_expired_idle`); a bad
 * signature, a wrong `typ` or garbage is `invalid_refresh_token`.
 */
export async function verifyRefreshToken(token: string, keys: SigningKeys): Promise<RefreshClaims> {
  const attempt = async () => verifyJwt(token, localKeySet(await keys.jwks()), REFRESH_TOKEN_TYPE);
  let payload: Awaited<ReturnType<typeof attempt>>;
  try {
    payload = await attempt().catch(async (error: unknown) => {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      keys.invalidate();
      return attempt();
    });
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AppError("session_expired_idle");
    throw invalid();
  }
  const { sub, sid, jti, iat, exp, auth_time, idle_max, abs_max } = payload as Record<string, unknown>;
  if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string") throw invalid();
  if (typeof iat !== "number" || typeof exp !== "number") throw invalid();
  const optionalNumber = (value: unknown) => {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw invalid();
    return value;
  };
  return {
    sub,
    sid,
    jti,
    iat,
    exp,
    auth_time: optionalNumber(auth_time),
    idle_max: optionalNumber(idle_max),
    abs_max: optionalNumber(abs_max),
  } as RefreshClaims;
}
