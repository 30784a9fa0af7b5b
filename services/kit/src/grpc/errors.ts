import { status as GrpcStatus, Metadata, type ServiceError } from "@grpc/grpc-js";
import { ERROR_CODES, type ErrorCodeOfStatus } from "@tdt/proto/contracts/error-codes";
import { isDatabaseUnavailable, isStatementCancelled } from "../database/errors.js";

/**
 * The one domain error type. Handlers throw it; the gRPC server maps it to a status here,
 * and the gateway maps the status to HTTP in one place of its own.
 * `code` is the stable snake_case string a client sees in `{"detail": code}`, from the one
 * catalogue (`@tdt/proto/contracts/error-codes`); its HTTP status there decides the gRPC status.
 */
const STATUS_TO_GRPC = {
  400: GrpcStatus.FAILED_PRECONDITION,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.ABORTED,
  // Too large to take, as gRPC says of a message past its limit.
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  415: GrpcStatus.INVALID_ARGUMENT,
  422: GrpcStatus.INVALID_ARGUMENT,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  503: GrpcStatus.UNAVAILABLE,
} as const;

/** The codes a service may raise: those whose status a gRPC status carries (the rest are the gateway's own). */
export type AppErrorCode = ErrorCodeOfStatus<keyof typeof STATUS_TO_GRPC>;

export interface Problem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    readonly extra: { problems?: Problem[]; retryAfterSeconds?: number } = {},
  ) {
    super(code);
    this.name = "AppError";
  }

  /** The gRPC status that carries this error (from its code's HTTP status in the catalogue). */
  get grpcStatus(): GrpcStatus {
    return STATUS_TO_GRPC[ERROR_CODES[this.code].status];
  }

  static invalid(problems: Problem[]): AppError {
    return new AppError("validation_error", { problems });
  }
}

const PASSED_THROUGH = new Set<GrpcStatus>([
  ...Object.values(STATUS_TO_GRPC),
  GrpcStatus.ALREADY_EXISTS,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.DEADLINE_EXCEEDED,
]);

/** Metadata keys that carry structured error detail across gRPC. */
export const ERROR_PROBLEMS_KEY = "tdt-problems";
export const ERROR_RETRY_AFTER_KEY = "tdt-retry-after";

/** At most this many problems travel: they ride in gRPC metadata, whose headers HTTP/2 bounds (~64 KB). */
export const MAX_PROBLEMS = 100;

/** The first MAX_PROBLEMS problems, and one more saying how many were left out. */
export function capProblems(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems.length - MAX_PROBLEMS;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    { loc: ["body"], msg: `${rest} more problems not shown; fix these first`, type: "too_many_problems" },
  ];
}

/**
 * JSON with every character past ASCII escaped: a text metadata value may only hold printable
 * ASCII, and a problem's `loc` can carry what a client typed (an object key, say).
 */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Headers are bounded: a `loc` part longer than 100 characters (a client's object key) is cut. */
function withShortLoc(problem: Problem): Problem {
  const short = (part: string | number) =>
    typeof part === "string" && part.length > 100 ? `${part.slice(0, 99)}…` : part;
  return { ...problem, loc: problem.loc.map(short) };
}

/** gRPC's retry pushback: a negative value stops the caller's retries of this call (gRFC A6). */
const NO_RETRY_KEY = "grpc-retry-pushback-ms";

/**
 * A thrown value as the gRPC error to send: AppErrors keep their code, a lost database
 * connection is UNAVAILABLE `database_unavailable`, a statement stopped once the `call`'s deadline
 * had passed (its `statement_timeout`, grpc/call-deadline.ts) is DEADLINE_EXCEEDED
 * `deadline_exceeded`, anything else is INTERNAL (a statement cancelled by hand included).
 *
 * `database_unavailable` tells callers not to retry (gRPC's `grpc-retry-pushback-ms`, negative):
 * every replica shares the database, so another attempt waits out the same connect timeout,
 * and four of them outlast the caller's deadline. In the deploy test a Postgres restart turned
 * reads retried that way into 504s for the client instead of an early 503.
 */
export function toServiceError(thrown: unknown, call: { deadline?: Date | number } = {}): Partial<ServiceError> {
  // A downstream service's answer (trees saying not_found to sessions, say) passes through as it
  // came, code and detail; its failures beyond our codes stay internal.
  if (isServiceError(thrown) && PASSED_THROUGH.has(thrown.code)) {
    return { code: thrown.code, details: thrown.details, metadata: thrown.metadata ?? new Metadata() };
  }
  if (isStatementCancelled(thrown) && call.deadline !== undefined && Date.now() >= Number(call.deadline)) {
    return { code: GrpcStatus.DEADLINE_EXCEEDED, details: "deadline_exceeded", metadata: new Metadata() };
  }
  const error = isDatabaseUnavailable(thrown) ? new AppError("database_unavailable") : thrown;
  if (!(error instanceof AppError)) {
    return { code: GrpcStatus.INTERNAL, details: "internal_error", metadata: new Metadata() };
  }
  const metadata = new Metadata();
  if (error.code === "database_unavailable") metadata.set(NO_RETRY_KEY, "-1");
  if (error.extra.problems) {
    metadata.set(ERROR_PROBLEMS_KEY, asciiJson(capProblems(error.extra.problems).map(withShortLoc)));
  }
  if (error.extra.retryAfterSeconds !== undefined) {
    metadata.set(ERROR_RETRY_AFTER_KEY, String(error.extra.retryAfterSeconds));
  }
  return { code: error.grpcStatus, details: error.code, metadata };
}

/** The structured detail a caller reads back from a gRPC error (see toServiceError). */
export function readServiceError(error: ServiceError): {
  code: GrpcStatus;
  detail: string;
  problems?: Problem[];
  retryAfterSeconds?: number;
} {
  const problems = error.metadata?.get(ERROR_PROBLEMS_KEY)[0];
  const retryAfter = error.metadata?.get(ERROR_RETRY_AFTER_KEY)[0];
  return {
    code: error.code,
    detail: error.details || "internal_error",
    ...(typeof problems === "string" ? { problems: JSON.parse(problems) as Problem[] } : {}),
    ...(typeof retryAfter === "string" ? { retryAfterSeconds: Number(retryAfter) } : {}),
  };
}

export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === "object" && error !== null && "code" in error && "metadata" in error;
}
