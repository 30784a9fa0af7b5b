import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { ERROR_PROBLEMS_KEY, ERROR_RETRY_AFTER_KEY } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { httpErrorFromGrpc } from "../src/edge/errors.js";

function grpcError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata });
}

describe("gRPC status to HTTP", () => {
  it.each([
    [status.UNAUTHENTICATED, "invalid_credentials", 401],
    [status.PERMISSION_DENIED, "forbidden", 403],
    [status.NOT_FOUND, "not_found", 404],
    [status.ABORTED, "version_conflict", 409],
    [status.ALREADY_EXISTS, "email_already_registered", 409],
    [status.FAILED_PRECONDITION, "session_completed", 409],
    // One gRPC status, two HTTP statuses: the catalogue's entry for the code decides.
    [status.FAILED_PRECONDITION, "invalid_sso_state", 400],
    [status.FAILED_PRECONDITION, "invalid_logout_token", 400],
    [status.UNAUTHENTICATED, "invalid_login_code", 401],
    [status.UNAVAILABLE, "sso_provider_unavailable", 503],
    [status.UNAVAILABLE, "service_unavailable", 503],
    [status.UNAVAILABLE, "database_unavailable", 503],
    [status.DEADLINE_EXCEEDED, "deadline_exceeded", 504],
  ])("maps %s with %s to %i keeping the code", (code, detail, http) => {
    const mapped = httpErrorFromGrpc(grpcError(code, detail));
    expect(mapped?.statusCode).toBe(http);
    expect(mapped?.detail).toBe(detail);
  });

  it("answers a status's own fallback for a code outside the catalogue", () => {
    expect(httpErrorFromGrpc(grpcError(status.FAILED_PRECONDITION, "made_up"))).toMatchObject({
      statusCode: 409,
      detail: "conflict",
    });
  });

  it("puts WWW-Authenticate on 401", () => {
    expect(httpErrorFromGrpc(grpcError(status.UNAUTHENTICATED, "x"))?.headers["www-authenticate"]).toBe("Bearer");
  });

  it("replaces grpc-js prose with a stable code", () => {
    const mapped = httpErrorFromGrpc(
      grpcError(status.UNAVAILABLE, "No connection established. Last error: ECONNREFUSED"),
    );
    expect(mapped?.detail).toBe("service_unavailable");
    expect(httpErrorFromGrpc(grpcError(status.DEADLINE_EXCEEDED, "Deadline exceeded after 5.001s"))?.detail).toBe(
      "deadline_exceeded",
    );
  });

  it("carries validation problems and Retry-After", () => {
    const problems = [{ loc: ["body", "nodes", 3, "next"], msg: "unknown node", type: "unknown_node" }];
    const withProblems = new Metadata();
    withProblems.set(ERROR_PROBLEMS_KEY, JSON.stringify(problems));
    expect(httpErrorFromGrpc(grpcError(status.INVALID_ARGUMENT, "validation_error", withProblems))).toMatchObject({
      statusCode: 422,
      detail: problems,
    });
    const withRetry = new Metadata();
    withRetry.set(ERROR_RETRY_AFTER_KEY, "12");
    expect(httpErrorFromGrpc(grpcError(status.RESOURCE_EXHAUSTED, "too_many_attempts", withRetry))).toMatchObject({
      statusCode: 429,
      headers: { "retry-after": "12" },
    });
  });

  it("leaves INTERNAL, UNKNOWN and non-gRPC errors to the 500 path", () => {
    expect(httpErrorFromGrpc(grpcError(status.INTERNAL, "internal_error"))).toBeUndefined();
    expect(httpErrorFromGrpc(grpcError(status.UNKNOWN, "x"))).toBeUndefined();
    expect(httpErrorFromGrpc(new Error("plain"))).toBeUndefined();
  });
});
