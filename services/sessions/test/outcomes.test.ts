/**
 * The step engine's outcomes are the contract's (tdt.trees.v1.Outcome and its subsets): its 422s
 * name the contract's lists, worded as ever, and a contract with two outcomes more changes what
 * it allows and says with no other edit.
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
    translations: [],
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
  it("takes any outcome at a solution, its own by default; elsewhere one given away from a solution", async () => {
    const engine = await import("../src/step-engine.js");
    const { OFF_SOLUTION_OUTCOMES: elsewhere, OUTCOMES: all } = await import("@tdt/proto/contracts/outcomes");
    expect(complete(engine, "toner")).toBe("resolved");
    for (const outcome of all) expect(complete(engine, "toner", outcome)).toBe(outcome);
    // Worded as ever: "Must be one of resolved, unresolved, escalated here" with today's contract.
    expect(complete(engine, "toner", "escalate")).toEqual(problem(`Must be one of ${all.join(", ")} here`, "enum"));
    expect(complete(engine, "root")).toEqual(problem(`Not at a solution: give ${elsewhere.join(" or ")}`, "missing"));
    for (const outcome of [...all.filter((one) => !elsewhere.includes(one)), "escalate", "fixed"]) {
      expect(complete(engine, "root", outcome)).toEqual(problem(`Must be one of ${elsewhere.join(", ")} here`, "enum"));
    }
    for (const outcome of elsewhere) expect(complete(engine, "root", outcome)).toBe(outcome);
  });

  it("reads the old spelling of a copy's solution outcome (`escalate`) as today's", async () => {
    const engine = await import("../src/step-engine.js");
    expect(complete(engine, "toner", undefined, treeWith("escalate"))).toBe("escalated");
  });

  it("follows the contract: a new outcome is allowed where its subset says, and named in the answers", async () => {
    await withMoreOutcomes();
    const engine = await import("../src/step-engine.js");
    expect(complete(engine, "toner", undefined, treeWith("fake_workaround"))).toBe("fake_workaround");
    expect(complete(engine, "toner", "fake_deferred")).toBe("fake_deferred");
    expect(complete(engine, "root", "fake_deferred")).toBe("fake_deferred");
    const refusal = complete(engine, "root", "fake_workaround") as { msg: string }[];
    expect(refusal[0]?.msg).toMatch(/^Must be one of .*, fake_deferred here$/);
    expect(refusal[0]?.msg).not.toContain("fake_workaround");
    expect(complete(engine, "root")).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/ or fake_deferred$/) }),
    ]);
  });
});
