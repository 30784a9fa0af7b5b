import { describe, expect, it } from "vitest";
import { inputProblems, jsonNestsDeeperThan, MAX_NESTING_DEPTH } from "../src/grpc/text-guard.js";

/** `{"a": {"a": … 1}}`, `depth` objects deep, built without recursion. */
function nestedObjects(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

describe("NUL characters", () => {
  it("are found at their path in nested objects and arrays", () => {
    expect(inputProblems({ tree: { nodes: [{ title: "ok" }, { title: "a\u0000" }] }, ok: "fine" })).toEqual([
      { loc: ["body", "tree", "nodes", 1, "title"], msg: "The NUL character is not allowed", type: "string_nul" },
    ]);
  });

  it("are found in object keys, at the key", () => {
    expect(inputProblems({ context: { "tick\u0000et": "1", fine: { "\u0000": 2 } } })).toEqual([
      { loc: ["body", "context", "tick\u0000et"], msg: "The NUL character is not allowed in a key", type: "key_nul" },
      { loc: ["body", "context", "fine", "\u0000"], msg: "The NUL character is not allowed in a key", type: "key_nul" },
    ]);
  });

  it("come out in document order", () => {
    const found = inputProblems({ a: "\u0000", b: ["\u0000", { c: "\u0000" }], d: "\u0000" });
    expect(found.map((problem) => problem.loc)).toEqual([
      ["body", "a"],
      ["body", "b", 0],
      ["body", "b", 1, "c"],
      ["body", "d"],
    ]);
  });

  it("leave clean values, numbers, booleans, null and bytes alone", () => {
    expect(inputProblems({ a: 1, b: true, c: null, d: Buffer.from([0]), e: ["x"], f: new Uint8Array([0]) })).toEqual(
      [],
    );
    expect(inputProblems(undefined)).toEqual([]);
  });

  it("use the given root", () => {
    expect(inputProblems({ q: "\u0000" }, ["query"])[0]?.loc).toEqual(["query", "q"]);
  });
});

describe("nesting", () => {
  it("is accepted up to the limit and refused past it, at the first level too deep", () => {
    expect(inputProblems(nestedObjects(MAX_NESTING_DEPTH))).toEqual([]);
    const problems = inputProblems({ context: nestedObjects(MAX_NESTING_DEPTH) });
    expect(problems).toEqual([
      {
        loc: ["body", "context", ...Array(MAX_NESTING_DEPTH - 1).fill("a")],
        msg: `Nested more than ${MAX_NESTING_DEPTH} levels deep`,
        type: "too_deep",
      },
    ]);
  });

  it("never overflows the stack, however deep (20,000 and 1,000,000 levels)", () => {
    for (const depth of [20_000, 1_000_000]) {
      for (const value of [nestedObjects(depth), nestedArrays(depth)]) {
        const problems = inputProblems(value);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatchObject({ type: "too_deep" });
        expect(problems[0]?.loc).toHaveLength(MAX_NESTING_DEPTH + 1);
      }
    }
  });
});

describe("the raw JSON depth scan", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(jsonNestsDeeperThan("[[[]]]", 3)).toBe(false);
    expect(jsonNestsDeeperThan("[[[[]]]]", 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify({ a: "[[[[{{{{", b: '\\"[[[[' }), 3)).toBe(false);
  });

  it("scans a million levels in one pass", () => {
    expect(jsonNestsDeeperThan(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify(nestedObjects(MAX_NESTING_DEPTH)))).toBe(false);
  });
});
