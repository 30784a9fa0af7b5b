import type { FastifyInstance } from "fastify";

/**
 * Logs every error answer whose `detail` code its route does not document (route.ts derives the
 * list, OpenAPI shows it as an enum): a generated client would not know the code. The system
 * tests fail on such a line, so the documented lists stay true.
 */
export function reportUndeclaredErrors(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    const declared = request.routeOptions.config.errorCodes;
    if (!declared || reply.statusCode < 400 || typeof payload !== "string") return payload;
    const detail = detailOf(payload);
    if (typeof detail === "string" && !declared.includes(detail as never)) {
      request.log.warn(
        { detail, status: reply.statusCode, route: request.routeOptions.url, method: request.method },
        "undeclared error code",
      );
    }
    return payload;
  });
}

function detailOf(payload: string): unknown {
  try {
    return (JSON.parse(payload) as { detail?: unknown }).detail;
  } catch {
    return undefined;
  }
}
