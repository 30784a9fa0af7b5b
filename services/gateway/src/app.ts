import cors from "@fastify/cors";
import { type AccessTokenVerifier, AppError, inputProblems, type Logger, requestIdFrom } from "@tdt/kit";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController, type RouteOptions } from "fastify";
import { referencedSchemas } from "./api/contract-schemas.js";
import { registerDocs } from "./api/docs.js";
import type { Downstream } from "./api/downstream.js";
import { downstreamOfUrl, watchDownstream } from "./api/downstream-health.js";
import { unboundRoutes } from "./api/route.js";
import { authRoutes } from "./api/routes/auth.js";
import { healthRoutes } from "./api/routes/health.js";
import { mediaRoutes } from "./api/routes/media.js";
import { schemaRoutes } from "./api/routes/schemas.js";
import { sessionsRoutes } from "./api/routes/sessions.js";
import { treesRoutes } from "./api/routes/trees.js";
import { wellKnownRoutes } from "./api/routes/well-known.js";
import { AUTH_SCHEMAS } from "./api/schemas/auth.js";
import { ValidationErrorSchema } from "./api/schemas/errors.js";
import { SESSION_SCHEMAS } from "./api/schemas/sessions.js";
import { TREE_SCHEMAS } from "./api/schemas/trees.js";
import { registerWebApp } from "./api/web.js";
import type { ResponseCache } from "./caches/response-cache.js";
import { requireBodiesWhereNeeded } from "./edge/body-presence.js";
import { corsOptionsOf, originPolicyOf } from "./edge/cors-policy.js";
import { answerRefusals, clientErrorHandler, frameworkErrorHandler } from "./edge/errors.js";
import { recordRequestDurations } from "./edge/http-metrics.js";
import { inRequestTrace, traceRequests } from "./edge/http-tracing.js";
import type { HttpsFiles } from "./edge/https-setting.js";
import { parseJsonBodies } from "./edge/json-body.js";
import { loggableUrl } from "./edge/loggable-url.js";
import { buildValidator } from "./edge/schema-validation.js";
import { registerSecurityHeaders } from "./edge/transport-security.js";

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

export interface GatewayOptions {
  log: Logger;
  downstream: Downstream;
  /** Access tokens, checked locally; main.ts feeds it revocations from NATS, tests need none. */
  verifier: AccessTokenVerifier;
  corsOrigins: string[];
  /** Take the client address from `X-Forwarded-For` (see TRUST_PROXY in config.ts). Default false. */
  trustProxy?: boolean;
  /** Listen on https with this certificate and key (GATEWAY_TLS_*_FILE); default plain HTTP. */
  https?: HttpsFiles;
  /** The built web app (services/web/dist) to serve at `/`; none: `/` is a 404. */
  webRoot?: string;
  /**
   * Ready answers of the hot reads: `trees` kept true by tree-changes.ts, `accounts` (`/auth/me`)
   * by account-changes.ts; without one, those reads go to the service every time.
   */
  caches?: GatewayCaches;
  /** MEDIA_MAX_BYTES: the most of an uploaded image the gateway reads; the setting's default unless said. */
  mediaMaxBytes?: number;
  /** The release, shown by `/health`; "dev" unless said. */
  version?: string;
  /** Called with each route as it is declared (tools that read the routes' schemas). */
  onRoute?: (route: RouteOptions) => void;
}

export interface GatewayCaches {
  trees?: ResponseCache | undefined;
  accounts?: ResponseCache | undefined;
}

/** The schemas routes refer to by `$id`. */
const OWN_SCHEMAS = [ValidationErrorSchema, ...AUTH_SCHEMAS, ...TREE_SCHEMAS, ...SESSION_SCHEMAS];
/** The gateway's shared schemas, and the messages' that the route table's answers refer to. */
export const SHARED_SCHEMAS = [
  ...OWN_SCHEMAS,
  ...referencedSchemas(new Set(OWN_SCHEMAS.map((schema) => (schema as { $id: string }).$id))),
];

