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

/** helmet's middleware for one configuration, built once (building it parses the policy). */
function headersOf(options: HelmetOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const middleware = helmet(options);
  return (request, response) => middleware(request, response, () => {});
}

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const overHttp = headersOf(OVER_HTTP);
  const overTls = headersOf(OVER_TLS);
  app.addHook("onRequest", async (request, reply) => {
    (cameOverTls(request) ? overTls : overHttp)(request.raw, reply.raw);
  });
}
