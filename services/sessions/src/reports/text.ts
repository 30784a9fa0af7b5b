import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { outcomeWord, wordingFor } from "./wording.js";

/**
 * Wording shared by every report format, so they tell the same story, in the session's language
 * (wording.ts).
 */

export function formatDuration(ms: number): string {
  if (ms <= 0) return "";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

export function outcomeText(session: Session): string {
  const words = wordingFor(session.locale);
  if (session.outcome) return outcomeWord(words, session.outcome);
  return session.status === "abandoned" ? words.abandoned : words.inProgress;
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
  const notSet = wordingFor(session.locale).notSet;
  return names.map((name) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    return [name, value === undefined ? notSet : String(value)];
  });
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
  const words = wordingFor(session.locale);
  if (step.outcome) return words.reached(outcomeWord(words, step.outcome));
  if (step.option_label) return step.option_label;
  const node = treeOfStep(trees, step)?.nodes.find((candidate) => candidate.id === step.node_id);
  if (step.rule !== undefined) return step.rule === "default" ? words.noRuleHeld : words.ruleHeld(step.rule);
  if (step.values) {
    return (node?.fields ?? [])
      .filter((field) => step.values?.[field.id] !== undefined)
      .map((field) => `${field.label}: ${String(step.values?.[field.id])}`)
      .join("; ");
  }
  const type = node?.type;
  const last = index === session.steps.length - 1;
  if (type === "question") return words.unanswered;
  if (type === "action" && !last && step.left_at) return words.done;
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
