import { shared } from "@tdt/kit";

export const sessionsConfig = {
  natsUrl: shared.natsUrl,
  authAddress: shared.authAddress,
  treesAddress: shared.treesAddress,
  grpcDeadlineMs: shared.grpcDeadlineMs,
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
};
