import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import PDFDocument from "pdfkit";
import { type FontFamily, type FontName, fontData, fontHasGlyph, scriptRuns } from "./pdf-fonts.js";
import { mediaIdsOf, type ReportImages } from "./report-images.js";
import {
  answerText,
  contextLines,
  formatDuration,
  outcomeText,
  stepTreeText,
  technicianText,
  treeOfStep,
  variableEntries,
} from "./text.js";
import { wordingFor } from "./wording.js";

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
export function pdfReport(
  session: Session,
  trees: Tree[],
  stopped: () => boolean = () => false,
  images: ReportImages = {},
): Promise<Buffer> {
  const tree = trees[0] as Tree;
  const words = wordingFor(session.locale);
  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    info: { Title: `${words.report}: ${session.tree_title}`, Author: "TDT" },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const write = textWriter(doc, stopped);

  doc.fontSize(18);
  write(`${words.report}: ${session.tree_title}`, { bold: true });
  doc.moveDown(0.5).fontSize(10);
  for (const [label, value] of [
    [words.session, session.id],
    [words.tree, `${tree.title} (${words.version(session.tree_version)})`],
    [words.technician, technicianText(session)],
    [words.started, session.started_at ?? ""],
    [words.completed, session.completed_at ?? words.notYet],
    [words.outcome, outcomeText(session)],
  ]) {
    write(`${label}: `, { bold: true, continued: true });
    write(value ?? "");
  }

  const context = contextLines(session);
  if (context.length > 0) {
    doc.moveDown().fontSize(13);
    write(words.context, { bold: true });
    doc.fontSize(10);
    for (const line of context) write(line);
  }

  const variables = variableEntries(session, trees);
  if (variables.length > 0) {
    doc.moveDown().fontSize(13);
    write(words.variables, { bold: true });
    doc.fontSize(10);
    for (const [name, value] of variables) write(`${name}: ${value}`);
  }

  doc.moveDown().fontSize(13);
  write(words.steps, { bold: true });
  for (const [index, step] of session.steps.entries()) {
    doc.moveDown(0.4).fontSize(11);
    write(`${step.seq}. ${step.node_title}`, { bold: true });
    doc.fontSize(10);
    // The images its node showed (report-images.ts), each as large as fits beside the text.
    const node = treeOfStep(trees, step)?.nodes.find((candidate) => candidate.id === step.node_id);
    for (const id of mediaIdsOf(node?.body ?? "")) {
      const image = images[id];
      if (!image) continue;
      doc.image(Buffer.from(image), { fit: [360, 200] });
      doc.moveDown(0.3);
    }
    write(`${words.tree}: ${stepTreeText(trees, step)}`);
    const answer = answerText(session, trees, index);
    if (answer) write(`${words.answer}: ${answer}`);
    if (step.note) write(`${words.note}: ${step.note}`);
    const time = formatDuration(step.duration_ms);
    if (time) write(`${words.time}: ${time}`);
  }

  if (session.notes) {
    doc.moveDown().fontSize(13);
    write(words.notes, { bold: true });
    doc.fontSize(10);
    write(session.notes);
  }
  doc.end();
  return finished;
}
