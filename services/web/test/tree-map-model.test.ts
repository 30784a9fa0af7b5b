/** The pure parts of the tree map: layers by depth, and a 422's problems placed at their nodes. */
import { describe, expect, it } from "vitest";
import { nodeIndexOf, placeOf, problemsByNode } from "../src/node-problems.js";
import { layoutTree, type MapNode } from "../src/tree-layout.js";

const question = (id: string, ...next: string[]): MapNode => ({
  id,
  type: "question",
  title: id,
  options: next.map((target, i) => ({ id: `o${i}`, label: `to ${target}`, next: target })),
});
const solution = (id: string): MapNode => ({ id, type: "solution", title: id });

describe("layoutTree", () => {
  it("puts each node in the layer of its shortest distance from the root, edges labelled by option", () => {
    const nodes = [
      solution("done"),
      question("root", "middle", "done"),
      { id: "middle", type: "action", next: "done" },
    ];
    const layout = layoutTree(nodes, "root");
    expect(layout.layers.map((layer) => layer.map((placed) => placed.node.id))).toEqual([["root"], ["done", "middle"]]);
    expect(layout.hasUnreachable).toBe(false);
    expect(layout.edges).toEqual([
      { from: 1, to: 2, target: "middle", label: "to middle" },
      { from: 1, to: 0, target: "done", label: "to done" },
      { from: 2, to: 0, target: "done", label: "" },
    ]);
  });

  it("draws what a broken draft has: a link to a missing node, an unreachable node, a cycle", () => {
    const nodes = [question("a", "b", "missing"), question("b", "a"), solution("orphan")];
    const layout = layoutTree(nodes, "a");
    expect(layout.layers.map((layer) => layer.map((placed) => placed.node.id))).toEqual([["a"], ["b"], ["orphan"]]);
    expect(layout.hasUnreachable).toBe(true);
    expect(layout.edges.find((edge) => edge.target === "missing")?.to).toBeUndefined();
  });

  it("puts every node in the last layer when the root is missing", () => {
    const layout = layoutTree([solution("x"), solution("y")], "nope");
    expect(layout.layers).toHaveLength(1);
    expect(layout.hasUnreachable).toBe(true);
  });
});

describe("problems at their nodes", () => {
  const nodes = [{ id: "power" }, { id: "paper" }];
  const broken = { loc: ["body", "nodes", 1, "options", 0, "next"], msg: "no node 'x'", type: "reference" };
  const root = { loc: ["body", "root_node_id"], msg: "no such node", type: "reference" };

  it("finds the node a loc names", () => {
    expect(nodeIndexOf(broken.loc)).toBe(1);
    expect(nodeIndexOf(root.loc)).toBeUndefined();
    expect(nodeIndexOf(["query", "nodes", 1])).toBeUndefined();
    expect([...problemsByNode([broken, root]).entries()]).toEqual([[1, [broken]]]);
  });

  it("says where a problem is in words", () => {
    expect(placeOf(broken.loc, nodes)).toBe('node "paper" › options[0] › next');
    expect(placeOf(["body", "nodes", 0], nodes)).toBe('node "power"');
    expect(placeOf(["body", "nodes", 5, "id"], nodes)).toBe("node #6 › id");
    expect(placeOf(root.loc, nodes)).toBe("root_node_id");
  });
});
