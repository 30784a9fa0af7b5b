import type { Node, TreeDiff, Variable } from "@tdt/proto/tdt/trees/v1/trees";

/** What a diff compares of a tree: its own fields and its nodes. */
export interface TreeContent {
  title: string;
  description: string;
  category: string;
  tags: string[];
  root_node_id: string;
  nodes: Node[];
  variables: Variable[];
  language: string;
}

/** The tree's own fields a diff names, in this order. */
const TREE_FIELDS = ["title", "description", "category", "tags", "root_node_id", "variables", "language"] as const;
/** A node's fields a diff names, in this order (`options`, `fields` and `rules` compared as a whole). */
const NODE_FIELDS = [
  "type",
  "title",
  "body",
  "options",
  "next",
  "outcome",
  "tree_id",
  "fields",
  "rules",
  "default_next",
] as const;

/** A field's value as compared: an unset optional field and an empty one are the same. */
function comparable(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (Array.isArray(value)) {
    // Options compared by what an author sees of them: id, label and target, in order; form fields,
    // rules and variables by all they hold.
    return JSON.stringify(
      value.map((item) =>
        item && typeof item === "object" && "label" in item && "next" in item
          ? [item.id ?? "", item.label ?? "", item.next ?? ""]
          : item,
      ),
    );
  }
  return String(value);
}

/**
 * The differences from `from` to `to`: nodes matched by id (the first of a repeated id, as
 * validation reports the rest), added and removed in their tree's order, changed with the names
 * of their fields that differ; and the tree's own fields that differ.
 */
export function diffTrees(from: TreeContent, to: TreeContent): Omit<TreeDiff, "from" | "to"> {
  const before = firstById(from.nodes);
  const after = firstById(to.nodes);
  const changed: TreeDiff["changed"] = [];
  for (const [id, node] of after) {
    const was = before.get(id);
    if (!was) continue;
    const fields = NODE_FIELDS.filter((field) => comparable(was[field]) !== comparable(node[field]));
    if (fields.length > 0) changed.push({ node_id: id, fields: [...fields] });
  }
  return {
    added: [...after.keys()].filter((id) => !before.has(id)),
    removed: [...before.keys()].filter((id) => !after.has(id)),
    changed,
    fields: TREE_FIELDS.filter((field) => comparable(from[field]) !== comparable(to[field])),
  };
}

function firstById(nodes: Node[]): Map<string, Node> {
  const byId = new Map<string, Node>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  return byId;
}
