import { AppError } from "@tdt/kit";
import { ENUMS, type EnumValue, enumValues } from "@tdt/proto/tdt/contract";
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { csvReport } from "./csv.js";
import { markdownReport } from "./markdown.js";
import { pdfReport } from "./pdf.js";

export const REPORT_FORMATS = enumValues("tdt.sessions.v1.ReportFormat");
export type ReportFormat = EnumValue<"tdt.sessions.v1.ReportFormat">;

export interface ReportFile {
  content: Buffer;
  content_type: string;
  filename: string;
}

const EXTENSIONS: Record<ReportFormat, string> = { json: "json", markdown: "md", csv: "csv", pdf: "pdf" };
/** The media type of each format: the contract's (`media_type` of ReportFormat's values), which the gateway documents. */
const CONTENT_TYPES: Record<ReportFormat, string> = ENUMS["tdt.sessions.v1.ReportFormat"].mediaTypes;

/** A file name that is safe in any Content-Disposition and file system. */
export function reportFilename(session: Session, format: ReportFormat): string {
  const slug = session.tree_title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  return `session-${slug || "report"}-${session.id.slice(0, 8)}.${EXTENSIONS[format]}`;
}

/**
 * The session's report in one of the four formats, as a downloadable file. `trees`: the session's
 * own tree first, then those it entered through links. JSON, Markdown and CSV are built here:
 * linear in the session's text, about what answering the session itself costs (2 ms for 20 steps
 * of 10,000-character notes). A PDF takes a hundred times that, so `renderPdf` is, in the service,
 * the worker pool (pdf-pool.ts).
 */
export async function renderReport(
  session: Session,
  trees: Tree[],
  format: string,
  renderPdf: (session: Session, trees: Tree[]) => Promise<Buffer> = pdfReport,
): Promise<ReportFile> {
  const tree = trees[0] as Tree;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw AppError.invalid([{ loc: ["query", "format"], msg: "Must be json, markdown, csv or pdf", type: "enum" }]);
  }
  const chosen = format as ReportFormat;
  const content =
    chosen === "json"
      ? Buffer.from(JSON.stringify({ session, tree, linked_trees: trees.slice(1) }, null, 2))
      : chosen === "markdown"
        ? Buffer.from(markdownReport(session, trees))
        : chosen === "csv"
          ? Buffer.from(csvReport(session))
          : await renderPdf(session, trees);
  return { content, content_type: CONTENT_TYPES[chosen], filename: reportFilename(session, chosen) };
}
