/**
 * A 422's problems placed on the tree they came from: a `loc` like
 * ["body","nodes",3,"options",0,"next"] (or, publishing a draft, ["draft","nodes",3,…]) belongs
 * to the node at index 3 of the nodes sent, and reads as `node "paper" › options[0] › next`.
 */
import type { Problem } from "./api-error.js";
import { t } from "./i18n.js";

/** The index of the node a problem is about, if it is about one. */
export function nodeIndexOf(loc: Problem["loc"]): number | undefined {
  if ((loc[0] !== "body" && loc[0] !== "draft") || loc[1] !== "nodes") return undefined;
  const index = Number(loc[2]);
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}

/** The problems of each node, by the node's index in `nodes`. */
export function problemsByNode(problems: Problem[]): Map<number, Problem[]> {
  const byNode = new Map<number, Problem[]>();
  for (const problem of problems) {
    const index = nodeIndexOf(problem.loc);
    if (index === undefined) continue;
    byNode.set(index, [...(byNode.get(index) ?? []), problem]);
  }
  return byNode;
}

/** Where a problem is, for a person: the node by its id, then the rest of the path. */
export function placeOf(loc: Problem["loc"], nodes: Array<{ id?: unknown }>): string {
  const index = nodeIndexOf(loc);
  const path = (parts: Problem["loc"]) =>
    parts.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i > 0 ? " › " : ""}${part}`)).join("");
  if (index === undefined)
    return path(loc[0] === "body" || loc[0] === "draft" ? loc.slice(1) : loc) || t("problems.theTree");
  const id = nodes[index]?.id;
  const node =
    typeof id === "string" && id !== "" ? t("problems.node", { id }) : t("problems.nodeNumber", { number: index + 1 });
  const rest = loc.slice(3);
  return rest.length > 0 ? `${node} › ${path(rest).replace(/^ › /, "")}` : node;
}

/** The rows of a node or a tree an author edits as a list, by the `loc` part naming them. */
const ROWS: Record<string, { row: string; first: string; control?: Record<string, string> }> = {
  options: { row: "option", first: "label" },
  // A field's type is its variable's: a problem with it is one of the variable picked.
  fields: { row: "field", first: "id", control: { type: "variable" } },
  rules: { row: "rule", first: "when" },
  variables: { row: "variable", first: "name" },
};

/** The editor's control of each field of a node, and of the tree's own. */
const CONTROLS: Record<string, string> = {
  id: "node-id",
  type: "node-type",
  title: "node-title",
  body: "node-body",
  next: "node-next",
  outcome: "node-outcome",
  tree_id: "node-tree",
  default_next: "node-default-next",
  language: "tree-language",
};

/**
 * The id of the editor's control a problem is about, from the rest of its `loc` after the node
 * (["rules", 0, "when"] → `rule-when-0`) or after the tree (["variables", 1, "name"] →
 * `variable-name-1`, ["language"] → `tree-language`); a list itself is its Add button's.
 */
export function controlIdOf(path: Problem["loc"]): string | undefined {
  const [first, index, key] = path;
  const rows = typeof first === "string" ? ROWS[first] : undefined;
  if (rows) {
    if (typeof index !== "number") return `add-${rows.row}`;
    const name = typeof key === "string" ? (rows.control?.[key] ?? key) : rows.first;
    return `${rows.row}-${name}-${index}`;
  }
  return typeof first === "string" ? CONTROLS[first] : undefined;
}
