import { randomUUID } from "node:crypto";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import type { JSONWebKeySet } from "jose";
import type { NatsLink } from "../events/nats.js";
import type { ServiceClient } from "../grpc/client.js";
import type { GrpcTls } from "../grpc/tls.js";
import { logCacheStatistics } from "../observability/cache-statistics.js";
import type { Logger } from "../observability/logger.js";
import { type AccessClaims, AccessTokenVerifier } from "./access-tokens.js";
import { fetchJwksWithCache, JwksCache, jwksCacheFile, keepJwksCacheFresh } from "./jwks-cache.js";
import { followRevocations } from "./revocation-feed.js";
import { RevocationList } from "./revocations.js";

/**
 * The access-token verifier of everything behind the auth service: the keys come from its
 * JWKS over gRPC, fetched once and again when a token names an unknown `kid`. A failed fetch is
 * the auth service's outage (503), never the caller's 401.
 */
export function verifierFromAuthService(options: {
  auth: ServiceClient<typeof AuthServiceService>;
  log: Logger;
  /** Extra check after the signature, e.g. a revoked `sid`. */
  check?: (claims: AccessClaims) => void | Promise<void>;
  /** Least time between two JWKS fetches; tests set 0 to see a rotation at once. */
  refetchIntervalMs?: number;
  /** Where the last key set from auth is kept, to verify with after a restart while auth is down. */
  jwksCache?: JwksCache;
}): AccessTokenVerifier {
  const fromAuth = jwksFromAuth(options.auth);
  return new AccessTokenVerifier({
    log: options.log,
    ...(options.check ? { check: options.check } : {}),
    ...(options.refetchIntervalMs === undefined ? {} : { refetchIntervalMs: options.refetchIntervalMs }),
    fetchJwks: options.jwksCache ? fetchJwksWithCache(fromAuth, options.jwksCache) : fromAuth,
  });
}

function jwksFromAuth(auth: ServiceClient<typeof AuthServiceService>): () => Promise<JSONWebKeySet> {
  return async () => {
    const { jwks_json } = await auth.getJwks({}, { requestId: randomUUID() });
    return JSON.parse(jwks_json) as JSONWebKeySet;
  };
}

/**
 * The verifier of a service behind the gateway that also refuses the tokens of login sessions
 * the auth events say are over ("a logged-out session must stop working everywhere"), fed in
 * the background so that NATS being down never stops the service.
 */
export function revocationAwareVerifier(options: {
  /** The process's NATS link (`ServiceParts.nats`), which the revocation feed follows. */
  nats: NatsLink;
  auth: ServiceClient<typeof AuthServiceService>;
  /** Where auth is dialled (names this process's key cache). */
  authAddress: string;
  /** JWKS_CACHE_DIR: where the last keys from auth are kept (a private directory of this user). */
  jwksCacheDir: string;
  /** JWKS_CACHE_MAX_AGE_SECONDS: how long after auth served them the kept keys may be used. */
  jwksCacheMaxAgeSeconds: number;
  /** This process's mutual TLS: its private key is the secret the key cache's MAC is derived from. */
  grpcTls: GrpcTls | undefined;
  /** This process's name: names its key cache. */
  name: string;
  accessTokenTtlSeconds: number;
  log: Logger;
}): { verifier: AccessTokenVerifier; close(): Promise<void> } {
  const revocations = new RevocationList(options.accessTokenTtlSeconds);
  const feed = followRevocations({
    nats: options.nats,
    revocations,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    log: options.log,
  });
  const jwksCache = new JwksCache({
    file: jwksCacheFile(options.jwksCacheDir, options.name, options.authAddress),
    maxAgeSeconds: options.jwksCacheMaxAgeSeconds,
    secret: options.grpcTls?.key,
    log: options.log,
  });
  const verifier = verifierFromAuthService({ ...options, check: (claims) => revocations.check(claims), jwksCache });
  const keepingFresh = keepJwksCacheFresh(jwksFromAuth(options.auth), jwksCache);
  const statistics = logCacheStatistics(options.log, { verified_tokens: verifier });
  return {
    verifier,
    close: () => {
      clearInterval(statistics);
      clearInterval(keepingFresh);
      return feed.close();
    },
  };
}
