import { ERROR_CODES, type ErrorCode } from "@tdt/proto/contracts/error-codes";

/**
 * The error bodies of SPEC §3. Every route lists the `detail` codes it can answer with, per status,
 * as an enum (so a generated client can switch on them), each explained from the one catalogue.
 */

const PROBLEM = {
  type: "object",
  required: ["loc", "msg", "type"],
  properties: {
    loc: {
      type: "array",
      items: { anyOf: [{ type: "string" }, { type: "integer" }] },
      description: 'Where: `["body", "nodes", 3, "options", 0, "next"]`, `["query", "limit"]`…',
    },
    msg: { type: "string", description: "What is wrong, for people" },
    type: { type: "string", description: "Which rule, a stable code (`missing`, `enum`, `unknown_node`…)" },
  },
} as const;

export const ValidationErrorSchema = {
  $id: "ValidationError",
  type: "object",
  description: "Every validation problem: where (`loc`), what (`msg`) and which rule (`type`).",
  required: ["detail"],
  properties: {
    detail: {
      anyOf: [
        { type: "array", items: PROBLEM },
        // A service may refuse a value with the code alone.
        { type: "string", enum: ["validation_error"] },
      ],
    },
  },
  examples: [
    {
      detail: [
        {
          loc: ["body", "nodes", 3, "options", 0, "next"],
          msg: 'No node has id "restart"',
          type: "unknown_node",
        },
      ],
    },
  ],
} as const;

const STATUS_MEANING: Record<number, string> = {
  400: "The request could not be read",
  401: "Missing, invalid or expired credentials (with `WWW-Authenticate: Bearer`)",
  403: "Authenticated but not allowed",
  404: "Unknown, or not visible to the caller",
  409: "Conflict with the current state; nothing was changed",
  413: "Too large: the body, or what it carries",
  415: "Not a type the route takes",
  416: "The range asked for is not the file's",
  422: "Validation failed",
  429: "Rate limited; `Retry-After` says how many seconds to wait",
  503: "A backing service is unavailable; retry shortly",
  504: "A backing service did not answer in time",
};

/** `{"detail": code}` for the given codes (one status), each code explained in the description. */
function errorSchemaOf(status: number, codes: ErrorCode[]): object {
  const list = codes.map((code) => `- \`${code}\`: ${ERROR_CODES[code].meaning}`).join("\n");
  return {
    description: `${STATUS_MEANING[status] ?? "Error"}\n\n${list}`,
    type: "object",
    required: ["detail"],
    properties: { detail: { type: "string", enum: codes } },
    examples: [{ detail: codes[0] }],
  };
}

/** Response schemas for the given error codes, grouped by their status, as fastify and OpenAPI read them. */
export function errorResponses(codes: Iterable<ErrorCode>): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        status,
        status === 422
          ? { description: STATUS_MEANING[422], $ref: "ValidationError#" }
          : errorSchemaOf(status, list.sort()),
      ]),
  );
}

/**
 * Errors of reading a body: unreadable, too large. The gateway reads what any request but a GET
 * or HEAD sends, so a route without a body of its own can answer these too.
 */
export const READ_BODY_ERRORS: readonly ErrorCode[] = [
  "bad_request",
  "malformed_json",
  "json_too_deep",
  "unsupported_content_type",
  "request_too_large",
];

/** Errors of a route behind an access token. */
export const TOKEN_ERRORS: readonly ErrorCode[] = [
  "not_authenticated",
  "invalid_token",
  "token_expired",
  "session_revoked",
];

/** Errors of a route behind an access token when an API key is sent instead (edge/api-keys.ts). */
export const API_KEY_ERRORS: readonly ErrorCode[] = ["insufficient_scope", "rate_limited"];

/** Errors any route that calls a downstream service can answer with. */
export const DOWNSTREAM_ERRORS: readonly ErrorCode[] = [
  "service_unavailable",
  "database_unavailable",
  "shutting_down",
  "deadline_exceeded",
];
