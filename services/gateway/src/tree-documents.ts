import type { Option, Tree, TreeInput, Node as TreeNode } from "@tdt/proto/tdt/trees/v1/trees";

/**
 * Tree documents as HTTP carries them (SPEC §5.2) and as the trees service's messages do.
 * A message has every field of every node type; a document has only those its node's type uses.
 */

/**
 * A node as a document carries it: `options` on a question only, `next` on an action, `outcome`
 * on a solution, `tree_id` (and `next` when it has one) on a link. A request body may put any of them anywhere: the service judges that.
 */
export type NodeDocument = Omit<TreeNode, "options"> & { options?: Option[] };

/** A create or replace body, once its schema (TreeInput) has filled the defaults. */
export type TreeBody = Omit<TreeInput, "nodes"> & { nodes: NodeDocument[] };

export type TreeDocument = Omit<Tree, "nodes"> & { nodes: NodeDocument[] };

/** The body as the service's TreeInput: only the authored fields, each node's links as sent. */
export function treeInputOf(body: TreeBody): TreeInput {
  const { title, description, category, tags, status, root_node_id, change_note } = body;
  return { title, description, category, tags, status, root_node_id, change_note, nodes: body.nodes.map(nodeOf) };
}

function nodeOf({ id, type, title, body, options, next, outcome, tree_id }: NodeDocument): TreeNode {
  return {
    id,
    type,
    title,
    body,
    options: options ?? [],
    // Only when sent: the service reads a link or an outcome where none belongs as a mistake to report.
    ...(next === undefined ? {} : { next }),
    ...(outcome === undefined ? {} : { outcome }),
    ...(tree_id === undefined ? {} : { tree_id }),
  };
}

export function treeDocumentOf(tree: Tree): TreeDocument {
  return { ...tree, nodes: tree.nodes.map(nodeDocumentOf) };
}

/** A node as documents show it, with only the fields its type uses (trees and sessions alike). */
export function nodeDocumentOf({ id, type, title, body, options, next, outcome, tree_id }: TreeNode): NodeDocument {
  const node = { id, type, title, body };
  if (type === "link") return { ...node, tree_id: tree_id ?? "", ...(next ? { next } : {}) };
  if (type === "question") return { ...node, options };
  if (type === "action" && next !== undefined) return { ...node, next };
  if (type === "solution" && outcome !== undefined) return { ...node, outcome };
  return node;
}
