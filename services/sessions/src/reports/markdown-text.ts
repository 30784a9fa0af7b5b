/**
 * User text made inert in a Markdown report: whatever a technician or an author typed reads as
 * the same text once rendered, never as a heading, list, link, image, HTML tag, table break or
 * code span. HTML's three specials become entities; every character that starts Markdown
 * syntax gets a backslash; a GitHub-flavoured renderer's bare-URL and e-mail autolinks are
 * broken up the same way.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Starts emphasis, code, links and images, tables, strikethrough, headings, e-mail autolinks. */
const SYNTAX = /[\\`*_[\]|~#@]/g;

/** Starts a block when it opens a line: a list item, a setext underline, a thematic break. */
const LINE_START = /^([-+=]|\d+[.)])/;

function inline(text: string): string {
  return text
    .replace(/[&<>]/g, (char) => ENTITIES[char] as string)
    .replace(SYNTAX, "\\$&")
    .replace(/:\/\//g, "\\://")
    .replace(/(www)\./gi, "$1\\.");
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

/** A table cell: as one line, with line breaks kept as `<br>` (a cell holds no newline). */
export function markdownCell(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map(inline)
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
