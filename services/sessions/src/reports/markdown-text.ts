/**
 * User text made inert in a Markdown report: whatever a technician or an author typed reads as
 * the same text once rendered, never as a heading, list, link, image, HTML tag, table break or
 * code span. Only what would change the rendering is escaped, so that the report also reads well
 * as plain text: `<` where it would open a tag or an autolink, `&` where it would be an entity,
 * `_` where it could open emphasis, `@` where a GitHub-flavoured renderer would make an e-mail
 * link, `|` in table cells, and the characters that always start syntax (`` ` * [ ] ~ \ ``); a
 * bare URL's `://` and a `www.` are broken up too. What opens a block at a line's start (a
 * heading, list item, quote, setext underline or thematic break) is escaped there.
 */

/** Always syntax: code spans, emphasis, links and images, strikethrough, escapes. */
const ALWAYS = /[\\`*[\]~]/g;

/** `<` that opens an HTML tag, comment, declaration or autolink. */
const TAG_START = /<(?=[A-Za-z/!?])/g;

/** `&` that a renderer would read as an entity (`&amp;`, `&#39;`, `&#x27;`). */
const ENTITY = /&(?=#?[A-Za-z0-9]+;)/g;

/** `_` that could open or close emphasis: not between two letters or digits (snake_case stays). */
const UNDERSCORE = /(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g;

/** `@` of what a GitHub-flavoured renderer links as an e-mail address. */
const EMAIL_AT = /(?<=[A-Za-z0-9.+_-])@(?=[A-Za-z0-9_-]+\.)/g;

/** Starts a block when it opens a line: a list item, a setext underline, a thematic break, a quote, a heading. */
const LINE_START = /^([-+=>]|\d+[.)]|#)/;

function inline(text: string, options: { cell?: boolean; email?: boolean } = {}): string {
  let escaped = text
    .replace(ALWAYS, "\\$&")
    // Entities first: the `&lt;` made next is meant as one.
    .replace(ENTITY, "&amp;")
    .replace(TAG_START, "&lt;")
    .replace(UNDERSCORE, "\\_")
    .replace(/:\/\//g, "\\://")
    .replace(/(www)\./gi, "$1\\.");
  if (!options.email) escaped = escaped.replace(EMAIL_AT, "\\@");
  if (options.cell) escaped = escaped.replace(/\|/g, "\\|");
  return escaped;
}

/** Text that may open a line, or a list item's content: no indentation, no block marker. */
function lineStart(text: string): string {
  return text.trimStart().replace(LINE_START, (marker) => `${marker.slice(0, -1)}\\${marker.slice(-1)}`);
}

/**
 * One line of text (a title, a label, a context key or value): line breaks become spaces, and
 * it may stand first in a list item, where `- ` or `1. ` would open a list of its own.
 */
export function markdownText(text: string): string {
  return lineStart(inline(text.replace(/\r\n?|\n/g, " ")));
}

/**
 * A person as a report names them: `Name (email)`, the name as one line of text and the address,
 * which the system has proven, left to read (and link) as the address it is.
 */
export function markdownPerson(name: string, email: string): string {
  const shownName = markdownText(name);
  if (!email) return shownName;
  const address = inline(email.replace(/\r\n?|\n/g, " "), { email: true });
  return shownName ? `${shownName} (${address})` : lineStart(address);
}

/** A table cell: as one line, with line breaks kept as `<br>` (a cell holds no newline). */
export function markdownCell(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map((line) => inline(line, { cell: true }))
    .join("<br>");
}

/**
 * Paragraph text (the session's notes) as one paragraph, its line breaks kept as `<br>`. Leading
 * indentation is dropped (four spaces would make a code block), what would open a block at a
 * line's start is escaped, and blank lines go: a line that began with `<br>` would open an HTML
 * block, and a blank one would end the paragraph.
 */
export function markdownParagraphs(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map((line) => lineStart(inline(line)))
    .filter((line) => line !== "")
    .join("<br>\n");
}
