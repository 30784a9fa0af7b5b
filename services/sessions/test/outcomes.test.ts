/**
 * The step engine's outcomes are the contract's (tdt.trees.v1.Outcome and its subsets): today's
 * answers, word for word, and a contract with two outcomes more changes them with no other edit.
 */
import type { AppError } from "@tdt/kit";
import { type Tree, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { undoContract, withMoreOutcomes } from "@tdt/test-support/contract";
import { printerTree } from "@tdt/test-support/trees";
import { afterEach, describe, expect, it } from "vitest";

type Engine = typeof import("../src/step-engine.js");

const AT = new Date(Date.UTC(2026, 0, 1, 12));

/** The printer tree, its solution `toner` concluding `outcome`. */
function treeWith(outcome: string): Tree {
  const input = TreeInput.fromPartial(printerTree() as never);
  const nodes = input.nodes.map((node) => (node.id === "toner" ? { ...node, outcome } : node));
  return {
    ...input,
    nodes,
    id: "11111111-1111-4111-8111-111111111111",
    version: 1,
    created_by: "u",
    created_at: "",
    updated_at: "",
  };
}

/** Completing at the root (a question) or at the solution `toner`: the session's outcome, or the 422's problems. */
function complete(engine: Engine, at: "root" | "toner", outcome?: string, tree = treeWith("resolved")): unknown {
  const book = engine.bookOf(tree);
  const start = engine.startState(book, AT);
  const [first] = start.steps;
  const state = at === "root" ? start : { ...start, current_node_id: at, steps: [{ ...first, node_id: at }] };
  try {
    return engine.completeState(state as typeof start, book, { outcome }, AT).outcome;
  } catch (error) {
    // By name: a changed contract loads the kit afresh, with a class of its own.
    if (error instanceof Error && error.name === "AppError") return (error as AppError).extra.problems;
    throw error;
  }
}

const problem = (msg: string, type: string) => [{ loc: ["body", "outcome"], msg, type }];

afterEach(undoContract);

describe("completing a session", () => {
  it("takes any outcome at a solution, its own by default; elsewhere unresolved or escalated, answering as always", async () => {
    const engine = await import("../src/step-engine.js");
    expect(complete(engine, "toner")).toBe("resolved");
    for (const outcome of ["resolved", "unresolved", "escalated"])
      expect(complete(engine, "toner", outcome)).toBe(outcome);
    expect(complete(engine, "toner", "escalate")).toEqual(
      problem("Must be one of resolved, unresolved, escalated here", "enum"),
    );
    expect(complete(engine, "root")).toEqual(problem("Not at a solution: give unresolved or escalated", "missing"));
    for (const outcome of ["resolved", "escalate", "fixed"]) {
      expect(complete(engine, "root", outcome)).toEqual(problem("Must be one of unresolved, escalated here", "enum"));
    }
    for (const outcome of ["unresolved", "escalated"]) expect(complete(engine, "root", outcome)).toBe(outcome);
  });

  it("reads the old spelling of a copy's solution outcome (`escalate`) as today's", async () => {
    const engine = await import("../src/step-engine.js");
    expect(complete(engine, "toner", undefined, treeWith("escalate"))).toBe("escalated");
  });

  it("follows the contract: a new outcome is allowed where its subset says, and named in the answers", async () => {
    await withMoreOutcomes();
    const engine = await import("../src/step-engine.js");
    expect(complete(engine, "toner", undefined, treeWith("workaround"))).toBe("workaround");
    expect(complete(engine, "toner", "deferred")).toBe("deferred");
    expect(complete(engine, "root", "deferred")).toBe("deferred");
    expect(complete(engine, "root", "workaround")).toEqual(
      problem("Must be one of unresolved, escalated, deferred here", "enum"),
    );
    expect(complete(engine, "root")).toEqual(
      problem("Not at a solution: give unresolved or escalated or deferred", "missing"),
    );
  });
});
