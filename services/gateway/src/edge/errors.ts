import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { AppError, isServiceError, type Problem, readServiceError, toServiceError } from "@tdt/kit";
import { ERROR_CODES, type ErrorCode, isErrorCode } from "@tdt/proto/contracts/error-codes";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problemsFromSchemaErrors } from "./validation.js";

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

/**
 * What a gRPC status says when no catalogue code came with it (grpc-js's own failures: a refused
 * connection, a deadline): the code to answer with. The code decides the HTTP status, from the
 * catalogue (SPEC §3), whether it came from a service or from here.
 */
const FALLBACK_CODES: Partial<Record<GrpcStatus, ErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: "validation_error",
  [GrpcStatus.UNAUTHENTICATED]: "not_authenticated",
  [GrpcStatus.PERMISSION_DENIED]: "forbidden",
  [GrpcStatus.NOT_FOUND]: "not_found",
  [GrpcStatus.ALREADY_EXISTS]: "conflict",
  [GrpcStatus.ABORTED]: "conflict",
  [GrpcStatus.FAILED_PRECONDITION]: "conflict",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "rate_limited",
  [GrpcStatus.UNAVAILABLE]: "service_unavailable",
  [GrpcStatus.DEADLINE_EXCEEDED]: "deadline_exceeded",
  [GrpcStatus.CANCELLED]: "service_unavailable",
};

/** A failed downstream call as the HTTP error to answer with; anything unknown stays a 500. */
export function httpErrorFromGrpc(error: unknown): HttpError | undefined {
  if (!isServiceError(error)) return undefined;
  const read = readServiceError(error);
  const fallback = FALLBACK_CODES[read.code];
  if (!fallback) return undefined;
  // Nothing outside the catalogue reaches a client; a gRPC status carries several codes
  // (FAILED_PRECONDITION both a 400 and a 409), and the code says which status it is.
  const code = isErrorCode(read.detail) ? read.detail : fallback;
  const status = ERROR_CODES[code].status;
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

/** fastify's own client errors, as stable codes. */
const FASTIFY_CLIENT_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "malformed_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "malformed_json",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_content_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_BODY_TOO_LARGE: "request_too_large",
};

/**
 * Where every refusal becomes its answer, `{"detail": code}` with the catalogue's status: a body
 * the schemas refuse (422 with the problems), fastify's own client errors, the gateway's and the
 * services' errors; anything else is a 500 and a log line. An unknown path is a 404.
 */
export function answerRefusals(app: FastifyInstance): void {
  reportUndeclaredErrors(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const problems = problemsFromSchemaErrors(error.validation, error.validationContext ?? "body");
      return reply.code(422).send({ detail: problems });
    }
    const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
    if (known) return reply.code(ERROR_CODES[known].status).send({ detail: known });
    const http = httpErrorOf(error);
    if (http) {
      if (http.statusCode >= 500) request.log.warn({ detail: http.detail }, "downstream failure");
      return reply.code(http.statusCode).headers(http.headers).send({ detail: http.detail });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ detail: "bad_request" });
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.code(500).send({ detail: "internal_error" });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: "not_found" }));
}

/**
 * What the gateway answers before a route runs, in the shape of every other error
 * (`{"detail": code}`): fastify's own answers to these carry `error`/`message` instead.
 */

const FRAMEWORK_ERRORS: Record<string, { status: number; detail: ErrorCode }> = {
  FST_ERR_BAD_URL: { status: 400, detail: "malformed_url" },
  // A path parameter longer than the router keeps (100 characters): no id is that long.
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, detail: "uri_too_long" },
};

/** fastify's `frameworkErrors`: a URL the router cannot read. */
export function frameworkErrorHandler(error: { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const known = FRAMEWORK_ERRORS[error.code ?? ""] ?? { status: 400, detail: "bad_request" };
  void reply.code(known.status).send({ detail: known.detail });
}

/**
 * fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers or URL past
 * its 16 KB limit, a malformed request line), so there is no request to reply to, only a socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, detail]: [number, ErrorCode] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "request_header_too_large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "request_timeout"]
        : [400, "bad_request"];
  const body = JSON.stringify({ detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

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
