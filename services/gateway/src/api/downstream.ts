import { createServiceClient, type GrpcTls, type ServiceClient } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { HooksServiceService } from "@tdt/proto/tdt/hooks/v1/hooks";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";

/** The trees process serves two services, its trees and the images their nodes show: one client reaches both. */
export const TREES_PROCESS = { ...TreesServiceService, ...MediaServiceService };

/** One long-lived client per downstream service. */
export interface Downstream {
  auth: ServiceClient<typeof AuthServiceService>;
  trees: ServiceClient<typeof TREES_PROCESS>;
  sessions: ServiceClient<typeof SessionsServiceService>;
  hooks: ServiceClient<typeof HooksServiceService>;
}

/** Addresses are host:port. */
export function connectDownstream(config: {
  authAddress: string;
  treesAddress: string;
  sessionsAddress: string;
  hooksAddress: string;
  grpcDeadlineMs: number;
  grpcTls?: GrpcTls | undefined;
}): Downstream {
  const defaults = { timeoutMs: config.grpcDeadlineMs, tls: config.grpcTls };
  return {
    auth: createServiceClient(AuthServiceService, config.authAddress, defaults),
    trees: createServiceClient(TREES_PROCESS, config.treesAddress, defaults),
    sessions: createServiceClient(SessionsServiceService, config.sessionsAddress, defaults),
    hooks: createServiceClient(HooksServiceService, config.hooksAddress, defaults),
  };
}

/** A message field proto3 leaves optional but the service always fills: its absence is a bug (500). */
export function present<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`a downstream service answered without ${field}`);
  return value;
}

export function closeDownstream(downstream: Downstream): void {
  for (const client of Object.values(downstream)) client.close();
}
