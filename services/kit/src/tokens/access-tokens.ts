import { ROLES, type Role } from "@tdt/proto/contracts/access";
import {
  createLocalJWKSet,
  type importJWK,
  type JSONWebKeySet,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { DEFAULT_ORGANIZATION_ID } from "../database/organizations.js";
import { AppError } from "../grpc/errors.js";
import { UUID_PATTERN } from "../grpc/request-checks.js";
import type { Logger } from "../observability/logger.js";
import { RecentlyUsed } from "../recently-used.js";

/** The roles live with the access table in the contracts; re-exported for the kit's many users of claims. */
export { ROLES, type Role };

/** The one signing algorithm: verification pins it, so `alg: none` or HS256 never pass. */
export const TOKEN_ALGORITHM = "EdDSA";
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const REFRESH_TOKEN_TYPE = "refresh+jwt";
export const TOKEN_ISSUER = "tdt-auth";
export const TOKEN_AUDIENCE = "tdt-api";

/** What a verified access token says about its holder (SPEC §4.2). */
export interface AccessClaims {
  sub: string;
  sid: string;
  role: Role;
  /**
   * The organization the token acts in (`org`); a token minted before organizations has none and
   * acts in the default organization, the only one there was.
   */
  org: string;
  jti: string;
  iat: number;
  exp: number;
}

/** The key set could not be fetched: the auth service is down, not the token bad. */
class KeysUnavailable extends Error {}

const unauthenticated = (code: "invalid_token" | "token_expired" | "not_authenticated") => new AppError(code);

function asAccessClaims(payload: JWTPayload): AccessClaims {
  const { sub, sid, role, org = DEFAULT_ORGANIZATION_ID, jti, iat, exp } = payload as Record<string, unknown>;
  if (
    typeof sub !== "string" ||
    typeof sid !== "string" ||
    typeof org !== "string" ||
    !UUID_PATTERN.test(org) ||
    typeof jti !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    !ROLES.includes(role as Role)
  ) {
    throw unauthenticated("invalid_token");
  }
  return { sub, sid, role: role as Role, org, jti, iat, exp };
}

/** Verifies a JWT against a key set with the algorithm, issuer, audience and `typ` pinned. */
export async function verifyJwt(
  token: string,
  keys: ReturnType<typeof createLocalJWKSet> | Awaited<ReturnType<typeof importJWK>>,
  typ: string,
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, keys as Parameters<typeof jwtVerify>[1], {
    algorithms: [TOKEN_ALGORITHM],
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    typ,
    requiredClaims: ["exp", "iat", "sub", "jti"],
  });
  return payload;
}

/** Stable codes for the ways a token fails. */
export function tokenFailureCode(error: unknown): "token_expired" | "invalid_token" {
  if (error instanceof joseErrors.JWTExpired) return "token_expired";
  return "invalid_token";
}

/** jose accepts a token up to its `exp` second; so does the cache, never past it. */
function expired(claims: AccessClaims): boolean {
  return claims.exp * 1000 <= Date.now();
}

/** How many verified tokens a verifier remembers by default (a few MB at most). */
export const VERIFIED_TOKENS_DEFAULT = 10_000;

/**
 * Verifies access tokens locally from the auth service's JWKS: no round trip per request.
 * The key set is fetched once and again when a token names an unknown `kid` (key rotation),
 * at most once per `refetchIntervalMs`.
 *
 * A token whose signature was checked is remembered until its `exp` (at most `maxRemembered`
 * of them, the least recently used forgotten first), so a client's next request costs a map
 * lookup instead of a signature check. The `check` (revocations) still runs on every call, and
 * a new key set forgets every remembered token: a key withdrawn by auth stops its tokens at once.
 */
export class AccessTokenVerifier {
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private lastFetch = 0;
  private fetching: Promise<void> | undefined;
  private readonly verified: RecentlyUsed<AccessClaims>;
  /** Counts key sets: a token checked against one that was replaced meanwhile is not remembered. */
  private keysGeneration = 0;

  constructor(
    private readonly options: {
      fetchJwks: () => Promise<JSONWebKeySet>;
      /** Extra check after the signature, e.g. a revoked `sid`. Throws AppError to refuse. */
      check?: (claims: AccessClaims) => void | Promise<void>;
      log: Logger;
      refetchIntervalMs?: number;
      /** How many verified tokens to remember (default VERIFIED_TOKENS_DEFAULT; 0: none). */
      maxRemembered?: number;
    },
  ) {
    this.verified = new RecentlyUsed(options.maxRemembered ?? VERIFIED_TOKENS_DEFAULT, expired);
  }

  /** How often a token was found verified already, for the caches' statistics. */
  stats(): { hits: number; misses: number; size: number; capacity: number } {
    return this.verified.stats();
  }

  private async refresh(force: boolean): Promise<void> {
    const interval = this.options.refetchIntervalMs ?? 5_000;
    if (!force && this.keys) return;
    if (this.keys && Date.now() - this.lastFetch < interval) return;
    this.fetching ??= this.options
      .fetchJwks()
      .catch((error: unknown) => {
        this.options.log.warn({ err: error }, "cannot fetch the signing keys");
        throw new KeysUnavailable();
      })
      .then((jwks) => {
        this.keys = createLocalJWKSet(jwks);
        this.keysGeneration += 1;
        this.lastFetch = Date.now();
        // What the old keys vouched for is checked again against the new ones.
        this.verified.clear();
      })
      .finally(() => {
        this.fetching = undefined;
      });
    await this.fetching;
  }

  async verify(token: string | undefined): Promise<AccessClaims> {
    if (!token) throw unauthenticated("not_authenticated");
    const claims = this.remembered(token) ?? (await this.verifySignature(token));
    await this.options.check?.(claims);
    return claims;
  }

  /** The claims of `token` if it was verified before and has not expired since. */
  private remembered(token: string): AccessClaims | undefined {
    const claims = this.verified.get(token);
    if (claims && expired(claims)) {
      this.verified.delete(token);
      return undefined;
    }
    return claims;
  }

  private async verifySignature(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    let generation: number;
    try {
      await this.refresh(false);
      generation = this.keysGeneration;
      payload = await this.verifyWithKeys(token);
    } catch (error) {
      if (error instanceof KeysUnavailable) throw new AppError("service_unavailable");
      if (error instanceof AppError) throw error;
      throw unauthenticated(tokenFailureCode(error));
    }
    const claims = asAccessClaims(payload);
    if (generation === this.keysGeneration) this.verified.set(token, claims);
    return claims;
  }

  private async verifyWithKeys(token: string): Promise<JWTPayload> {
    try {
      return await verifyJwt(token, this.keys as ReturnType<typeof createLocalJWKSet>, ACCESS_TOKEN_TYPE);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      // A key we have not seen: the auth service may have rotated. Fetch again, once.
      await this.refresh(true);
      return verifyJwt(token, this.keys as ReturnType<typeof createLocalJWKSet>, ACCESS_TOKEN_TYPE);
    }
  }
}
