import { randomUUID } from "node:crypto";
import { AccessTokenVerifier, type Logger, type RevocationList } from "@tdt/kit";
import type { JSONWebKeySet } from "jose";
import type { Downstream } from "./downstream.js";

/**
 * Verifies access tokens locally against the auth service's JWKS (fetched over gRPC, again
 * when a token names an unknown `kid`), and refuses those whose login session the auth
 * events say is over.
 */
export function createAccessTokenVerifier(options: {
  auth: Downstream["auth"];
  revocations?: RevocationList;
  log: Logger;
  /** Least time between two JWKS fetches; tests set 0 to see a rotation at once. */
  refetchIntervalMs?: number;
}): AccessTokenVerifier {
  const { auth, revocations, log } = options;
  return new AccessTokenVerifier({
    log,
    ...(options.refetchIntervalMs === undefined ? {} : { refetchIntervalMs: options.refetchIntervalMs }),
    ...(revocations ? { check: (claims) => revocations.check(claims) } : {}),
    // A failed fetch is the auth service's outage (503), never the caller's 401: the verifier says so.
    fetchJwks: async () => {
      const { jwks_json } = await auth.getJwks({}, { requestId: randomUUID() });
      return JSON.parse(jwks_json) as JSONWebKeySet;
    },
  });
}
