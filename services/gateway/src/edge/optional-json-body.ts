import type { FastifyInstance } from "fastify";
import { parseJsonBodies } from "./json-body.js";

/**
 * Makes a JSON body optional in `scope`: an empty one reads as none, which the route's schema
 * sees as `null` (so its body type admits null, and OpenAPI marks the body optional). Without
 * this, fastify answers `Content-Type: application/json` with nothing after it as malformed.
 */
export function acceptEmptyJsonBody(scope: FastifyInstance): void {
  parseJsonBodies(scope, { emptyIsNone: true });
}
