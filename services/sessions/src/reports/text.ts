import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";

/** Wording shared by every report format, so they tell the same story. */

export function formatDuration(ms: number): string {
  if (ms <= 0) return "";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

export function outcomeText(session: Session): string {
  return session.outcome ?? (session.status === "abandoned" ? "abandoned" : "in progress");
}

/** The context object as [key, value] pairs (nested values as JSON). */
export function contextEntries(session: Session): Array<[key: string, value: string]> {
  return Object.entries(session.context ?? {}).map(([key, value]) => [
    key,
    typeof value === "string" ? value : JSON.stringify(value),
  ]);
}

/** The context object as "key: value" lines. */
export function contextLines(session: Session): string[] {
  return contextEntries(session).map(([key, value]) => `${key}: ${value}`);
}

/**
 * Every variable of the session's tree with its value, in the tree's order ("not set" for one
 * without), then any other the session holds (a linked tree's).
 */
export function variableEntries(session: Session, trees: Tree[]): Array<[name: string, value: string]> {
  const values = session.variables ?? {};
  const declared = (trees[0]?.variables ?? []).map((variable) => variable.name);
  const names = [...declared, ...Object.keys(values).filter((name) => !declared.includes(name))];
  return names.map((name) => [name, values[name] === undefined ? "not set" : String(values[name])]);
}

/** The technician by name and email when the session knows them, else by user id. */
export function technicianText(session: Session): string {
  if (!session.user_name && !session.user_email) return session.user_id;
  return session.user_email ? `${session.user_name} <${session.user_email}>`.trim() : session.user_name;
}

/**
 * What the technician did at a step: the answer chosen, "done" for an action they continued past,
 * "unanswered" for a question the session ended at (an escalation, say) or is still waiting at,
 * nothing for a solution or an action the session ended at.
 */
export function answerText(session: Session, trees: Tree[], index: number): string {
  const step = session.steps[index];
  if (!step) return "";
  if (step.outcome) return `reached: ${step.outcome}`;
  if (step.option_label) return step.option_label;
  const node = treeOfStep(trees, step)?.nodes.find((candidate) => candidate.id === step.node_id);
  if (step.rule !== undefined) return step.rule === "default" ? "no rule held: default" : `rule ${step.rule} held`;
  if (step.values) {
    return (node?.fields ?? [])
      .filter((field) => step.values?.[field.id] !== undefined)
      .map((field) => `${field.label}: ${String(step.values?.[field.id])}`)
      .join("; ");
  }
  const type = node?.type;
  const last = index === session.steps.length - 1;
  if (type === "question") return "unanswered";
  if (type === "action" && !last && step.left_at) return "done";
  return "";
}

/** The tree a step's node belongs to, among the session's (its own, and those it entered through links). */
export function treeOfStep(trees: Tree[], step: Session["steps"][number]): Tree | undefined {
  return trees.find((tree) => tree.id === step.tree_id && tree.version === step.tree_version) ?? trees[0];
}

/** A step's tree as a report names it: its title and version. */
export function stepTreeText(trees: Tree[], step: Session["steps"][number]): string {
  const tree = treeOfStep(trees, step);
  const title = tree?.id === step.tree_id ? tree.title : step.tree_id;
  return `${title} v${step.tree_version}`;
}
