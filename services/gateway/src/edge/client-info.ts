import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyRequest } from "fastify";

/** Where a request comes from (`tdt.auth.v1.ClientInfo`): recorded on login sessions and used for rate limits. */
export function clientOf(request: FastifyRequest): ClientInfo {
  return { user_agent: (request.headers["user-agent"] ?? "").slice(0, 512), ip: request.ip };
}
