import { meter } from "@tdt/kit";
import type { FastifyInstance } from "fastify";

/** The conventions' advice for `http.server.request.duration`, in seconds. */
const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * `http.server.request.duration` of every answered request, by method, route template (never
 * the raw URL, so that the series stay few: a request no route matched has no `http.route`) and
 * status.
 */
export function recordRequestDurations(app: FastifyInstance): void {
  const durations = meter().createHistogram("http.server.request.duration", {
    unit: "s",
    description: "Duration of HTTP requests answered by the gateway",
    advice: { explicitBucketBoundaries: BOUNDARIES },
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url;
    durations.record(reply.elapsedTime / 1000, {
      "http.request.method": request.method,
      ...(route && request.is404 !== true ? { "http.route": route } : {}),
      "http.response.status_code": reply.statusCode,
    });
    done();
  });
}
