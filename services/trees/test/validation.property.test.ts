import type { Node, Option, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateTree } from "../src/validation.js";
import { junkTree, sparseJunkTree, validTree } from "./support/tree-arbitraries.js";

const RUNS = { numRuns: 200 };

/** Where a `next` lives: a node's own field, or one of its options. */
type NextRef = { node: number; option?: number };

function nextRefs(tree: TreeInput): NextRef[] {
  return tree.nodes.flatMap((node, i): NextRef[] =>
    node.type === "action" ? [{ node: i }] : node.options.map((_, j) => ({ node: i, option: j })),
  );
}

function target(tree: TreeInput, ref: NextRef): string {
  const node = tree.nodes[ref.node] as Node;
  return ref.option === undefined ? (node.next ?? "") : (node.options[ref.option] as Option).next;
}

function setTarget(tree: TreeInput, ref: NextRef, id: string): void {
  const node = tree.nodes[ref.node] as Node;
  if (ref.option === undefined) node.next = id;
  else (node.options[ref.option] as Option).next = id;
}

const indexesWhere = (tree: TreeInput, keep: (node: Node, i: number) => boolean) =>
  tree.nodes.flatMap((node, i) => (keep(node, i) ? [i] : []));

function missingId(tree: TreeInput): string {
  let id = "no-such-node";
  while (tree.nodes.some((node) => node.id === id)) id += "_";
  return id;
}

const at = <T>(items: T[], pick: number): T => items[pick % items.length] as T;

/**
 * One way to break a valid tree. `candidates` are where it can be applied (none: not
 * applicable to this tree); `expected` lists the problem types it may cause, the first of
 * which it must cause.
 */
interface Corruption {
  expected: string[];
  candidates: (tree: TreeInput) => number[];
  apply: (tree: TreeInput, candidate: number, pick: number) => void;
}

const CORRUPTIONS: Record<string, Corruption> = {
  "drop a referenced node": {
    expected: ["unknown_node"],
    candidates: (tree) => indexesWhere(tree, (node) => node.id !== tree.root_node_id),
    apply: (tree, i) => {
      tree.nodes.splice(i, 1);
    },
  },
  "point a next at a missing id": {
    expected: ["unknown_node"],
    candidates: (tree) => nextRefs(tree).map((_, k) => k),
    apply: (tree, k) => setTarget(tree, at(nextRefs(tree), k), missingId(tree)),
  },
  "add an edge back to the root": {
    expected: ["cycle"],
    candidates: (tree) => indexesWhere(tree, (node) => node.type !== "solution"),
    apply: (tree, i) => {
      const node = tree.nodes[i] as Node;
      const back = { id: "back", label: "Start again", next: tree.root_node_id };
      if (node.type === "action") {
        Object.assign(node, {
          type: "question",
          next: undefined,
          options: [{ id: "on", label: "Go on", next: node.next }],
        });
      }
      node.options.push(back);
    },
  },
  "duplicate a node id": {
    expected: ["duplicate_node_id", "unknown_node"],
    candidates: (tree) => (tree.nodes.length > 1 ? indexesWhere(tree, () => true) : []),
    apply: (tree, i, pick) => {
      const other = (i + 1 + (pick % (tree.nodes.length - 1))) % tree.nodes.length;
      (tree.nodes[other] as Node).id = (tree.nodes[i] as Node).id;
    },
  },
  "remove a solution's outcome": {
    expected: ["missing"],
    candidates: (tree) => indexesWhere(tree, (node) => node.type === "solution"),
    apply: (tree, i) => {
      (tree.nodes[i] as Node).outcome = undefined;
    },
  },
  "give a solution a next": {
    expected: ["unexpected_field"],
    candidates: (tree) => indexesWhere(tree, (node) => node.type === "solution"),
    apply: (tree, i, pick) => {
      (tree.nodes[i] as Node).next = at(tree.nodes, pick).id;
    },
  },
  "clear a question's options": {
    expected: ["missing_options"],
    candidates: (tree) => indexesWhere(tree, (node) => node.type === "question"),
    apply: (tree, i) => {
      (tree.nodes[i] as Node).options = [];
    },
  },
  "redirect every edge into a node to a solution": {
    expected: ["unreachable_node"],
    candidates: (tree) => {
      const solutions = indexesWhere(tree, (node) => node.type === "solution");
      return indexesWhere(tree, (node, i) => node.id !== tree.root_node_id && solutions.some((s) => s !== i));
    },
    apply: (tree, i, pick) => {
      const solutions = indexesWhere(tree, (node, s) => node.type === "solution" && s !== i);
      const elsewhere = (tree.nodes[at(solutions, pick)] as Node).id;
      const victim = (tree.nodes[i] as Node).id;
      for (const ref of nextRefs(tree)) if (target(tree, ref) === victim) setTarget(tree, ref, elsewhere);
    },
  },
  "point the root at a missing id": {
    expected: ["unknown_node"],
    candidates: () => [0],
    apply: (tree) => {
      tree.root_node_id = missingId(tree);
    },
  },
  "overlong title": {
    expected: ["string_too_long"],
    candidates: (tree) => [-1, ...tree.nodes.keys()],
    apply: (tree, i, pick) => {
      const title = "x".repeat(201 + (pick % 300));
      if (i === -1) tree.title = title;
      else (tree.nodes[i] as Node).title = title;
    },
  },
};

/** A valid tree, one corruption that applies to it, and where. */
const corruptedTree = validTree.chain((tree) => {
  const applicable = Object.keys(CORRUPTIONS).filter((name) => CORRUPTIONS[name]?.candidates(tree).length);
  return fc.record({
    tree: fc.constant(tree),
    name: fc.constantFrom(...applicable),
    where: fc.nat(),
    pick: fc.nat(),
  });
});

/** The value a problem's `loc` names, or the object that should hold it when the field is absent. */
function resolves(tree: TreeInput, loc: (string | number)[]): boolean {
  let value: unknown = tree;
  for (const key of loc.slice(1, -1)) {
    if (typeof value !== "object" || value === null) return false;
    value = (value as Record<string | number, unknown>)[key];
  }
  return typeof value === "object" && value !== null;
}

describe("validateTree on random trees", () => {
  it("finds nothing wrong with a valid tree", () => {
    fc.assert(
      fc.property(validTree, (tree) => {
        expect(validateTree(tree)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("reports every corruption of a valid tree, as the problem that corruption causes", () => {
    fc.assert(
      fc.property(corruptedTree, ({ tree, name, where, pick }) => {
        const corruption = CORRUPTIONS[name] as Corruption;
        const broken = structuredClone(tree);
        corruption.apply(broken, at(corruption.candidates(broken), where), pick);

        const types = validateTree(broken).map((problem) => problem.type);
        expect(types).toContain(corruption.expected[0]);
        for (const type of types) expect(corruption.expected).toContain(type);
      }),
      RUNS,
    );
  });

  it("never throws on junk, and every problem points into the body with a rule name and a message", () => {
    fc.assert(
      fc.property(fc.oneof(junkTree, sparseJunkTree as fc.Arbitrary<TreeInput>), (tree) => {
        const before = structuredClone(tree);
        const problems = validateTree(tree);
        expect(tree).toEqual(before);
        for (const problem of problems) {
          expect(problem.loc[0]).toBe("body");
          expect(resolves(tree, problem.loc)).toBe(true);
          expect(problem.type).toMatch(/^[a-z]+(_[a-z]+)*$/);
          expect(problem.msg).not.toBe("");
        }
      }),
      RUNS,
    );
  });
});
