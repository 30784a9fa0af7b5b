import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/**
 * Security headers that fit how the request arrived. HSTS and CSP's `upgrade-insecure-requests`
 * tell a browser to use https from now on: sent over plain HTTP they make the docs pages load
 * blank from any address but localhost (the browser asks for their scripts over https, where
 * nothing listens). So both go out only when the request came over TLS: directly
 * (GATEWAY_TLS_CERT_FILE) or through a trusted proxy that says so (TRUST_PROXY and
 * `X-Forwarded-Proto: https`; fastify reads that header only when the proxy is trusted).
 */

const DIRECTIVES = {
  defaultSrc: ["'self'"],
  // Swagger UI and ReDoc run inline bootstrap code and ReDoc starts a blob worker.
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'", "https:"],
  imgSrc: ["'self'", "data:", "https:"],
  fontSrc: ["'self'", "https:", "data:"],
  workerSrc: ["'self'", "blob:"],
};

/** Over plain HTTP: no HSTS, no upgrade (helmet adds the upgrade by default; null removes it). */
const OVER_HTTP: HelmetOptions = {
  contentSecurityPolicy: { directives: { ...DIRECTIVES, upgradeInsecureRequests: null } },
  strictTransportSecurity: false,
};

/** Over TLS: helmet's defaults for both (HSTS for a year, with subdomains). */
const OVER_TLS: HelmetOptions = {
  contentSecurityPolicy: { directives: { ...DIRECTIVES, upgradeInsecureRequests: [] } },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

/** True when the request reached the gateway over TLS, directly or via a trusted proxy. */
export function cameOverTls(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

/**
 * The headers helmet sets for one configuration, read once by running its middleware on a
 * response that only records them: none of these policies depends on the request, and running
 * helmet per request (the CSP middleware writes its header string anew) was 3 % of a cached
 * read's time in the gateway.
 */
function headersOf(options: HelmetOptions): ReadonlyArray<readonly [string, string]> {
  const headers: Array<readonly [string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => {},
  } as unknown as ServerResponse;
  helmet(options)({} as IncomingMessage, recorder, () => {});
  return headers;
}

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const overHttp = headersOf(OVER_HTTP);
  const overTls = headersOf(OVER_TLS);
  app.addHook("onRequest", async (request, reply) => {
    for (const [name, value] of cameOverTls(request) ? overTls : overHttp) reply.raw.setHeader(name, value);
  });
}
