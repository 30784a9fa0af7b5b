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
 * One CSV field: quoted when needed, and a leading = + - @ defused so that a spreadsheet never
 * runs a technician's note as a formula.
 */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per step (RFC 4180, CRLF line ends). */
export function csvReport(session: Session): string {
  const rows = session.steps.map((step) =>
    COLUMNS.map((column) => csvField((step as unknown as Record<string, string | number | undefined>)[column] ?? "")),
  );
  return `${[COLUMNS.join(","), ...rows.map((row) => row.join(","))].join("\r\n")}\r\n`;
}
