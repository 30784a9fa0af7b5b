import { env } from "@tdt/kit";

export const authConfig = {
  natsUrl: env.url("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls", "ws", "wss"]),
  adminEmail: env.optional("ADMIN_EMAIL"),
  adminPassword: env.optional("ADMIN_PASSWORD"),
  accessTokenTtlSeconds: env.int("ACCESS_TOKEN_TTL_SECONDS", 900, 10, 24 * 3600),
  sessionPolicyMinSeconds: env.int("SESSION_POLICY_MIN_SECONDS", 300, 1, 365 * 24 * 3600),
  loginRateLimitPerMinute: env.int("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1_000_000),
};
