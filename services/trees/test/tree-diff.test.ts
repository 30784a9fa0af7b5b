import type { Node } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { diffTrees, type TreeContent } from "../src/tree-diff.js";

const node = (id: string, fields: Partial<Node> = {}): Node => ({
  id,
  type: "action",
  title: id,
  body: "",
  options: [],
  fields: [],
  rules: [],
  next: "end",
  ...fields,
});

const tree = (nodes: Node[], fields: Partial<TreeContent> = {}): TreeContent => ({
  title: "T",
  description: "",
  category: "C",
  tags: [],
  root_node_id: "a",
  variables: [],
  language: "en",
  nodes,
  ...fields,
});

describe("diffTrees", () => {
  it("matches nodes by id: added and removed in their tree's order, changed with the fields that differ", () => {
    const from = tree([node("a"), node("b"), node("c", { title: "Old" })]);
    const to = tree([node("d"), node("a"), node("c", { title: "New", body: "More" }), node("e")], { tags: ["x"] });
    expect(diffTrees(from, to)).toEqual({
      added: ["d", "e"],
      removed: ["b"],
      changed: [{ node_id: "c", fields: ["title", "body"] }],
      fields: ["tags"],
    });
  });

  it("compares options as a whole, by id, label and target, and reads an unset optional field as empty", () => {
    const question = (label: string) =>
      node("q", { type: "question", next: undefined, options: [{ id: "y", label, next: "a" }] });
    expect(diffTrees(tree([question("Yes")]), tree([question("Yes")])).changed).toEqual([]);
    expect(diffTrees(tree([question("Yes")]), tree([question("Yep")])).changed).toEqual([
      { node_id: "q", fields: ["options"] },
    ]);
    expect(diffTrees(tree([node("s", { next: undefined })]), tree([node("s", { next: "" })])).changed).toEqual([]);
  });

  it("takes the first of a repeated id, as validation reports the rest", () => {
    const from = tree([node("a", { title: "One" }), node("a", { title: "Two" })]);
    expect(diffTrees(from, tree([node("a", { title: "One" })]))).toMatchObject({ added: [], removed: [], changed: [] });
  });
});
