import type { FastifyCorsOptions } from "@fastify/cors";
import type { FastifyRequest } from "fastify";

/**
 * Which browser pages on other origins may call the API, and how (CORS_ORIGINS in config.ts).
 *
 * A listed origin may call every method with every request header the API reads, and with
 * credentials (the refresh-token cookie, token-cookie.ts). "*" lets any page read answers, but
 * never with credentials: the browser refuses `Access-Control-Allow-Origin: *` together with
 * credentials anyway, and echoing any origin back with credentials would let every site use a
 * visitor's cookie. So under "*" an unlisted page calls with a bearer token only.
 */

/** Every method a route of the API answers to (HEAD with each GET). */
export const API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Every request header the API reads that a browser does not allow cross-origin on its own. */
export const API_REQUEST_HEADERS = [
  "authorization",
  "content-type",
  "idempotency-key",
  "x-request-id",
  "x-token-transport",
] as const;

/** Response headers a page may read besides the simple ones. */
export const EXPOSED_HEADERS = ["x-request-id", "x-total-count", "link", "retry-after", "content-disposition"] as const;

/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** The configured origins, read once: "*" apart from the listed ones. */
export interface OriginPolicy {
  /** Origins allowed with credentials: exactly these. */
  listed: ReadonlySet<string>;
  /** "*" was configured: any other origin may read answers, without credentials. */
  anyWithoutCredentials: boolean;
}

export function originPolicyOf(corsOrigins: readonly string[]): OriginPolicy {
  const listed = new Set(corsOrigins.filter((origin) => origin !== "*").map((origin) => origin.replace(/\/+$/, "")));
  return { listed, anyWithoutCredentials: corsOrigins.includes("*") };
}

/** The request's own origin as a browser on it would send it: scheme and host as the gateway was reached. */
export function ownOriginOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The @fastify/cors options: decided per request, by the request's `Origin`. */
export function corsOptionsOf(policy: OriginPolicy): { delegator: FastifyCorsOptions["delegator"] } {
  const common = {
    methods: [...API_METHODS],
    allowedHeaders: [...API_REQUEST_HEADERS],
    exposedHeaders: [...EXPOSED_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    // A browser caches an answer per Origin only when told the answer depends on it.
    // (@fastify/cors adds `Vary: Origin` for any origin that is not "*".)
  } satisfies FastifyCorsOptions;
  // Made once, not per request: the answer depends on the Origin alone.
  const listed = new Map([...policy.listed].map((origin) => [origin, { ...common, origin, credentials: true }]));
  const others = policy.anyWithoutCredentials
    ? { ...common, origin: "*", credentials: false }
    : { ...common, origin: false };
  return {
    delegator: (request: FastifyRequest, callback: (error: Error | null, options?: FastifyCorsOptions) => void) => {
      const origin = request.headers.origin;
      callback(null, (origin !== undefined && listed.get(origin)) || others);
    },
  };
}
