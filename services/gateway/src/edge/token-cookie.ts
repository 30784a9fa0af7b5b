import cookie from "@fastify/cookie";
import { AppError } from "@tdt/kit";
import type { TokenPair } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type OriginPolicy, ownOriginOf } from "./cors-policy.js";
import { HttpError } from "./errors.js";
import { cameOverTls } from "./transport-security.js";

/**
 * The refresh-token cookie mode (README, "Browser apps"): a browser app keeps only the short-lived
 * access token in memory, and the refresh token lives in an HttpOnly cookie no script can read.
 * Opt in per request with `X-Token-Transport: cookie`; without it nothing changes (JSON mode).
 *
 * Against cross-site requests: the cookie is SameSite=Strict; the header is required (a form
 * cannot send it, and a cross-origin fetch with it needs a preflight only CORS_ORIGINS pass);
 * and an `Origin`, when sent, must be the gateway's own or a listed one.
 */

export const TOKEN_TRANSPORT_HEADER = "x-token-transport";
export const REFRESH_COOKIE = "tdt_refresh";

/** The header's schema, for the routes that take it. */
export const TOKEN_TRANSPORT_PROPERTY = {
  [TOKEN_TRANSPORT_HEADER]: {
    type: "string",
    enum: ["cookie", "json"],
    description:
      "`cookie`: the refresh token travels in the HttpOnly cookie `tdt_refresh` (path-scoped to refresh and " +
      "logout), never in a body. Absent or `json`: in the JSON bodies.",
  },
} as const;

/** True when the request opted in to cookie mode. */
export function inCookieMode(request: FastifyRequest): boolean {
  return request.headers[TOKEN_TRANSPORT_HEADER] === "cookie";
}

/** The refresh token the browser sent in the cookie, if any. */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  return request.cookies[REFRESH_COOKIE] || undefined;
}

/**
 * Reads cookies in `scope` and refuses a cookie-mode request whose `Origin` is neither the
 * gateway's own nor a listed one ("*" lists none: cors-policy.ts). Requests without the
 * header are JSON mode and stay as they were.
 */
export async function acceptTokenCookies(scope: FastifyInstance, origins: OriginPolicy): Promise<void> {
  await scope.register(cookie);
  scope.addHook("onRequest", async (request) => {
    if (!inCookieMode(request)) return;
    const origin = request.headers.origin;
    if (origin === undefined || origin === ownOriginOf(request) || origins.listed.has(origin)) return;
    throw new HttpError(403, "origin_not_allowed");
  });
}

/** The paths the cookie goes to: refresh and logout, never any other route. */
export interface CookiePaths {
  refresh: string;
  logout: string;
}

function cookieOptions(request: FastifyRequest, path: string) {
  // No Max-Age: the auth service's session policy decides how long the token lives; the browser
  // drops the cookie when it ends its session, and a token it still sends after expiry is refused.
  return { path, httpOnly: true, sameSite: "strict", secure: cameOverTls(request) } as const;
}

/**
 * A token pair as answered: in cookie mode the refresh token goes into the two path-scoped
 * cookies and out of the body; otherwise the pair as it is.
 */
export function deliverTokens(
  tokens: TokenPair,
  request: FastifyRequest,
  reply: FastifyReply,
  paths: CookiePaths,
): Omit<TokenPair, "refresh_token"> & { refresh_token?: string } {
  if (!inCookieMode(request)) return tokens;
  const { refresh_token, ...rest } = tokens;
  for (const path of [paths.refresh, paths.logout]) {
    reply.setCookie(REFRESH_COOKIE, refresh_token, cookieOptions(request, path));
  }
  return rest;
}

/** Ends both cookies (logout). */
export function clearTokenCookies(request: FastifyRequest, reply: FastifyReply, paths: CookiePaths): void {
  for (const path of [paths.refresh, paths.logout]) {
    reply.clearCookie(REFRESH_COOKIE, cookieOptions(request, path));
  }
}

/**
 * The refresh token a refresh consumes: the cookie's in cookie mode (none: 401), the body's in
 * JSON mode. A cookie without the header is refused rather than ignored: it is either an app
 * that forgot the header or a request the app did not make.
 */
export function refreshTokenOf(request: FastifyRequest, bodyToken: string | undefined): string | undefined {
  if (inCookieMode(request)) {
    const token = refreshTokenFromCookie(request);
    // The service's own refusal, through the one gRPC → HTTP mapping (401 with WWW-Authenticate).
    if (!token) throw new AppError("invalid_refresh_token");
    return token;
  }
  if (bodyToken === undefined && refreshTokenFromCookie(request)) {
    throw new HttpError(403, "token_transport_header_required");
  }
  return bodyToken;
}
