import { jsonNestsDeeperThan, MAX_NESTING_DEPTH } from "@tdt/kit";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

/**
 * Makes `scope` read JSON bodies through fastify's own parser (prototype poisoning refused),
 * after a scan of the raw text that refuses nesting deeper than MAX_NESTING_DEPTH with
 * 400 `json_too_deep`: nothing recursive (the NUL guard, schema validation, the gRPC encoder)
 * ever sees such a body. With `emptyIsNone`, an empty body reads as none (see optional-json-body.ts).
 */
export function parseJsonBodies(scope: FastifyInstance, options: { emptyIsNone?: boolean } = {}): void {
  const json = scope.getDefaultJsonParser("error", "error");
  scope.removeContentTypeParser("application/json");
  scope.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    if (options.emptyIsNone && text === "") return done(null, undefined);
    if (jsonNestsDeeperThan(text, MAX_NESTING_DEPTH)) return done(new HttpError(400, "json_too_deep"), undefined);
    return json(request, text, done);
  });
}
