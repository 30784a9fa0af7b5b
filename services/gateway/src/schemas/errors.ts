/** The error bodies of SPEC §3, shared by every route (registered with `addSchema`). */

export const ErrorSchema = {
  $id: "Error",
  type: "object",
  description: 'An error with a stable snake_case code, e.g. `{"detail": "invalid_credentials"}`.',
  required: ["detail"],
  properties: { detail: { type: "string" } },
} as const;

export const ValidationErrorSchema = {
  $id: "ValidationError",
  type: "object",
  description: "Every validation problem: where (`loc`), what (`msg`) and which rule (`type`).",
  required: ["detail"],
  properties: {
    detail: {
      anyOf: [
        {
          type: "array",
          items: {
            type: "object",
            required: ["loc", "msg", "type"],
            properties: {
              loc: { type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
              msg: { type: "string" },
              type: { type: "string" },
            },
          },
        },
        // A service may refuse a value with a code and no list.
        { type: "string" },
      ],
    },
  },
} as const;

const MEANING: Record<number, string> = {
  400: "Malformed JSON (`malformed_json`), JSON nested more than 32 levels (`json_too_deep`) or an unsupported content type",
  401: "Missing, invalid or expired credentials (with `WWW-Authenticate: Bearer`)",
  403: "Authenticated but not allowed",
  404: "Unknown, or not visible to the caller",
  409: "Conflict",
  413: "Body larger than 2 MB",
  422: "Validation failed",
  429: "Rate limited; `Retry-After` says how many seconds to wait",
  503: "A backing service is unavailable",
  504: "A backing service did not answer in time",
};

/** Response schemas for the given error statuses, as fastify and the OpenAPI document read them. */
export function errorResponses(...statuses: number[]): Record<number, object> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: MEANING[status] ?? "Error", $ref: status === 422 ? "ValidationError#" : "Error#" },
    ]),
  );
}

/** Errors of any route with a body: malformed, too large, invalid. */
export const BODY_ERRORS = [400, 413, 422] as const;

/** Errors any route that calls a downstream service can answer with. */
export const DOWNSTREAM_ERRORS = [503, 504] as const;
