import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { markdownCell as cell, markdownParagraphs, markdownPerson, markdownText as text } from "./markdown-text.js";
import { answerText, contextEntries, formatDuration, outcomeText, stepTreeText, variableEntries } from "./text.js";

/** Every piece of user text goes through markdown-text.ts: the report's own syntax is the only syntax. */
export function markdownReport(session: Session, trees: Tree[]): string {
  const tree = trees[0] as Tree;
  const lines = [
    `# Troubleshooting report: ${text(session.tree_title)}`,
    "",
    `- Session: ${session.id}`,
    `- Tree: ${text(tree.title)} (version ${session.tree_version})`,
    `- Technician: ${session.user_name || session.user_email ? markdownPerson(session.user_name, session.user_email) : text(session.user_id)}`,
    `- Started: ${session.started_at}`,
    `- Completed: ${session.completed_at ?? "not yet"}`,
    `- Outcome: ${outcomeText(session)}`,
  ];
  const context = contextEntries(session);
  if (context.length > 0)
    lines.push("", "## Context", "", ...context.map(([key, value]) => `- ${text(key)}: ${text(value)}`));
  const variables = variableEntries(session, trees);
  if (variables.length > 0)
    lines.push("", "## Variables", "", ...variables.map(([name, value]) => `- ${text(name)}: ${text(value)}`));
  lines.push("", "## Steps", "", "| # | Tree | Step | Answer | Note | Time |", "|---|---|---|---|---|---|");
  for (const [index, step] of session.steps.entries()) {
    lines.push(
      `| ${step.seq} | ${cell(stepTreeText(trees, step))} | ${cell(step.node_title)} | ${cell(answerText(session, trees, index))} | ${cell(step.note)} | ${formatDuration(step.duration_ms)} |`,
    );
  }
  if (session.notes) lines.push("", "## Notes", "", markdownParagraphs(session.notes));
  return `${lines.join("\n")}\n`;
}
