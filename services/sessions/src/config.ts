import { availableParallelism } from "node:os";
import { env, shared } from "@tdt/kit";

export const sessionsConfig = {
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  treesAddress: shared.treesAddress,
  grpcDeadlineMs: shared.grpcDeadlineMs,
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  /** Worker threads rendering PDF reports: every core but the event loop's, at least one. */
  reportWorkers: env.int("REPORT_WORKERS", Math.max(1, availableParallelism() - 1), 1, 64),
  /** PDF reports that may wait for a worker; past them, 503 `exports_busy`. */
  reportQueueLimit: env.int("REPORT_QUEUE_LIMIT", 16, 0, 10_000),
  /** PDF reports of one caller in the pool at once, rendering or waiting; past them, 429 `rate_limited`. */
  reportsPerUser: env.int("REPORTS_PER_USER", 4, 1, 10_000),
};
