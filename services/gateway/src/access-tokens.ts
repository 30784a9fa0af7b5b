import { type AccessTokenVerifier, type Logger, type RevocationList, verifierFromAuthService } from "@tdt/kit";
import type { Downstream } from "./downstream.js";

/**
 * Verifies access tokens locally against the auth service's JWKS, and refuses those whose
 * login session the auth events say is over.
 */
export function createAccessTokenVerifier(options: {
  auth: Downstream["auth"];
  revocations?: RevocationList;
  log: Logger;
  refetchIntervalMs?: number;
}): AccessTokenVerifier {
  const { revocations } = options;
  return verifierFromAuthService({
    ...options,
    ...(revocations ? { check: (claims) => revocations.check(claims) } : {}),
  });
}
