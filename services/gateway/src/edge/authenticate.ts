import { type AccessClaims, type AccessTokenVerifier, AppError, bearerToken, type CallOptions } from "@tdt/kit";
import { hasRole, type Role } from "@tdt/proto/contracts/access";
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { API_KEY_PREFIX, type ApiKeyAuthority, accessTokenOfKey } from "./api-keys.js";

/** Who is calling: the verified claims, and the token itself to pass downstream. */
export interface Caller {
  claims: AccessClaims;
  accessToken: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `requireUser` on the routes that use it. */
    caller: Caller | null;
  }
}

/**
 * An `onRequest` hook that admits only a caller with a valid access token: missing, bad,
 * expired or revoked tokens end as 401 (the verifier's AppError) before the body is read. With
 * `keys`, an API key is taken too, on a route its scopes open (`scope`).
 */
export function requireUser(
  verifier: AccessTokenVerifier,
  keys?: { authority: ApiKeyAuthority; scope: string | undefined },
): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const bearer = bearerToken(request.headers.authorization);
    // A machine's API key: auth counts it and answers the token it acts with (api-keys.ts).
    const accessToken =
      keys && bearer?.startsWith(API_KEY_PREFIX)
        ? await accessTokenOfKey(keys.authority, bearer, keys.scope, reply, request.id)
        : bearer;
    const claims = await verifier.verify(accessToken);
    request.caller = { claims, accessToken: accessToken as string };
  };
}

/** An `onRequest` hook, after `requireUser`, that admits only `minimum` and the roles above it. */
export function requireRole(minimum: Role): onRequestAsyncHookHandler {
  return async (request) => {
    if (!hasRole(callerOf(request).claims, minimum)) throw new AppError("forbidden");
  };
}

/** The caller of a route guarded by `requireUser`. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`${request.routeOptions.url} reads its caller without requireUser`);
  return request.caller;
}

/** What a downstream call carries for this request: its id and, when there is one, the caller's token. */
export function callOptionsOf(request: FastifyRequest): CallOptions {
  return { requestId: request.id, accessToken: request.caller?.accessToken };
}
