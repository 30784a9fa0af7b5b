import { describe, expect, it } from "vitest";
import { indexWords, queryWords, SEARCH_LIMITS, searchQueryProblems, tsquerySource } from "../src/search-query.js";

describe("search queries", () => {
  it("keeps letters and digits only, lower-cased, so no tsquery syntax gets through", () => {
    expect(queryWords("Printer's  toner & (jam) | !x:* 42")).toEqual(["printer", "s", "toner", "jam", "x", "42"]);
    expect(queryWords("Café Straße")).toEqual(["café", "straße"]);
    expect(queryWords("  ")).toEqual([]);
  });

  it("refuses a query past 200 characters or 16 words, counting code points", () => {
    expect(searchQueryProblems("printer toner")).toEqual([]);
    expect(searchQueryProblems("a".repeat(200))).toEqual([]);
    expect(searchQueryProblems("🖨".repeat(200))).toEqual([]);
    expect(searchQueryProblems("a".repeat(201))).toEqual([
      { loc: ["query", "q"], msg: "At most 200 characters", type: "string_too_long" },
    ]);
    expect(searchQueryProblems("x".repeat(200_000))[0]?.type).toBe("string_too_long");
    expect(searchQueryProblems(Array(16).fill("w").join(" "))).toEqual([]);
    expect(searchQueryProblems(Array(17).fill("w").join(" "))).toEqual([
      { loc: ["query", "q"], msg: "At most 16 words", type: "too_many_words" },
    ]);
  });

  it("bounds the number of words", () => {
    expect(queryWords(Array.from({ length: 50 }, (_, i) => `w${i}`).join(" "))).toHaveLength(SEARCH_LIMITS.maxWords);
  });

  it("requires every word and matches the last as a prefix", () => {
    expect(tsquerySource(["printer", "ton"])).toBe("printer & ton:*");
    expect(tsquerySource(["wifi"])).toBe("wifi:*");
  });

  it("indexes distinct words of three letters or more", () => {
    expect(indexWords(["The printer", "printer is OK", "a b cd efg"]).sort()).toEqual(["efg", "printer", "the"]);
  });
});
