import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import PDFDocument from "pdfkit";
import { answerText, contextLines, formatDuration, outcomeText, stepTreeText, technicianText } from "./text.js";

/** The report as a readable PDF: header facts, context, each step with answer, note and time. */
export function pdfReport(session: Session, trees: Tree[]): Promise<Buffer> {
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

  doc.fontSize(18).font("Helvetica-Bold").text(`Troubleshooting report: ${session.tree_title}`);
  doc.moveDown(0.5).fontSize(10).font("Helvetica");
  for (const [label, value] of [
    ["Session", session.id],
    ["Tree", `${tree.title} (version ${session.tree_version})`],
    ["Technician", technicianText(session)],
    ["Started", session.started_at ?? ""],
    ["Completed", session.completed_at ?? "not yet"],
    ["Outcome", outcomeText(session)],
  ]) {
    doc
      .font("Helvetica-Bold")
      .text(`${label}: `, { continued: true })
      .font("Helvetica")
      .text(value ?? "");
  }

  const context = contextLines(session);
  if (context.length > 0) {
    doc.moveDown().fontSize(13).font("Helvetica-Bold").text("Context");
    doc.fontSize(10).font("Helvetica");
    for (const line of context) doc.text(line);
  }

  doc.moveDown().fontSize(13).font("Helvetica-Bold").text("Steps");
  for (const [index, step] of session.steps.entries()) {
    doc.moveDown(0.4).fontSize(11).font("Helvetica-Bold").text(`${step.seq}. ${step.node_title}`);
    doc.fontSize(10).font("Helvetica");
    doc.text(`Tree: ${stepTreeText(trees, step)}`);
    const answer = answerText(session, trees, index);
    if (answer) doc.text(`Answer: ${answer}`);
    if (step.note) doc.text(`Note: ${step.note}`);
    const time = formatDuration(step.duration_ms);
    if (time) doc.text(`Time: ${time}`);
  }

  if (session.notes) {
    doc.moveDown().fontSize(13).font("Helvetica-Bold").text("Notes");
    doc.fontSize(10).font("Helvetica").text(session.notes);
  }
  doc.end();
  return finished;
}
