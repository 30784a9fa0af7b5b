import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { markdownCell as cell, markdownParagraphs, markdownPerson, markdownText as text } from "./markdown-text.js";
import { answerText, contextEntries, formatDuration, outcomeText, stepTreeText, variableEntries } from "./text.js";
import { wordingFor } from "./wording.js";

/** Every piece of user text goes through markdown-text.ts: the report's own syntax is the only syntax. */
export function markdownReport(session: Session, trees: Tree[]): string {
  const tree = trees[0] as Tree;
  const words = wordingFor(session.locale);
  const lines = [
    `# ${words.report}: ${text(session.tree_title)}`,
    "",
    `- ${words.session}: ${session.id}`,
    `- ${words.tree}: ${text(tree.title)} (${words.version(session.tree_version)})`,
    `- ${words.technician}: ${session.user_name || session.user_email ? markdownPerson(session.user_name, session.user_email) : text(session.user_id)}`,
    `- ${words.started}: ${session.started_at}`,
    `- ${words.completed}: ${session.completed_at ?? words.notYet}`,
    `- ${words.outcome}: ${outcomeText(session)}`,
  ];
  const context = contextEntries(session);
  if (context.length > 0)
    lines.push("", `## ${words.context}`, "", ...context.map(([key, value]) => `- ${text(key)}: ${text(value)}`));
  const variables = variableEntries(session, trees);
  if (variables.length > 0)
    lines.push("", `## ${words.variables}`, "", ...variables.map(([name, value]) => `- ${text(name)}: ${text(value)}`));
  const columns = ["#", words.tree, words.step, words.answer, words.note, words.time];
  lines.push("", `## ${words.steps}`, "", `| ${columns.join(" | ")} |`, "|---|---|---|---|---|---|");
  for (const [index, step] of session.steps.entries()) {
    lines.push(
      `| ${step.seq} | ${cell(stepTreeText(trees, step))} | ${cell(step.node_title)} | ${cell(answerText(session, trees, index))} | ${cell(step.note)} | ${formatDuration(step.duration_ms)} |`,
    );
  }
  if (session.notes) lines.push("", `## ${words.notes}`, "", markdownParagraphs(session.notes));
  return `${lines.join("\n")}\n`;
}
