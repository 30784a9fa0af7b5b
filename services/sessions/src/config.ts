import { shared } from "@tdt/kit";

export const sessionsConfig = {
  natsUrl: shared.natsUrl,
  natsCredentials: shared.natsCredentials,
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  treesAddress: shared.treesAddress,
  grpcDeadlineMs: shared.grpcDeadlineMs,
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
};
