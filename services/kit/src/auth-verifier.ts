import { randomUUID } from "node:crypto";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { createServiceClient } from "./grpc-client.js";
import type { Logger } from "./logger.js";
import { type AccessClaims, AccessTokenVerifier } from "./tokens.js";

/**
 * The access-token verifier of a service behind the gateway: the keys come from the auth
 * service's JWKS over gRPC, fetched once and again on an unknown `kid`.
 */
export function verifierFromAuthService(options: {
  authAddress: string;
  log: Logger;
  check?: (claims: AccessClaims) => void | Promise<void>;
}): AccessTokenVerifier {
  const auth = createServiceClient(AuthServiceService, options.authAddress, { timeoutMs: 3000 });
  return new AccessTokenVerifier({
    fetchJwks: async () => JSON.parse((await auth.getJwks({}, { requestId: randomUUID() })).jwks_json),
    log: options.log,
    ...(options.check ? { check: options.check } : {}),
  });
}
