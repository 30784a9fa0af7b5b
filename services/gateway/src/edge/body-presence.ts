import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

/**
 * A request that sends no body and no `Content-Type` to a route whose body is required is told
 * so (400 `unsupported_content_type`), not handed to the schema, which would call the missing
 * body "not an object" (422). Routes whose body is optional (their schema admits null: logout,
 * complete, export, refresh) take such a request as it is.
 */
export function requireBodiesWhereNeeded(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    if (request.body !== undefined || request.headers["content-type"] !== undefined) return;
    const body = request.routeOptions.schema?.body as { type?: unknown } | undefined;
    if (body === undefined || [body.type].flat().includes("null")) return;
    throw new HttpError(400, "unsupported_content_type");
  });
}
