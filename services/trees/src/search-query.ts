/**
 * Turning what a person typed into a PostgreSQL tsquery: every word must match, the last one
 * as a prefix (it may still be being typed). Pure, so the rules are testable without a database.
 */

import type { Problem } from "@tdt/kit";
import { FIELD_RULES } from "@tdt/proto/tdt/contract";

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * What a search may be: far more than a person types, far less than what costs the database
 * real time (typo correction compares every word with every known word, by trigrams: a 200 KB
 * query took over a second). The length is the contract's (SearchTreesRequest.q), which the
 * gateway's schema reads too; the word count is judged here alone.
 */
export const SEARCH_LIMITS = {
  maxLength: FIELD_RULES["tdt.trees.v1.SearchTreesRequest"].q.string.max_len,
  maxWords: 16,
} as const;

/** The words of a query, lower-cased, at most SEARCH_LIMITS.maxWords. */
export function queryWords(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).slice(0, SEARCH_LIMITS.maxWords);
}

/** A query past SEARCH_LIMITS, as the problem at `query.q`; checked before any word is read. */
export function searchQueryProblems(text: string): Problem[] {
  const loc = ["query", "q"];
  const max = SEARCH_LIMITS.maxLength;
  // Code points, as the gateway counts: an emoji is one character, two UTF-16 units.
  if (text.length > max && (text.length > 2 * max || [...text].length > max)) {
    return [{ loc, msg: `At most ${SEARCH_LIMITS.maxLength} characters`, type: "string_too_long" }];
  }
  const words = text.match(WORD)?.length ?? 0;
  if (words > SEARCH_LIMITS.maxWords) {
    return [{ loc, msg: `At most ${SEARCH_LIMITS.maxWords} words`, type: "too_many_words" }];
  }
  return [];
}

/**
 * A `to_tsquery('english', …)` source from words. Words are letters and digits only, so no
 * tsquery syntax can be injected; the last word is a prefix match.
 */
export function tsquerySource(words: string[]): string {
  return words.map((word, index) => (index === words.length - 1 ? `${word}:*` : word)).join(" & ");
}

/** The words worth remembering for typo correction: three letters or more. */
export function indexWords(texts: string[]): string[] {
  const words = new Set<string>();
  for (const text of texts) {
    for (const word of text.toLowerCase().match(WORD) ?? []) {
      if (word.length >= 3 && word.length <= 40) words.add(word);
    }
  }
  return [...words];
}

/** Every word one swap of two neighbouring letters away ("ruoter" → "urotor", "router", …): a typo trigrams miss. */
export function transpositions(word: string): string[] {
  const letters = [...word];
  const found = new Set<string>();
  for (let i = 0; i + 1 < letters.length; i++) {
    if (letters[i] === letters[i + 1]) continue;
    const swapped = [...letters];
    [swapped[i], swapped[i + 1]] = [swapped[i + 1] as string, swapped[i] as string];
    found.add(swapped.join(""));
  }
  return [...found];
}

/** Where a search hit matched, and the words it matched marked in a snippet of that text. */
export interface SearchMatch {
  field: "title" | "description" | "category" | "tags" | "node";
  node_id: string;
  snippet: string;
  highlights: Array<{ start: number; length: number }>;
}

/** The characters ts_headline marks a matched word with in our query: never in stored text. */
export const HIGHLIGHT_START = "\u0001";
export const HIGHLIGHT_STOP = "\u0002";

/** A snippet as ts_headline marked it: the plain text, and where (in code units) each marked word is. */
export function highlightsOf(marked: string): Pick<SearchMatch, "snippet" | "highlights"> {
  let snippet = "";
  const highlights: SearchMatch["highlights"] = [];
  let start = -1;
  for (const char of marked) {
    if (char === HIGHLIGHT_START) start = snippet.length;
    else if (char === HIGHLIGHT_STOP) {
      if (start >= 0 && snippet.length > start) highlights.push({ start, length: snippet.length - start });
      start = -1;
    } else snippet += char;
  }
  return { snippet, highlights };
}
