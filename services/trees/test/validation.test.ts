import { AppError, type Problem } from "@tdt/kit";
import type { Node, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { assertValidTree, TREE_LIMITS, validateTree } from "../src/validation.js";

/** SPEC §5.2's printer example, completed so that it is valid. Indexes are noted for the locs below. */
function printerTree(): TreeInput {
  return {
    title: "Printer does not print",
    description: "For office laser printers.",
    category: "Printers",
    tags: ["laser", "office"],
    status: "published",
    root_node_id: "power",
    change_note: "First version",
    variables: [],
    language: "en",
    nodes: [
      question("power", "Is the power light on?", { yes: "paper", no: "plug" }), // 0
      action("plug", "Plug the printer in and switch it on", "power2"), // 1
      question("power2", "Is the power light on now?", { yes: "paper", no: "service" }), // 2
      question("paper", "Is there paper in the tray?", { yes: "toner", no: "load" }), // 3
      action("load", "Load paper into the tray", "printed"), // 4
      question("toner", "Does the toner light blink?", { yes: "done", no: "service" }), // 5
      solution("done", "Replace the toner cartridge", "resolved"), // 6
      solution("printed", "Printing resumed", "resolved"), // 7
      solution("service", "Call the service desk", "escalated"), // 8
    ],
  };
}

function question(id: string, title: string, options: Record<string, string>): Node {
  const list = Object.entries(options).map(([option, next]) => ({ id: option, label: option, next }));
  return { id, type: "question", title, body: "", options: list, fields: [], rules: [] };
}

function action(id: string, title: string, next: string): Node {
  return { id, type: "action", title, body: "Do it.", options: [], fields: [], rules: [], next };
}

function solution(id: string, title: string, outcome: string): Node {
  return { id, type: "solution", title, body: "", options: [], fields: [], rules: [], outcome };
}

/** The printer tree after `change`, validated; problems without their messages. */
function problemsAfter(change: (tree: TreeInput) => void): Pick<Problem, "loc" | "type">[] {
  const tree = printerTree();
  change(tree);
  return summary(validateTree(tree));
}

const summary = (problems: Problem[]) => problems.map(({ loc, type }) => ({ loc, type }));

const node = (tree: TreeInput, i: number): Node => tree.nodes[i] as Node;

/** A chain of actions ending in a solution: n0 → n1 → … → n(count-1). */
function chain(count: number): TreeInput {
  const nodes = Array.from({ length: count - 1 }, (_, i) => action(`n${i}`, `Step ${i}`, `n${i + 1}`));
  nodes.push(solution(`n${count - 1}`, "Done", "resolved"));
  return { ...printerTree(), root_node_id: "n0", nodes };
}

describe("a valid tree", () => {
  it("has no problems", () => {
    expect(validateTree(printerTree())).toEqual([]);
  });

  it("may be a single solution", () => {
    const tree = { ...printerTree(), root_node_id: "only", nodes: [solution("only", "Restart it", "resolved")] };
    expect(validateTree(tree)).toEqual([]);
  });

  it("may leave optional text empty, and sends empty optional fields as empty strings", () => {
    const tree = printerTree();
    Object.assign(tree, { description: "", change_note: "", tags: [] });
    Object.assign(node(tree, 6), { body: "", next: "" });
    Object.assign(node(tree, 1), { outcome: "" });
    expect(validateTree(tree)).toEqual([]);
  });

  it("may be JSON that leaves empty fields out, like SPEC's example and proto3 JSON", () => {
    const json = `{"title": "Printer does not print", "category": "Printers", "status": "draft", "root_node_id": "power",
      "nodes": [
        {"id": "power", "type": "question", "title": "Is the power light on?", "body": "markdown",
         "options": [{"id": "yes", "label": "Yes", "next": "done"}, {"id": "no", "label": "No", "next": "plug"}]},
        {"id": "plug", "type": "action", "title": "Plug the printer in and switch it on", "next": "power2"},
        {"id": "power2", "type": "question", "title": "Is it on now?",
         "options": [{"id": "yes", "label": "Yes", "next": "done"}, {"id": "no", "label": "No", "next": "service"}]},
        {"id": "done", "type": "solution", "title": "Replace the toner cartridge", "outcome": "resolved"},
        {"id": "service", "type": "solution", "title": "Call the service desk", "outcome": "escalated"}
      ]}`;
    const tree = JSON.parse(json) as TreeInput;
    expect(validateTree(tree)).toEqual([]);
    expect(summary(validateTree({ ...tree, nodes: [{ id: "power", type: "question" } as Node] }))).toEqual([
      { loc: ["body", "nodes", 0, "title"], type: "string_too_short" },
      { loc: ["body", "nodes", 0, "options"], type: "missing_options" },
    ]);
  });

  it("counts characters as code points, not UTF-16 units", () => {
    const tree = printerTree();
    tree.title = "🖨".repeat(TREE_LIMITS.titleMax);
    expect(validateTree(tree)).toEqual([]);
  });
});

describe("document fields", () => {
  it.each([
    ["title", "", "string_too_short"],
    ["title", "   ", "string_too_short"],
    ["title", "x".repeat(201), "string_too_long"],
    ["description", "x".repeat(20_001), "string_too_long"],
    ["category", "", "string_too_short"],
    ["category", "x".repeat(101), "string_too_long"],
    ["status", "archived", "enum"],
    ["status", "", "enum"],
    ["change_note", "x".repeat(1_001), "string_too_long"],
  ] as const)("%s = %j gives %s", (field, value, type) => {
    expect(problemsAfter((tree) => Object.assign(tree, { [field]: value }))).toEqual([{ loc: ["body", field], type }]);
  });

  it("accepts the longest allowed values", () => {
    const tree = printerTree();
    Object.assign(tree, {
      title: "x".repeat(200),
      description: "x".repeat(20_000),
      category: "x".repeat(100),
      tags: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(50, "x")),
      change_note: "x".repeat(1_000),
    });
    expect(validateTree(tree)).toEqual([]);
  });

  it.each([
    ["", "string_too_short"],
    [" ", "string_too_short"],
    ["x".repeat(51), "string_too_long"],
    ["laser", "duplicate_tag"],
  ])("the tag %j gives %s at its index", (tag, type) => {
    expect(problemsAfter((tree) => tree.tags.push(tag))).toEqual([{ loc: ["body", "tags", 2], type }]);
  });

  it("allows at most 20 tags", () => {
    const tags = Array.from({ length: 21 }, (_, i) => `tag${i}`);
    expect(problemsAfter((tree) => Object.assign(tree, { tags }))).toEqual([
      { loc: ["body", "tags"], type: "too_many_tags" },
    ]);
  });
});

