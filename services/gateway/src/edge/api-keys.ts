/**
 * API keys at the gateway (docs/decisions/hooks.md): a request whose bearer is a key (`tdt_…`) is
 * asked of auth at once (is it good, and may it have one more today), acts with the short access
 * token auth answers with, on the routes its scopes open, and carries the IETF RateLimit headers
 * (draft-ietf-httpapi-ratelimit-headers) of its daily quota. Nothing is cached: a revoked key's
 * next request is refused at every gateway.
 */
import { AppError, type CallOptions } from "@tdt/kit";
import type { UseApiKeyRequest, UseApiKeyResponse } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyReply } from "fastify";

export const API_KEY_PREFIX = "tdt_";

/** The scope each route needs of a key, or undefined where no key may go (accounts, organizations, keys). */
export function scopeOfRoute(client: string, rpc: string, method: string): string | undefined {
  switch (client) {
    // The trees process's routes: its trees, and the images their nodes show (/api/v1/media).
    case "trees":
      return method === "GET" ? "trees:read" : "trees:write";
    case "sessions":
      if (rpc === "exportSession") return "reports:read";
      return method === "GET" ? "sessions:read" : undefined;
    case "hooks":
      return "webhooks:manage";
    default:
      return undefined;
  }
}

export interface ApiKeyAuthority {
  useApiKey(request: UseApiKeyRequest, options: CallOptions): Promise<UseApiKeyResponse>;
}

/**
 * The access token a key's request acts with, once auth has counted it and its scopes allow
 * `scope`; the quota's headers are set on `reply` whatever the outcome.
 */
export async function accessTokenOfKey(
  authority: ApiKeyAuthority,
  key: string,
  scope: string | undefined,
  reply: FastifyReply,
  requestId: string,
): Promise<string> {
  const use = await authority.useApiKey({ key }, { requestId });
  reply.header("ratelimit-policy", `"daily";q=${use.daily_quota};w=86400`);
  reply.header("ratelimit", `"daily";r=${use.remaining};t=${use.resets_in_seconds}`);
  if (use.exhausted) throw new AppError("rate_limited", { retryAfterSeconds: use.resets_in_seconds });
  if (!scope || !use.scopes.includes(scope)) throw new AppError("insufficient_scope");
  return use.access_token;
}
