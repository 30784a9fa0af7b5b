import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import PDFDocument from "pdfkit";
import { type FontFamily, type FontName, fontData, fontHasGlyph, scriptRuns } from "./pdf-fonts.js";
import {
  answerText,
  contextLines,
  formatDuration,
  outcomeText,
  stepTreeText,
  technicianText,
  variableEntries,
} from "./text.js";

/**
 * Writes text into `doc` with the fonts of pdf-fonts.ts: each run in its font, a run as long as
 * its font can draw the text, each font registered on first use (so a report without CJK never
 * reads the CJK fonts).
 */
function textWriter(doc: PDFKit.PDFDocument, stopped: () => boolean) {
  const registered = new Set<FontName>();
  return (text: string, options: { bold?: boolean; continued?: boolean } = {}) => {
    const fontOf = (family: FontFamily): FontName => (options.bold ? `${family}-bold` : family);
    const runs = scriptRuns(text, (family, char) => fontHasGlyph(fontOf(family), char));
    if (runs.length === 0) runs.push({ family: "text", text: "" });
    runs.forEach((run, index) => {
      if (stopped()) throw new RenderStopped();
      const font = fontOf(run.family);
      if (!registered.has(font)) {
        doc.registerFont(font, fontData(font));
        registered.add(font);
      }
      doc.font(font).text(run.text, { continued: index < runs.length - 1 || (options.continued ?? false) });
    });
  };
}

/** A render given up on: its caller no longer waits (pdf-pool.ts). */
export class RenderStopped extends Error {
  constructor() {
    super("the PDF report was no longer wanted");
    this.name = "RenderStopped";
  }
}

/**
 * The report as a readable PDF: header facts, context, each step with its tree, answer, note and
 * time. `stopped` is asked before each piece of text: once it says so, the render ends with
 * RenderStopped.
 */
export function pdfReport(session: Session, trees: Tree[], stopped: () => boolean = () => false): Promise<Buffer> {
  const tree = trees[0] as Tree;
  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    info: { Title: `Troubleshooting report: ${session.tree_title}`, Author: "TDT" },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const write = textWriter(doc, stopped);

  doc.fontSize(18);
  write(`Troubleshooting report: ${session.tree_title}`, { bold: true });
  doc.moveDown(0.5).fontSize(10);
  for (const [label, value] of [
    ["Session", session.id],
    ["Tree", `${tree.title} (version ${session.tree_version})`],
    ["Technician", technicianText(session)],
    ["Started", session.started_at ?? ""],
    ["Completed", session.completed_at ?? "not yet"],
    ["Outcome", outcomeText(session)],
  ]) {
    write(`${label}: `, { bold: true, continued: true });
    write(value ?? "");
  }

  const context = contextLines(session);
  if (context.length > 0) {
    doc.moveDown().fontSize(13);
    write("Context", { bold: true });
    doc.fontSize(10);
    for (const line of context) write(line);
  }

  const variables = variableEntries(session, trees);
  if (variables.length > 0) {
    doc.moveDown().fontSize(13);
    write("Variables", { bold: true });
    doc.fontSize(10);
    for (const [name, value] of variables) write(`${name}: ${value}`);
  }

  doc.moveDown().fontSize(13);
  write("Steps", { bold: true });
  for (const [index, step] of session.steps.entries()) {
    doc.moveDown(0.4).fontSize(11);
    write(`${step.seq}. ${step.node_title}`, { bold: true });
    doc.fontSize(10);
    write(`Tree: ${stepTreeText(trees, step)}`);
    const answer = answerText(session, trees, index);
    if (answer) write(`Answer: ${answer}`);
    if (step.note) write(`Note: ${step.note}`);
    const time = formatDuration(step.duration_ms);
    if (time) write(`Time: ${time}`);
  }

  if (session.notes) {
    doc.moveDown().fontSize(13);
    write("Notes", { bold: true });
    doc.fontSize(10);
    write(session.notes);
  }
  doc.end();
  return finished;
}
