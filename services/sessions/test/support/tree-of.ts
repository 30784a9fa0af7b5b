/** Trees written out for the sessions tests: a node with defaults, a published tree of nodes. */
import type { Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";

export const node = (id: string, type: string, rest: Partial<Node> = {}): Node => ({
  id,
  type,
  title: `Title of ${id}`,
  body: "",
  options: [],
  fields: [],
  rules: [],
  ...rest,
});

export function treeOf(id: string, version: number, root: string, nodes: Node[], title = `Tree ${id}`): Tree {
  return {
    id,
    version,
    title,
    description: "",
    category: "c",
    tags: [],
    variables: [],
    language: "en",
    translations: [],
    status: "published",
    root_node_id: root,
    change_note: "",
    nodes,
    created_by: "u",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
  };
}
