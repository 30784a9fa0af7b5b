import { env, shared } from "@tdt/kit";

export const authConfig = {
  natsUrl: shared.natsUrl,
  natsCredentials: shared.natsCredentials,
  adminEmail: env.optional("ADMIN_EMAIL"),
  adminPassword: env.optional("ADMIN_PASSWORD"),
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  sessionPolicyMinSeconds: env.int("SESSION_POLICY_MIN_SECONDS", 300, 1, 365 * 24 * 3600),
  loginRateLimitPerMinute: env.int("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1_000_000),
};
