import { status as GrpcStatus } from "@grpc/grpc-js";
import { isDatabaseUnavailable, toServiceError } from "@tdt/kit";
import { describe, expect, it } from "vitest";

/** An error shaped as postgres.js or Node raises it: a message and a string code. */
function withCode(code: string): Error {
  return Object.assign(new Error(`failed: ${code}`), { code });
}

describe("a lost database connection", () => {
  it.each([
    // postgres.js: the socket closed under a query, the pool was ended or destroyed, no connect in time.
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECTION_DESTROYED",
    "CONNECT_TIMEOUT",
    // Node's socket errors.
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENOTFOUND",
    // SQLSTATEs: admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now,
    // too_many_connections, and class 08 connection exceptions.
    "57P01",
    "57P02",
    "57P03",
    "53300",
    "08000",
    "08003",
    "08006",
    "08P01",
  ])("%s is UNAVAILABLE database_unavailable", (code) => {
    expect(isDatabaseUnavailable(withCode(code))).toBe(true);
    const mapped = toServiceError(withCode(code));
    expect(mapped.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(mapped.details).toBe("database_unavailable");
    // Nothing of the driver's message (host, port) travels: only the request not to retry
    // (every replica shares the database; tests/faults/retry-policy.test.ts).
    expect(mapped.metadata?.getMap()).toEqual({ "grpc-retry-pushback-ms": "-1" });
  });

  it("is recognised inside an AggregateError of several addresses", () => {
    const both = new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")], "connect failed");
    expect(toServiceError(both)).toMatchObject({ code: GrpcStatus.UNAVAILABLE, details: "database_unavailable" });
  });
});

describe("a statement cancelled (57014)", () => {
  it("once its call's deadline has passed is DEADLINE_EXCEEDED deadline_exceeded (its statement_timeout)", () => {
    expect(toServiceError(withCode("57014"), { deadline: new Date(Date.now() - 1) })).toMatchObject({
      code: GrpcStatus.DEADLINE_EXCEEDED,
      details: "deadline_exceeded",
    });
  });

  it("before the deadline, or in a call without one, stays INTERNAL (cancelled by hand)", () => {
    for (const deadline of [new Date(Date.now() + 60_000), Number.POSITIVE_INFINITY]) {
      expect(toServiceError(withCode("57014"), { deadline })).toMatchObject({
        code: GrpcStatus.INTERNAL,
        details: "internal_error",
      });
    }
  });
});

describe("other database errors stay INTERNAL", () => {
  it.each([
    ["a syntax error", "42601"],
    ["a unique violation", "23505"],
    ["a serialization failure", "40001"],
    ["a canceled statement", "57014"],
    ["an undefined table", "42P01"],
    ["a class-08 look-alike", "08"],
    ["a lowercase code", "econnreset"],
  ])("%s (%s)", (_label, code) => {
    expect(isDatabaseUnavailable(withCode(code))).toBe(false);
    expect(toServiceError(withCode(code))).toMatchObject({ code: GrpcStatus.INTERNAL, details: "internal_error" });
  });

  it.each([
    ["no code", new Error("boom")],
    ["a numeric code", Object.assign(new Error("grpc"), { code: 14 })],
    ["null", null],
    ["a string", "ECONNRESET"],
    ["an AggregateError of other errors", new AggregateError([new Error("x")])],
  ])("and so does %s", (_label, thrown) => {
    expect(isDatabaseUnavailable(thrown)).toBe(false);
  });
});
