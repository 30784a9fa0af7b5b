import { describe, expect, it } from "vitest";
import { HIGHLIGHT_START, HIGHLIGHT_STOP, highlightsOf, transpositions } from "../src/search-query.js";

describe("one swap of neighbouring letters", () => {
  it("gives every word a swap away, once, and nothing for a swap of equal letters", () => {
    expect(transpositions("ruoter")).toContain("router");
    expect(transpositions("abc")).toEqual(["bac", "acb"]);
    expect(transpositions("aab")).toEqual(["aba"]);
    expect(transpositions("a")).toEqual([]);
    // Letters, not UTF-16 units: a word with a character outside the BMP swaps it whole.
    expect(transpositions("é𝔸")).toEqual(["𝔸é"]);
  });
});

describe("a marked snippet", () => {
  const mark = (word: string) => `${HIGHLIGHT_START}${word}${HIGHLIGHT_STOP}`;

  it("becomes plain text with the marked words' offsets", () => {
    const { snippet, highlights } = highlightsOf(`Restart the ${mark("router")}, then the ${mark("routers")}`);
    expect(snippet).toBe("Restart the router, then the routers");
    expect(highlights.map(({ start, length }) => snippet.slice(start, start + length))).toEqual(["router", "routers"]);
  });

  it("counts offsets in UTF-16 units, as JavaScript indexes strings", () => {
    const { snippet, highlights } = highlightsOf(`𝔸 ${mark("Wi-Fi")}`);
    expect(highlights).toEqual([{ start: 3, length: 5 }]);
    expect(snippet.slice(3, 8)).toBe("Wi-Fi");
  });

  it("is the text itself when nothing is marked, and ignores a stray end mark", () => {
    expect(highlightsOf(`plain${HIGHLIGHT_STOP} text`)).toEqual({ snippet: "plain text", highlights: [] });
  });
});