describe("the root", () => {
  it("must name a node", () => {
    expect(problemsAfter((tree) => Object.assign(tree, { root_node_id: "nowhere" }))).toEqual([
      { loc: ["body", "root_node_id"], type: "unknown_node" },
    ]);
  });

  it("is required", () => {
    expect(problemsAfter((tree) => Object.assign(tree, { root_node_id: "" }))).toEqual([
      { loc: ["body", "root_node_id"], type: "missing" },
    ]);
  });
});

describe("node list", () => {
  it("needs at least one node", () => {
    expect(problemsAfter((tree) => Object.assign(tree, { nodes: [] }))).toEqual([
      { loc: ["body", "nodes"], type: "missing_nodes" },
      { loc: ["body", "root_node_id"], type: "unknown_node" },
    ]);
  });

  it("holds 2,000 nodes at most, and says so without examining them", () => {
    expect(TREE_LIMITS.maxNodes).toBe(2_000);
    expect(summary(validateTree(chain(2_001)))).toEqual([{ loc: ["body", "nodes"], type: "too_many_nodes" }]);
    const huge = { ...chain(3), nodes: Array.from({ length: 50_000 }, (_, i) => action("", "", `${i}`)) };
    expect(summary(validateTree(huge))).toEqual([{ loc: ["body", "nodes"], type: "too_many_nodes" }]);
  });
});

