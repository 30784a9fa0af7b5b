import { type Context, context, extractContext, SpanKind, trace, tracer, tracingEnabled } from "@tdt/kit";
import type { FastifyInstance, FastifyRequest } from "fastify";

/**
 * A SERVER span for every HTTP request, continuing the caller's W3C `traceparent` or starting a
 * trace: named by method and route template ("GET /api/v1/trees/:id"), with the path but never
 * the query. Nothing is registered without tracing.
 */
export function traceRequests(app: FastifyInstance): void {
  if (!tracingEnabled()) return;
  app.decorateRequest("traceContext", undefined);
  app.addHook("onRequest", (request, _reply, done) => {
    const parent = extractContext({
      get: (key) => {
        const value = request.headers[key];
        return Array.isArray(value) ? value[0] : value;
      },
      set: () => {},
    });
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": request.method,
          "url.path": request.url.split("?")[0] ?? "/",
          ...(route ? { "http.route": route } : {}),
        },
      },
      parent,
    );
    request.traceContext = trace.setSpan(parent, span);
    context.with(request.traceContext, done);
  });
  const end = (request: FastifyRequest, status: number | undefined) => {
    const span = request.traceContext && trace.getSpan(request.traceContext);
    if (!span) return;
    if (status === undefined) span.setAttribute("error.type", "aborted");
    else {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setAttribute("error.type", String(status));
    }
    span.end();
  };
  app.addHook("onResponse", (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    end(request, undefined);
    done();
  });
}

/** Runs `work` in the request's trace (the body's parsing may have left it), so its calls are children. */
export function inRequestTrace<T>(request: FastifyRequest, work: () => T): T {
  return request.traceContext ? context.with(request.traceContext, work) : work();
}

declare module "fastify" {
  interface FastifyRequest {
    /** The context of the request's SERVER span, while tracing is on. */
    traceContext: Context | undefined;
  }
}
