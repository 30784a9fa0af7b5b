import { AppError, type Problem } from "@tdt/kit";
import { currentOutcomeSpelling } from "@tdt/proto/contracts/outcomes";
import type { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { validateTree } from "./validation.js";

/**
 * A tree as sent, checked: a 422 listing every problem `problemsOf` finds (by default every rule
 * of a tree; a draft's, only the limits), each `loc` pointing into the body.
 */
export function inputOf(
  sent: TreeInput | undefined,
  problemsOf: (tree: TreeInput) => Problem[] = validateTree,
): TreeInput {
  if (!sent) throw AppError.invalid([{ loc: ["body"], msg: "Field required", type: "missing" }]);
  // An old outcome spelling (`escalate`) is read as today's: only today's are validated and stored.
  const tree = {
    ...sent,
    nodes: sent.nodes.map((node) =>
      node.outcome === undefined ? node : { ...node, outcome: currentOutcomeSpelling(node.outcome) },
    ),
  };
  const problems = problemsOf(tree);
  if (problems.length > 0) throw AppError.invalid(problems);
  return tree;
}

/** A problem at each link's `tree_id` that names no live tree, `loc` from `at` (the body, or a draft). */
export async function unresolvedLinks(
  missingTrees: (ids: string[]) => Promise<string[]>,
  tree: TreeInput,
  at: "body" | "draft" = "body",
): Promise<Problem[]> {
  const links = tree.nodes.flatMap((node, i) =>
    node.type === "link" && node.tree_id ? [{ i, id: node.tree_id }] : [],
  );
  const missing = new Set(await missingTrees(links.map((link) => link.id)));
  return links
    .filter((link) => missing.has(link.id))
    .map((link) => ({ loc: [at, "nodes", link.i, "tree_id"], msg: "No tree has this id", type: "unknown_tree" }));
}

/** Every link must name a live tree: a 422 at each `tree_id` that does not. */
export async function assertLinksResolve(
  missingTrees: (ids: string[]) => Promise<string[]>,
  tree: TreeInput,
): Promise<void> {
  const problems = await unresolvedLinks(missingTrees, tree);
  if (problems.length > 0) throw AppError.invalid(problems);
}
