import { shared } from "@tdt/kit";

export const sessionsConfig = {
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  treesAddress: shared.treesAddress,
  grpcDeadlineMs: shared.grpcDeadlineMs,
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
};
