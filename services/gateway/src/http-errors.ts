import { status as GrpcStatus } from "@grpc/grpc-js";
import { AppError, isServiceError, type Problem, readServiceError, toServiceError } from "@tdt/kit";
import { ERROR_CODES, type ErrorCode, isErrorCode } from "@tdt/proto/contracts/error-codes";

/** An HTTP error as the gateway sends it: `{"detail": code}` or, for 422, the problem list. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: ErrorCode | Problem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === "string" ? detail : "validation_error");
  }
}

/** The one mapping from gRPC status to HTTP (SPEC §3). */
const HTTP_STATUS: Partial<Record<GrpcStatus, { status: number; fallback: ErrorCode }>> = {
  [GrpcStatus.INVALID_ARGUMENT]: { status: 422, fallback: "validation_error" },
  [GrpcStatus.UNAUTHENTICATED]: { status: 401, fallback: "not_authenticated" },
  [GrpcStatus.PERMISSION_DENIED]: { status: 403, fallback: "forbidden" },
  [GrpcStatus.NOT_FOUND]: { status: 404, fallback: "not_found" },
  [GrpcStatus.ALREADY_EXISTS]: { status: 409, fallback: "conflict" },
  [GrpcStatus.ABORTED]: { status: 409, fallback: "conflict" },
  [GrpcStatus.FAILED_PRECONDITION]: { status: 409, fallback: "conflict" },
  [GrpcStatus.RESOURCE_EXHAUSTED]: { status: 429, fallback: "rate_limited" },
  [GrpcStatus.UNAVAILABLE]: { status: 503, fallback: "service_unavailable" },
  [GrpcStatus.DEADLINE_EXCEEDED]: { status: 504, fallback: "deadline_exceeded" },
  [GrpcStatus.CANCELLED]: { status: 503, fallback: "service_unavailable" },
};

/** A failed downstream call as the HTTP error to answer with; anything unknown stays a 500. */
export function httpErrorFromGrpc(error: unknown): HttpError | undefined {
  if (!isServiceError(error)) return undefined;
  const read = readServiceError(error);
  const mapping = HTTP_STATUS[read.code];
  if (!mapping) return undefined;
  // grpc-js's own failures (connection refused, deadline) carry prose, not a code; and nothing
  // outside the catalogue reaches a client.
  const code = isErrorCode(read.detail) ? read.detail : mapping.fallback;
  // A code of the catalogue answers with its own status there: a gRPC status carries several
  // (FAILED_PRECONDITION both a 400 and a 409), and the code says which.
  const status = isErrorCode(read.detail) ? ERROR_CODES[read.detail].status : mapping.status;
  const headers: Record<string, string> = {};
  if (status === 401) headers["www-authenticate"] = "Bearer";
  if (status === 429) headers["retry-after"] = String(read.retryAfterSeconds ?? 60);
  // A 503 that knows when it will be served (a full export queue) says so too.
  else if (read.retryAfterSeconds !== undefined) headers["retry-after"] = String(read.retryAfterSeconds);
  if (status === 422 && read.problems) return new HttpError(422, read.problems, headers);
  return new HttpError(status, code, headers);
}

/**
 * Any error the gateway answers with a client-facing status: its own HttpError, a failed
 * downstream call, or an AppError raised here (e.g. by token verification), which goes
 * through its gRPC status so that the table above stays the only mapping.
 */
export function httpErrorOf(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof AppError) return httpErrorFromGrpc(toServiceError(error));
  return httpErrorFromGrpc(error);
}
