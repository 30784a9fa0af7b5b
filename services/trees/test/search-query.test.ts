import { describe, expect, it } from "vitest";
import { indexWords, queryWords, tsquerySource } from "../src/search-query.js";

describe("search queries", () => {
  it("keeps letters and digits only, lower-cased, so no tsquery syntax gets through", () => {
    expect(queryWords("Printer's  toner & (jam) | !x:* 42")).toEqual(["printer", "s", "toner", "jam", "x", "42"]);
    expect(queryWords("Café Straße")).toEqual(["café", "straße"]);
    expect(queryWords("  ")).toEqual([]);
  });

  it("bounds the number of words", () => {
    expect(queryWords(Array.from({ length: 50 }, (_, i) => `w${i}`).join(" "))).toHaveLength(12);
  });

  it("requires every word and matches the last as a prefix", () => {
    expect(tsquerySource(["printer", "ton"])).toBe("printer & ton:*");
    expect(tsquerySource(["wifi"])).toBe("wifi:*");
  });

  it("indexes distinct words of three letters or more", () => {
    expect(indexWords(["The printer", "printer is OK", "a b cd efg"]).sort()).toEqual(["efg", "printer", "the"]);
  });
});