describe("every node", () => {
  it.each([["has space"], ["dön"], [""], ["x".repeat(65)], ["a/b"]])("rejects the id %j", (id) => {
    const problems = problemsAfter((tree) => {
      node(tree, 6).id = id;
      (node(tree, 5).options[0] as { next: string }).next = id || "done";
    });
    expect(problems).toContainEqual({ loc: ["body", "nodes", 6, "id"], type: "node_id_pattern" });
  });

  it("accepts ids of letters, digits, '_', '.' and '-', up to 64", () => {
    const id = `A-z_0.9${"x".repeat(57)}`;
    const problems = problemsAfter((tree) => {
      node(tree, 6).id = id;
      (node(tree, 5).options[0] as { next: string }).next = id;
    });
    expect(problems).toEqual([]);
  });

  it("reports a pattern problem alone when the references follow the id", () => {
    const problems = problemsAfter((tree) => {
      node(tree, 6).id = "toner cartridge";
      (node(tree, 5).options[0] as { next: string }).next = "toner cartridge";
    });
    expect(problems).toEqual([{ loc: ["body", "nodes", 6, "id"], type: "node_id_pattern" }]);
  });

  it("has a unique id: the later duplicate is reported, and no graph check guesses which one is meant", () => {
    expect(problemsAfter((tree) => tree.nodes.push(solution("plug", "Another plug", "resolved")))).toEqual([
      { loc: ["body", "nodes", 9, "id"], type: "duplicate_node_id" },
    ]);
  });

  it("reports every repeat of an id", () => {
    const problems = problemsAfter((tree) => {
      tree.nodes.push(solution("done", "Again", "resolved"), solution("done", "And again", "resolved"));
    });
    expect(problems).toEqual([
      { loc: ["body", "nodes", 9, "id"], type: "duplicate_node_id" },
      { loc: ["body", "nodes", 10, "id"], type: "duplicate_node_id" },
    ]);
  });

  it.each([["decision"], [""], ["Question"]])("has a known type, not %j", (type) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 4), { type }))).toEqual([
      { loc: ["body", "nodes", 4, "type"], type: "enum" },
    ]);
  });

  it.each([
    ["title", "", "string_too_short"],
    ["title", "\n\t", "string_too_short"],
    ["title", "x".repeat(201), "string_too_long"],
    ["body", "x".repeat(20_001), "string_too_long"],
  ] as const)("has %s = %j → %s", (field, value, type) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 3), { [field]: value }))).toEqual([
      { loc: ["body", "nodes", 3, field], type },
    ]);
  });

  it("may have a body of 20,000 characters", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 3), { body: "x".repeat(20_000) }))).toEqual([]);
  });
});

describe("a question", () => {
  it("needs at least one option (and its lost targets are not reported as unreachable)", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 3), { options: [] }))).toEqual([
      { loc: ["body", "nodes", 3, "options"], type: "missing_options" },
    ]);
  });

  it("has unique option ids", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0).options[1] as object, { id: "yes" }))).toEqual([
      { loc: ["body", "nodes", 0, "options", 1, "id"], type: "duplicate_option_id" },
    ]);
  });

  it("allows the same option id in different nodes, and two options leading to the same node", () => {
    const problems = problemsAfter((tree) => {
      node(tree, 0).options.push({ id: "unsure", label: "Not sure", next: "plug" });
    });
    expect(problems).toEqual([]);
  });

  it.each([["y es"], [""], ["x".repeat(65)]])("rejects the option id %j", (id) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0).options[0] as object, { id }))).toEqual([
      { loc: ["body", "nodes", 0, "options", 0, "id"], type: "option_id_pattern" },
    ]);
  });

  it.each([
    ["", "string_too_short"],
    ["x".repeat(201), "string_too_long"],
  ])("has a label of 1..200 characters, not %j", (label, type) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0).options[0] as object, { label }))).toEqual([
      { loc: ["body", "nodes", 0, "options", 0, "label"], type },
    ]);
  });

  it("leads each option to an existing node", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0).options[0] as object, { next: "nowhere" }))).toEqual([
      { loc: ["body", "nodes", 0, "options", 0, "next"], type: "unknown_node" },
    ]);
  });

  it("needs each option's next", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0).options[1] as object, { next: "" }))).toEqual([
      { loc: ["body", "nodes", 0, "options", 1, "next"], type: "missing" },
    ]);
  });

  it.each([
    ["next", "plug"],
    ["outcome", "resolved"],
  ])("has no %s", (field, value) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 0), { [field]: value }))).toEqual([
      { loc: ["body", "nodes", 0, field], type: "unexpected_field" },
    ]);
  });
});

describe("an action", () => {
  it.each([[undefined], [""]])("needs next (not %j)", (next) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 1), { next }))).toEqual([
      { loc: ["body", "nodes", 1, "next"], type: "missing" },
    ]);
  });

  it("leads to an existing node; what it would have reached is not reported unreachable", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 1), { next: "power3" }))).toEqual([
      { loc: ["body", "nodes", 1, "next"], type: "unknown_node" },
    ]);
  });

  it("has no options", () => {
    const options = [{ id: "ok", label: "OK", next: "power2" }];
    expect(problemsAfter((tree) => Object.assign(node(tree, 1), { options }))).toEqual([
      { loc: ["body", "nodes", 1, "options"], type: "unexpected_field" },
    ]);
  });

  it("has no outcome", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 1), { outcome: "resolved" }))).toEqual([
      { loc: ["body", "nodes", 1, "outcome"], type: "unexpected_field" },
    ]);
  });
});

