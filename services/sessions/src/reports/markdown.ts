import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { answerText, contextLines, formatDuration, outcomeText } from "./text.js";

/** Text in a Markdown table cell: no pipes or line breaks to break the table. */
const cell = (text: string) => text.replaceAll("|", "\\|").replace(/\r?\n/g, "<br>");

export function markdownReport(session: Session, tree: Tree): string {
  const lines = [
    `# Troubleshooting report: ${session.tree_title}`,
    "",
    `- Session: ${session.id}`,
    `- Tree: ${tree.title} (version ${session.tree_version})`,
    `- Technician: ${session.user_id}`,
    `- Started: ${session.started_at}`,
    `- Completed: ${session.completed_at ?? "not yet"}`,
    `- Outcome: ${outcomeText(session)}`,
  ];
  const context = contextLines(session);
  if (context.length > 0) lines.push("", "## Context", "", ...context.map((line) => `- ${line}`));
  lines.push("", "## Steps", "", "| # | Step | Answer | Note | Time |", "|---|---|---|---|---|");
  for (const step of session.steps) {
    lines.push(
      `| ${step.seq} | ${cell(step.node_title)} | ${cell(answerText(step))} | ${cell(step.note)} | ${formatDuration(step.duration_ms)} |`,
    );
  }
  if (session.notes) lines.push("", "## Notes", "", session.notes);
  return `${lines.join("\n")}\n`;
}
