import { env } from "@tdt/kit";

export const sessionsConfig = {
  natsUrl: env.url("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls", "ws", "wss"]),
  authHost: env.string("AUTH_HOST", "127.0.0.1"),
  authPort: env.port("AUTH_PORT", 50051),
  treesHost: env.string("TREES_HOST", "127.0.0.1"),
  treesPort: env.port("TREES_PORT", 50052),
  grpcDeadlineMs: env.int("GRPC_DEADLINE_MS", 5000, 50, 120_000),
};