describe("a solution", () => {
  it.each([[undefined], [""]])("needs an outcome (not %j)", (outcome) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 6), { outcome }))).toEqual([
      { loc: ["body", "nodes", 6, "outcome"], type: "missing" },
    ]);
  });

  it.each([["fixed"], ["Resolved"]])("has outcome resolved or escalate, not %j", (outcome) => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 6), { outcome }))).toEqual([
      { loc: ["body", "nodes", 6, "outcome"], type: "enum" },
    ]);
  });

  it("has no next (and a next back to the root is not counted as a cycle)", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 6), { next: "power" }))).toEqual([
      { loc: ["body", "nodes", 6, "next"], type: "unexpected_field" },
    ]);
  });

  it("has no options", () => {
    const options = [{ id: "again", label: "Again", next: "power" }];
    expect(problemsAfter((tree) => Object.assign(node(tree, 6), { options }))).toEqual([
      { loc: ["body", "nodes", 6, "options"], type: "unexpected_field" },
    ]);
  });
});

describe("the graph", () => {
  it("has no cycles: the edge that closes one is reported", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 5).options[1] as object, { next: "power" }))).toEqual([
      { loc: ["body", "nodes", 5, "options", 1, "next"], type: "cycle" },
    ]);
  });

  it("reports each cycle once", () => {
    const problems = problemsAfter((tree) => {
      Object.assign(node(tree, 5).options[1] as object, { next: "paper" });
      node(tree, 2).options.push({ id: "again", label: "Again", next: "plug" });
    });
    expect(problems).toEqual([
      { loc: ["body", "nodes", 5, "options", 1, "next"], type: "cycle" },
      { loc: ["body", "nodes", 2, "options", 2, "next"], type: "cycle" },
    ]);
  });

  it("finds a cycle even where references are broken elsewhere", () => {
    const problems = problemsAfter((tree) => {
      Object.assign(node(tree, 1), { next: "nowhere" });
      Object.assign(node(tree, 5).options[1] as object, { next: "toner" });
    });
    expect(problems).toEqual([
      { loc: ["body", "nodes", 1, "next"], type: "unknown_node" },
      { loc: ["body", "nodes", 5, "options", 1, "next"], type: "cycle" },
    ]);
  });

  it("finds a cycle in a part the root does not reach", () => {
    const problems = problemsAfter((tree) => {
      tree.nodes.push(action("x", "X", "y"), action("y", "Y", "x"));
    });
    expect(problems).toEqual([
      { loc: ["body", "nodes", 10, "next"], type: "cycle" },
      { loc: ["body", "nodes", 9, "id"], type: "unreachable_node" },
      { loc: ["body", "nodes", 10, "id"], type: "unreachable_node" },
    ]);
  });

  it("reaches every node from the root", () => {
    expect(problemsAfter((tree) => tree.nodes.push(solution("orphan", "Nobody gets here", "resolved")))).toEqual([
      { loc: ["body", "nodes", 9, "id"], type: "unreachable_node" },
    ]);
  });

  it("reports a node whose only incoming edge was redirected", () => {
    expect(problemsAfter((tree) => Object.assign(node(tree, 5).options[0] as object, { next: "service" }))).toEqual([
      { loc: ["body", "nodes", 6, "id"], type: "unreachable_node" },
    ]);
  });

  it("ends every path at a solution: a loop with no way out is a cycle and a dead end", () => {
    // With every `next` valid, only a cycle can keep a node from every solution.
    expect(problemsAfter((tree) => Object.assign(node(tree, 4), { next: "load" }))).toEqual([
      { loc: ["body", "nodes", 4, "next"], type: "cycle" },
      { loc: ["body", "nodes", 7, "id"], type: "unreachable_node" },
      { loc: ["body", "nodes", 4, "id"], type: "dead_end" },
    ]);
  });

  it("reports a tree of nothing but a loop", () => {
    const tree = { ...printerTree(), root_node_id: "a", nodes: [action("a", "A", "b"), action("b", "B", "a")] };
    expect(summary(validateTree(tree))).toEqual([
      { loc: ["body", "nodes", 1, "next"], type: "cycle" },
      { loc: ["body", "nodes", 0, "id"], type: "dead_end" },
      { loc: ["body", "nodes", 1, "id"], type: "dead_end" },
    ]);
  });
});

