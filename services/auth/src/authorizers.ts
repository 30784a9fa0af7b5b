import { AccessTokenVerifier, AppError, authorizer, type Logger, type Sql } from "@tdt/kit";
import { AUTH_ACCESS } from "@tdt/proto/contracts/access";
import type { SigningKeys } from "./keys.js";
import { isLoginSessionLive } from "./login-sessions.js";

/** How the auth service checks the callers of its own RPCs, against its own signing keys. */
export function authAuthorizers(deps: { sql: Sql; keys: SigningKeys; log: Logger }) {
  const { sql, keys } = deps;

  // The auth service verifies tokens as every service does, then asks its own tables whether
  // the login session is still open and the user still active: it is the source of truth.
  const verifier = new AccessTokenVerifier({
    fetchJwks: () => keys.jwks(),
    check: async (claims) => {
      if (!(await isLoginSessionLive(sql, claims.sid))) throw new AppError("session_revoked");
    },
    log: deps.log,
    refetchIntervalMs: 1000,
  });

  const authorize = authorizer(verifier, AUTH_ACCESS);

  // GetMe reads the user through the login session in one statement, which is the same check
  // as the verifier's (session open, user active): its token needs only the signature checked.
  const signatureOnly = new AccessTokenVerifier({
    fetchJwks: () => keys.jwks(),
    log: deps.log,
    refetchIntervalMs: 1000,
  });
  const authorizeBySignature = authorizer(signatureOnly, AUTH_ACCESS);

  return { authorize, authorizeBySignature };
}
