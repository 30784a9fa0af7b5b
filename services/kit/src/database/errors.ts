/**
 * Which database errors mean "the database is unreachable right now" rather than "this request
 * is wrong": a failover, a restart or a full server. They are a 503 to the client, not a 500
 * (README: a backing service being unavailable is a 503); postgres.js reconnects on the next
 * query, so the same request may well succeed a moment later.
 */

/** postgres.js's own codes for a connection it lost, never had, or was told to close. */
const DRIVER_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);

/** The socket's errors, from Node: refused, reset, unreachable, not resolvable (yet). */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server going away or refusing new sessions: 57P01 admin_shutdown (a terminated
 * backend, a fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or in
 * recovery), 53300 too_many_connections. Class 08 (connection exception) is matched whole.
 */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

function codeOf(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  // A connection to a name with several addresses fails as one AggregateError of them all.
  if (error instanceof AggregateError && error.errors.some(isDatabaseUnavailable)) return true;
  const code = codeOf(error);
  if (code === undefined) return false;
  return DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

/**
 * A statement Postgres cancelled: 57014 query_canceled, which a call's `statement_timeout`
 * (grpc/call-deadline.ts) raises once its caller's deadline has passed. The caller is gone by
 * then; the answer is the deadline's (504), not a fault of the service's.
 */
export function isStatementCancelled(error: unknown): boolean {
  return codeOf(error) === "57014";
}