describe("many problems", () => {
  it("are all reported together, in document order", () => {
    const problems = problemsAfter((tree) => {
      tree.title = "";
      tree.status = "live";
      node(tree, 0).id = "power on";
      Object.assign(node(tree, 3).options[0] as object, { label: "" });
      Object.assign(node(tree, 6), { outcome: undefined, next: "power" });
    });
    expect(problems).toEqual([
      { loc: ["body", "title"], type: "string_too_short" },
      { loc: ["body", "status"], type: "enum" },
      { loc: ["body", "root_node_id"], type: "unknown_node" },
      { loc: ["body", "nodes", 0, "id"], type: "node_id_pattern" },
      { loc: ["body", "nodes", 3, "options", 0, "label"], type: "string_too_short" },
      { loc: ["body", "nodes", 6, "outcome"], type: "missing" },
      { loc: ["body", "nodes", 6, "next"], type: "unexpected_field" },
    ]);
  });

  it("come with a message for people", () => {
    const [problem] = validateTree({ ...printerTree(), root_node_id: "nowhere" });
    expect(problem).toEqual({ loc: ["body", "root_node_id"], type: "unknown_node", msg: 'No node has id "nowhere"' });
  });
});

describe("2,000 nodes", () => {
  it("a chain of actions ending in a solution is valid", () => {
    expect(validateTree(chain(2_000))).toEqual([]);
  });

  it("a wide fan-out of questions is valid", () => {
    const leaves = Array.from({ length: 1_999 }, (_, i) => solution(`leaf${i}`, `Leaf ${i}`, "resolved"));
    const root = question("root", "Which one?", Object.fromEntries(leaves.map((leaf) => [leaf.id, leaf.id])));
    expect(validateTree({ ...printerTree(), root_node_id: "root", nodes: [root, ...leaves] })).toEqual([]);
  });

  it("a binary tree of questions is valid", () => {
    const nodes = Array.from({ length: 2_000 }, (_, i) => {
      const children = [2 * i + 1, 2 * i + 2].filter((child) => child < 2_000);
      if (children.length === 0) return solution(`q${i}`, `Answer ${i}`, "escalated");
      return question(
        `q${i}`,
        `Question ${i}`,
        Object.fromEntries(children.map((child) => [`to${child}`, `q${child}`])),
      );
    });
    expect(validateTree({ ...printerTree(), root_node_id: "q0", nodes })).toEqual([]);
  });

  it("a ladder with exponentially many paths is valid (no path enumeration)", () => {
    const nodes = Array.from({ length: 1_999 }, (_, i) =>
      question(`r${i}`, `Rung ${i}`, { a: `r${i + 1}`, b: `r${Math.min(i + 2, 1_999)}` }),
    );
    nodes.push(solution("r1999", "Top", "resolved"));
    expect(validateTree({ ...printerTree(), root_node_id: "r0", nodes: nodes.reverse() })).toEqual([]);
  });

  it("a deep chain with one edge back to the start has exactly one cycle", () => {
    const tree = chain(2_000);
    tree.nodes[1_000] = question("n1000", "Again?", { on: "n1001", back: "n0" });
    expect(summary(validateTree(tree))).toEqual([
      { loc: ["body", "nodes", 1_000, "options", 1, "next"], type: "cycle" },
    ]);
  });
});

describe("huge values", () => {
  it("are reported without echoing them whole", () => {
    const tree = printerTree();
    tree.title = "x".repeat(1_000_000);
    tree.root_node_id = "y".repeat(1_000_000);
    const problems = validateTree(tree);
    expect(summary(problems)).toEqual([
      { loc: ["body", "title"], type: "string_too_long" },
      { loc: ["body", "root_node_id"], type: "unknown_node" },
    ]);
    expect(problems.every((problem) => problem.msg.length < 200)).toBe(true);
  });
});

describe("assertValidTree", () => {
  it("passes a valid tree", () => {
    expect(() => assertValidTree(printerTree())).not.toThrow();
  });

  it("throws an invalid AppError carrying every problem", () => {
    const tree = { ...printerTree(), title: "", root_node_id: "nowhere" };
    let thrown: unknown;
    try {
      assertValidTree(tree);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: "validation_error" });
    expect((thrown as AppError).extra.problems).toEqual(validateTree(tree));
    expect((thrown as AppError).extra.problems).toHaveLength(2);
  });
});