/** Every group of declared routes (route.ts), at its prefix. */
export const API_ROUTES = [
  { plugin: wellKnownRoutes, prefix: "" },
  { plugin: authRoutes, prefix: "/api/v1/auth" },
  { plugin: treesRoutes, prefix: "/api/v1/trees" },
  { plugin: mediaRoutes, prefix: "/api/v1/media" },
  { plugin: sessionsRoutes, prefix: "/api/v1/sessions" },
] as const;

/** The gateway as a fastify app, without listening: main.ts listens, tests inject. */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  // With a certificate fastify serves https; the app is the same either way (hence the cast).
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    // "/api/v1/trees/" is "/api/v1/trees": clients and proxies differ on the final slash.
    routerOptions: { ignoreTrailingSlash: true },
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (request) => requestIdFrom(request.headers["x-request-id"]),
    // One line per request, written when it ends (below), labelled like every other service's.
    logController: new LogController({ requestIdLogLabel: "request_id", disableRequestLogging: true }),
    trustProxy: options.trustProxy ?? false,
    schemaController: { compilersFactory: { buildValidator } },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // fastify's own drain answer has its own body; the hook below answers {detail} instead.
    return503OnClosing: false,
  }) as unknown as FastifyInstance;

  if (options.onRoute) app.addHook("onRoute", options.onRoute);
  // The request's span, before everything else it should cover.
  traceRequests(app);
  // First, so that every answer carries them, the early 503s below included: a page can read
  // why its request failed only if the answer has its CORS headers.
  await registerSecurityHeaders(app);
  const origins = originPolicyOf(options.corsOrigins);
  await app.register(cors, corsOptionsOf(origins));

  // preClose runs once fastify has begun closing: requests still arriving on open connections
  // (a slow request keeps the server closing) get a {detail} 503, and Connection: close from fastify.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (closing) return reply.code(503).send({ detail: "shutting_down" });
  });

  // A route whose service is known to be down answers at once instead of waiting for a deadline.
  const health = watchDownstream(options.downstream);
  app.addHook("onClose", async () => health.stop());
  app.addHook("onRequest", async (request, reply) => {
    // A preflight asks the gateway, not the service: a browser that gets no 204 never sends the request.
    if (request.method === "OPTIONS") return;
    const name = downstreamOfUrl(request.url);
    if (name && health.isDown(name)) return reply.code(503).send({ detail: "service_unavailable" });
  });

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.decorateRequest("caller", null);

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  parseJsonBodies(app);
  requireBodiesWhereNeeded(app);
  // Before the schemas: a NUL character cannot be stored anywhere behind us, so it is refused at
  // the exact field (or key) it came in; the services refuse it too, for callers that skip the gateway.
  app.addHook("preValidation", async (request) => {
    const problems = [...inputProblems(request.body, ["body"]), ...inputProblems(request.query, ["query"])];
    if (problems.length > 0) throw AppError.invalid(problems);
  });
  recordRequestDurations(app);
  app.addHook("onResponse", async (request, reply) => {
    // In the request's trace, so that the line carries its trace id.
    inRequestTrace(request, () =>
      request.log.info(
        {
          method: request.method,
          // A sign-in's callback carries the provider's answer: its query stays out of the logs
          // whole; elsewhere codes, states and tokens in a query are redacted.
          url: request.routeOptions.config.secretQuery ? request.url.split("?")[0] : loggableUrl(request.url),
          status: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime),
        },
        "request",
      ),
    );
  });

  answerRefusals(app);

  await registerDocs(app);
  await registerWebApp(app, options.webRoot);
  await app.register(healthRoutes, { health, version: options.version ?? "dev" });
  await app.register(schemaRoutes, { prefix: "/api/v1/schemas" });
  const unbound = unboundRoutes(app, {
    downstream: options.downstream,
    verifier: options.verifier,
    caches: { trees: options.caches?.trees, auth: options.caches?.accounts },
  });
  for (const { plugin, prefix } of API_ROUTES) {
    // What every group may use; each plugin's options name the parts it does.
    const groupOptions = {
      prefix,
      downstream: options.downstream,
      verifier: options.verifier,
      origins,
      caches: options.caches,
      mediaMaxBytes: options.mediaMaxBytes,
    };
    await app.register(plugin, groupOptions);
  }
  await app.register(unbound);
  return app;
}
