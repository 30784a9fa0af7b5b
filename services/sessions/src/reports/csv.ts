import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";

const COLUMNS = [
  "seq",
  "node_id",
  "node_title",
  "option_id",
  "option_label",
  "note",
  "entered_at",
  "left_at",
  "duration_ms",
  "tree_id",
  "tree_version",
] as const;

/**
 * Where a spreadsheet may start a cell inside one value: after a `;` (the list separator Excel
 * uses for a .csv in German, French and many other locales, where our commas split nothing and our
 * quotes, no longer at a cell's start, quote nothing), a tab (a tab-separated reading), and a line
 * break (which such a reading does not see as quoted either).
 */
const OTHER_CELL_BREAKS = /([;\t\r\n])/;

/**
 * A cell a spreadsheet runs as a formula (OWASP, CSV injection): one that starts with = + - or @,
 * also after spaces or quotes (importers that trim spaces, or read a quote as text, reach it).
 */
const FORMULA = /^[\s"]*[=+\-@]/;

/**
 * `text` with a `'` before every cell that would start a formula, in any locale's reading: a
 * spreadsheet takes a cell that opens with it as text, and does not show it. (Inside a value, a
 * comma reading does show it: "a;'=1". The price of being safe in every reading.) A value that
 * opens with a tab or a carriage return gets one too, as OWASP asks of every cell.
 */
export function defuseFormulas(text: string): string {
  const cells = text
    .split(OTHER_CELL_BREAKS)
    .map((part, index) => (index % 2 === 0 && FORMULA.test(part) ? `'${part}` : part))
    .join("");
  return /^[\t\r]/.test(text) ? `'${cells}` : cells;
}

/**
 * One CSV field (RFC 4180): text defused (defuseFormulas), then quoted when it holds a comma, a
 * semicolon, a tab, a quote or a line break, so that a reader with either separator keeps it whole.
 */
export function csvField(value: string | number): string {
  const text = typeof value === "string" ? defuseFormulas(value) : String(value);
  return /[",;\t\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per step (RFC 4180, CRLF line ends). */
export function csvReport(session: Session): string {
  const rows = session.steps.map((step) =>
    COLUMNS.map((column) => csvField((step as unknown as Record<string, string | number | undefined>)[column] ?? "")),
  );
  return `${[COLUMNS.join(","), ...rows.map((row) => row.join(","))].join("\r\n")}\r\n`;
}
