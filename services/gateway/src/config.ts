import { env } from "@tdt/kit";

export const gatewayConfig = {
  port: env.port("GATEWAY_PORT", 8000),
  host: env.string("GATEWAY_HOST", "0.0.0.0"),
  authAddress: env.string("AUTH_HOST", "127.0.0.1"),
  authPort: env.port("AUTH_PORT", 50051),
  treesAddress: env.string("TREES_HOST", "127.0.0.1"),
  treesPort: env.port("TREES_PORT", 50052),
  sessionsAddress: env.string("SESSIONS_HOST", "127.0.0.1"),
  sessionsPort: env.port("SESSIONS_PORT", 50053),
  /** Where the auth events come from: revoked sessions stop working here within about a second. */
  natsUrl: env.url("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls", "ws", "wss"]),
  /** The auth service's access token lifetime: how far back revocations matter. */
  accessTokenTtlSeconds: env.int("ACCESS_TOKEN_TTL_SECONDS", 900, 10, 24 * 3600),
  /**
   * Believe `X-Forwarded-For` for the client address (rate limits, login sessions). Off by
   * default: without a proxy in front that overwrites the header, any client could claim any
   * address and so escape the per-address rate limits. Turn it on only behind such a proxy.
   */
  trustProxy: env.bool("TRUST_PROXY", false),
  /** Deadline of every downstream call. */
  grpcDeadlineMs: env.int("GRPC_DEADLINE_MS", 5000, 50, 120_000),
  /** Origins allowed by CORS, comma-separated; "*" allows any; empty allows none. */
  corsOrigins: env.list("CORS_ORIGINS", []),
  logLevel: env.oneOf("LOG_LEVEL", "info", ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const),
};
