import { status as GrpcStatus, Metadata, type ServiceError } from "@grpc/grpc-js";
import {
  AppError,
  type AppErrorCode,
  ERROR_PROBLEMS_KEY,
  ERROR_RETRY_AFTER_KEY,
  isServiceError,
  MAX_PROBLEMS,
  readServiceError,
  toServiceError,
} from "@tdt/kit";
import { ERROR_CODES, type ErrorCode } from "@tdt/proto/contracts/error-codes";
import { describe, expect, it } from "vitest";

/** What a client receives for a server-side error, minus the transport. */
function asReceived(sent: Partial<ServiceError>): ServiceError {
  return Object.assign(new Error(sent.details ?? ""), {
    code: sent.code ?? GrpcStatus.UNKNOWN,
    details: sent.details ?? "",
    metadata: sent.metadata ?? new Metadata(),
  });
}

describe("AppError", () => {
  it("is an Error whose message is its code", () => {
    const error = new AppError("version_conflict");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("AppError");
    expect(error.message).toBe("version_conflict");
    expect(error.grpcStatus).toBe(GrpcStatus.ABORTED);
    expect(error.extra).toEqual({});
  });

  it("AppError.invalid carries the problems under validation_error", () => {
    const problems = [{ loc: ["body", "email"], msg: "not an email", type: "value_error" }];
    const error = AppError.invalid(problems);
    expect(error.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error.code).toBe("validation_error");
    expect(error.extra.problems).toEqual(problems);
  });
});

describe("toServiceError", () => {
  it.each<[AppErrorCode, GrpcStatus]>([
    ["validation_error", GrpcStatus.INVALID_ARGUMENT],
    ["token_expired", GrpcStatus.UNAUTHENTICATED],
    ["forbidden", GrpcStatus.PERMISSION_DENIED],
    ["not_found", GrpcStatus.NOT_FOUND],
    ["stale_step", GrpcStatus.ABORTED],
    ["too_many_attempts", GrpcStatus.RESOURCE_EXHAUSTED],
    ["database_unavailable", GrpcStatus.UNAVAILABLE],
  ])("maps %s (by its status in the catalogue) to gRPC status %i with the code as details", (code, status) => {
    const mapped = toServiceError(new AppError(code));
    expect(mapped.code).toBe(status);
    expect(mapped.details).toBe(code);
  });

  it("maps every code a service may raise to the gRPC status the gateway turns back into its HTTP status", () => {
    // A gRPC status may carry codes of several HTTP statuses: the code then says which.
    const back: Record<number, number[]> = {
      [GrpcStatus.UNAUTHENTICATED]: [401],
      [GrpcStatus.PERMISSION_DENIED]: [403],
      [GrpcStatus.NOT_FOUND]: [404],
      [GrpcStatus.ABORTED]: [409],
      [GrpcStatus.INVALID_ARGUMENT]: [415, 422],
      [GrpcStatus.RESOURCE_EXHAUSTED]: [413, 429],
      [GrpcStatus.UNAVAILABLE]: [503],
    };
    const raisable = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) =>
      Object.values(back).flat().includes(ERROR_CODES[code].status),
    );
    expect(raisable.length).toBeGreaterThan(15);
    for (const code of raisable) {
      expect(back[new AppError(code as AppErrorCode).grpcStatus], code).toContain(ERROR_CODES[code].status);
    }
  });

  it("puts problems and retry-after into metadata", () => {
    const problems = [{ loc: ["body", 0], msg: "m", type: "t" }];
    const mapped = toServiceError(new AppError("validation_error", { problems, retryAfterSeconds: 0 }));
    expect(mapped.metadata?.get(ERROR_PROBLEMS_KEY)).toEqual([JSON.stringify(problems)]);
    // Zero is a value, not "unset".
    expect(mapped.metadata?.get(ERROR_RETRY_AFTER_KEY)).toEqual(["0"]);
  });

  it.each([
    ["an Error", new Error("password=hunter2 in a stack")],
    ["a string", "boom"],
    ["undefined", undefined],
    ["an AppError look-alike", { kind: "conflict", code: "version_conflict", extra: {} }],
  ])("turns %s into INTERNAL internal_error without leaking it", (_label, thrown) => {
    const mapped = toServiceError(thrown);
    expect(mapped.code).toBe(GrpcStatus.INTERNAL);
    expect(mapped.details).toBe("internal_error");
    expect(mapped.metadata?.getMap()).toEqual({});
  });
});

describe("readServiceError", () => {
  it("reads back what toServiceError sent", () => {
    const problems = [{ loc: ["body", "x"], msg: "m", type: "t" }];
    const sent = toServiceError(new AppError("too_many_attempts", { problems, retryAfterSeconds: 7 }));
    expect(readServiceError(asReceived(sent))).toEqual({
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      detail: "too_many_attempts",
      problems,
      retryAfterSeconds: 7,
    });
  });

  it("leaves out problems and retry-after when none were sent", () => {
    const read = readServiceError(asReceived(toServiceError(new AppError("not_found"))));
    expect(read).toEqual({ code: GrpcStatus.NOT_FOUND, detail: "not_found" });
  });

  it("falls back to internal_error when the error has no details", () => {
    expect(readServiceError(asReceived({ code: GrpcStatus.UNAVAILABLE, details: "" })).detail).toBe("internal_error");
  });
});

describe("isServiceError", () => {
  it("recognises an error with a code and metadata", () => {
    expect(isServiceError(asReceived({ code: GrpcStatus.ABORTED, details: "x" }))).toBe(true);
  });

  it.each([
    ["a plain Error", new Error("x")],
    ["null", null],
    ["a string", "x"],
    ["an AppError", new AppError("conflict")],
  ])("rejects %s", (_label, value) => {
    expect(isServiceError(value)).toBe(false);
  });
});

describe("long problem lists", () => {
  it("sends at most MAX_PROBLEMS problems and says how many more there were", () => {
    const problems = Array.from({ length: 2000 }, (_, i) => ({
      loc: ["body", "nodes", i, "id"],
      msg: "Not reachable from the root",
      type: "unreachable_node",
    }));
    const sent = toServiceError(AppError.invalid(problems));
    const read = readServiceError(asReceived(sent));
    expect(read.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(read.problems?.[0]).toEqual(problems[0]);
    expect(read.problems?.at(-1)).toEqual({
      loc: ["body"],
      msg: `${2000 - MAX_PROBLEMS} more problems not shown; fix these first`,
      type: "too_many_problems",
    });
    expect(JSON.stringify(read.problems).length).toBeLessThan(32_000);
  });
});

describe("errors from a downstream service", () => {
  it("pass through with their code and detail", () => {
    const downstream = asReceived({ code: GrpcStatus.NOT_FOUND, details: "not_found", metadata: new Metadata() });
    expect(toServiceError(downstream)).toMatchObject({ code: GrpcStatus.NOT_FOUND, details: "not_found" });
    const slow = asReceived({
      code: GrpcStatus.DEADLINE_EXCEEDED,
      details: "Deadline exceeded",
      metadata: new Metadata(),
    });
    expect(toServiceError(slow)).toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED });
  });

  it("stay internal when they are a downstream bug", () => {
    const broken = asReceived({ code: GrpcStatus.INTERNAL, details: "internal_error", metadata: new Metadata() });
    expect(toServiceError(broken)).toMatchObject({ code: GrpcStatus.INTERNAL, details: "internal_error" });
  });
});
