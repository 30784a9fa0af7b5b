import type { Handlers, Logger, Sql } from "@tdt/kit";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { accountHandlers } from "./account-handlers.js";
import type { AccountDeps } from "./accounts.js";
import { apiKeyHandlers } from "./api-key-handlers.js";
import { authAuthorizers } from "./authorizers.js";
import type { SigningKeys } from "./keys.js";
import { loginHandlers } from "./login-handlers.js";
import { loginSessionHandlers } from "./login-session-handlers.js";
import { loginSessionStarter } from "./login-session-start.js";
import type { ThrottleRules } from "./login-throttle.js";
import { organizationHandlers } from "./organization-handlers.js";
import type { RateLimiter } from "./rate-limit.js";
import type { SsoConfig } from "./sso-config.js";
import { ssoHandlers } from "./sso-handlers.js";
import type { StoredProviders } from "./sso-provider-store.js";
import type { OidcProviders } from "./sso-providers.js";
import { userHandlers } from "./user-handlers.js";

export interface AuthDeps {
  sql: Sql;
  keys: SigningKeys;
  rateLimiter: RateLimiter;
  accessTokenTtlSeconds: number;
  sessionPolicyMinSeconds: number;
  log: Logger;
  /** Single sign-on: the providers and where the browser comes back to. */
  sso: { config: SsoConfig; providers: OidcProviders; stored: StoredProviders };
  /** Counts sign-ins started with a provider, per client address. */
  ssoRateLimiter: RateLimiter;
  /** Registration mode, where mailed links point, and the mail relay to nudge. */
  accounts: Omit<AccountDeps, "sql">;
  /** Requests that send mail to a named address (forgot password, a new verification link). */
  mailRateLimiter: RateLimiter;
  /** How password logins are slowed per email and client address (login-throttle.ts). */
  loginThrottle: ThrottleRules;
  /** Epoch seconds; tests may move it. */
  now?: () => number;
}

/**
 * The gRPC handlers, one part per concern: each is thin, checks its caller and calls the domain and
 * the stores (no SQL here). The parts share the caller checks and the start of a login session.
 */
export function authHandlers(deps: AuthDeps): Handlers<typeof AuthServiceService> {
  const { sql, keys } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const { authorize, authorizeBySignature } = authAuthorizers(deps);
  const startLoginSession = loginSessionStarter({ ...deps, now });
  const sso = ssoHandlers({ ...deps, sql, authorize, startLoginSession });

  return {
    ...loginHandlers({ ...deps, now, authorize, startLoginSession, endSessionUrl: sso.endSessionUrl }),
    ...userHandlers({ sql, authorize, authorizeBySignature }),
    ...loginSessionHandlers({ ...deps, authorize }),
    ...organizationHandlers({ ...deps, authorize, startLoginSession }),
    ...apiKeyHandlers({ sql, keys, authorize }),
    async getJwks() {
      return { jwks_json: JSON.stringify(await keys.jwks()) };
    },
    ...sso.handlers,
    ...accountHandlers({
      ...deps.accounts,
      sql,
      rateLimiter: deps.rateLimiter,
      mailRateLimiter: deps.mailRateLimiter,
      authorize,
    }),
  };
}
