/**
 * A 422's problems placed on the tree they came from: a `loc` like
 * ["body","nodes",3,"options",0,"next"] (or, publishing a draft, ["draft","nodes",3,…]) belongs
 * to the node at index 3 of the nodes sent, and reads as `node "paper" › options[0] › next`.
 */
import type { Problem } from "./api-error.js";

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
  if (index === undefined) return path(loc[0] === "body" || loc[0] === "draft" ? loc.slice(1) : loc) || "the tree";
  const id = nodes[index]?.id;
  const node = typeof id === "string" && id !== "" ? `node "${id}"` : `node #${index + 1}`;
  const rest = loc.slice(3);
  return rest.length > 0 ? `${node} › ${path(rest).replace(/^ › /, "")}` : node;
}
