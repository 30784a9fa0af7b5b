import { bearerToken, requestIdFrom } from "@tdt/kit";
import { describe, expect, it } from "vitest";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("requestIdFrom", () => {
  it.each(["abc-123", "req_1.2:3", "A", "x".repeat(128), "0f8fad5b-d9cb-469f-a165-70867728950e"])(
    "keeps the sane id %j",
    (id) => {
      expect(requestIdFrom(id)).toBe(id);
    },
  );

  it.each([
    ["an empty string", ""],
    ["a space", "has space"],
    ["markup", "<script>alert(1)</script>"],
    ["a newline (log injection)", "abc\nlevel=error"],
    ["non-ASCII", "zürich"],
    ["an id over 128 characters", "x".repeat(129)],
  ])("replaces %s with a new UUID", (_label, junk) => {
    const id = requestIdFrom(junk);
    expect(id).toMatch(UUID);
    expect(id).not.toBe(junk);
  });

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a number", 42],
    ["a Buffer", Buffer.from("abc-123")],
    ["an object", { id: "abc" }],
  ])("replaces %s with a new UUID", (_label, value) => {
    expect(requestIdFrom(value)).toMatch(UUID);
  });

  it("makes a different id each time it has to make one", () => {
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});

describe("bearerToken", () => {
  it("takes the token out of a Bearer header", () => {
    expect(bearerToken("Bearer eyJhbGciOi.payload.sig")).toBe("eyJhbGciOi.payload.sig");
  });

  it("accepts any case of the scheme and surrounding whitespace", () => {
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("BEARER abc")).toBe("abc");
    expect(bearerToken("  Bearer   abc  ")).toBe("abc");
  });

  it.each([
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["the scheme alone", "Bearer"],
    ["the scheme with a blank token", "Bearer   "],
    ["a token with a space in it", "Bearer abc def"],
    ["a bare token", "abc"],
    ["garbage", "%%%"],
    ["an empty string", ""],
  ])("rejects %s", (_label, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });

  it.each([
    ["undefined", undefined],
    ["a number", 7],
    ["a Buffer", Buffer.from("Bearer abc")],
  ])("rejects %s", (_label, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});
