import { describe, expect, it } from "vitest";
import { nulCharacterProblems } from "../src/text-guard.js";

describe("NUL characters", () => {
  it("are found at their path in nested objects and arrays", () => {
    expect(nulCharacterProblems({ tree: { nodes: [{ title: "ok" }, { title: "a\u0000" }] }, ok: "fine" })).toEqual([
      { loc: ["body", "tree", "nodes", 1, "title"], msg: "The NUL character is not allowed", type: "string_nul" },
    ]);
  });

  it("leave clean values, numbers, booleans, null and bytes alone", () => {
    expect(nulCharacterProblems({ a: 1, b: true, c: null, d: Buffer.from([0]), e: ["x"] })).toEqual([]);
    expect(nulCharacterProblems(undefined)).toEqual([]);
  });

  it("use the given root", () => {
    expect(nulCharacterProblems({ q: "\u0000" }, ["query"])[0]?.loc).toEqual(["query", "q"]);
  });
});
