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
  /** Deadline of every downstream call. */
  grpcDeadlineMs: env.int("GRPC_DEADLINE_MS", 5000, 50, 120_000),
  /** Origins allowed by CORS, comma-separated; "*" allows any; empty allows none. */
  corsOrigins: env.list("CORS_ORIGINS", []),
  logLevel: env.oneOf("LOG_LEVEL", "info", ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const),
};
