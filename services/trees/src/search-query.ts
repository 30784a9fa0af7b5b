/**
 * Turning what a person typed into a PostgreSQL tsquery: every word must match, the last one
 * as a prefix (it may still be being typed). Pure, so the rules are testable without a database.
 */

const WORD = /[\p{L}\p{N}]+/gu;
const MAX_WORDS = 12;

/** The words of a query, lower-cased, at most twelve. */
export function queryWords(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).slice(0, MAX_WORDS);
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
