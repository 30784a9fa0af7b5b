import { type Tree, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { appErrorOf } from "@tdt/test-support/thrown";
import { printerTree } from "@tdt/test-support/trees";
import { describe, expect, it } from "vitest";
import { applyStep, bookOf, completeState, type SessionState, startState } from "../src/step-engine.js";

const input = TreeInput.fromPartial(printerTree() as never);
const tree: Tree = {
  ...input,
  id: "11111111-1111-4111-8111-111111111111",
  version: 3,
  translations: [],
  created_by: "u",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
};

const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds));

const refusal = appErrorOf;

function walk(...ops: Parameters<typeof applyStep>[2][]): SessionState {
  return ops.reduce(
    (state, op, i) => applyStep(state, bookOf(tree), op, t(10 * (i + 1))),
    startState(bookOf(tree), t(0)),
  );
}

describe("the step engine", () => {
  it("starts at the root with one open step", () => {
    const state = startState(bookOf(tree), t(0));
    expect(state).toMatchObject({ status: "in_progress", current_node_id: "power", outcome: null });
    expect(state.steps).toEqual([
      expect.objectContaining({ seq: 1, node_id: "power", node_title: "Is the power light on?", left_at: "" }),
    ]);
  });

  it("answers a question, recording the option, the note and the time spent", () => {
    const state = walk({ op: "answer", node_id: "power", option_id: "no", note: "Cable was loose" });
    expect(state.current_node_id).toBe("plug");
    expect(state.steps[0]).toEqual({
      seq: 1,
      node_id: "power",
      node_title: "Is the power light on?",
      option_id: "no",
      option_label: "No",
      note: "Cable was loose",
      entered_at: t(0).toISOString(),
      left_at: t(10).toISOString(),
      duration_ms: 10_000,
      tree_id: tree.id,
      tree_version: tree.version,
    });
    expect(state.steps[1]).toMatchObject({ seq: 2, node_id: "plug", entered_at: t(10).toISOString(), left_at: "" });
  });

  it("continues past an action to its next node", () => {
    const state = walk(
      { op: "answer", node_id: "power", option_id: "no" },
      { op: "continue", node_id: "plug", note: "Switched on" },
    );
    expect(state.current_node_id).toBe("power2");
    expect(state.steps[1]).toMatchObject({ node_id: "plug", option_id: "", note: "Switched on", duration_ms: 10_000 });
  });

  it("refuses a step for another node as stale_step (a retried request is safe)", () => {
    const state = walk({ op: "answer", node_id: "power", option_id: "no" });
    const error = refusal(() =>
      applyStep(state, bookOf(tree), { op: "answer", node_id: "power", option_id: "no" }, t(99)),
    );
    expect(error).toMatchObject({ code: "stale_step" });
  });

  it("refuses an unknown option with 422 at option_id", () => {
    const error = refusal(() =>
      applyStep(
        startState(bookOf(tree), t(0)),
        bookOf(tree),
        { op: "answer", node_id: "power", option_id: "maybe" },
        t(1),
      ),
    );
    expect(error).toMatchObject({ code: "validation_error" });
    expect(error.extra.problems).toEqual([
      expect.objectContaining({ loc: ["body", "option_id"], type: "unknown_option" }),
    ]);
  });

  it("refuses answer on an action and continue on a question", () => {
    const atAction = walk({ op: "answer", node_id: "power", option_id: "no" });
    expect(
      refusal(() => applyStep(atAction, bookOf(tree), { op: "answer", node_id: "plug", option_id: "x" }, t(99))).extra,
    ).toMatchObject({ problems: [expect.objectContaining({ type: "op_not_allowed" })] });
    expect(
      refusal(() => applyStep(startState(bookOf(tree), t(0)), bookOf(tree), { op: "continue", node_id: "power" }, t(1)))
        .extra,
    ).toMatchObject({ problems: [expect.objectContaining({ type: "op_not_allowed" })] });
  });

  it("goes back to the previous question, which can then be answered differently", () => {
    const state = walk(
      { op: "answer", node_id: "power", option_id: "no" },
      { op: "back" },
      { op: "answer", node_id: "power", option_id: "yes" },
    );
    expect(state.current_node_id).toBe("paper");
    expect(state.steps.map((step) => [step.node_id, step.option_id])).toEqual([
      ["power", "yes"],
      ["paper", ""],
    ]);
  });

  it("cannot go back from the first step", () => {
    expect(
      refusal(() => applyStep(startState(bookOf(tree), t(0)), bookOf(tree), { op: "back" }, t(1))).extra.problems,
    ).toEqual([expect.objectContaining({ type: "nothing_to_go_back_to" })]);
  });

  it("keeps session notes with the note op", () => {
    expect(walk({ op: "note", notes: "Customer on site" }).notes).toBe("Customer on site");
  });

  it("completes at a solution with the solution's outcome, closing the last step", () => {
    const atSolution = walk(
      { op: "answer", node_id: "power", option_id: "yes" },
      { op: "answer", node_id: "paper", option_id: "no" },
      { op: "continue", node_id: "refill" },
    );
    expect(atSolution.current_node_id).toBe("refilled");
    const done = completeState(atSolution, bookOf(tree), {}, t(60));
    expect(done).toMatchObject({ status: "completed", outcome: "resolved", completed_at: t(60).toISOString() });
    expect(done.steps.at(-1)).toMatchObject({ node_id: "refilled", left_at: t(60).toISOString(), duration_ms: 30_000 });
  });

  it("maps an escalating solution to escalated", () => {
    const state = walk(
      { op: "answer", node_id: "power", option_id: "no" },
      { op: "continue", node_id: "plug" },
      { op: "answer", node_id: "power2", option_id: "no" },
    );
    expect(completeState(state, bookOf(tree), {}, t(99)).outcome).toBe("escalated");
  });

  it("needs unresolved or escalated to complete away from a solution", () => {
    const start = startState(bookOf(tree), t(0));
    expect(refusal(() => completeState(start, bookOf(tree), {}, t(1))).extra.problems).toEqual([
      expect.objectContaining({ loc: ["body", "outcome"], type: "missing" }),
    ]);
    expect(refusal(() => completeState(start, bookOf(tree), { outcome: "resolved" }, t(1))).extra.problems).toEqual([
      expect.objectContaining({ loc: ["body", "outcome"], type: "enum" }),
    ]);
    expect(completeState(start, bookOf(tree), { outcome: "unresolved", notes: "Gave up" }, t(1))).toMatchObject({
      outcome: "unresolved",
      notes: "Gave up",
    });
  });

  it("refuses any change to a completed session with session_completed", () => {
    const done = completeState(startState(bookOf(tree), t(0)), bookOf(tree), { outcome: "escalated" }, t(1));
    for (const run of [
      () => applyStep(done, bookOf(tree), { op: "note", notes: "late" }, t(2)),
      () => applyStep(done, bookOf(tree), { op: "back" }, t(2)),
      () => completeState(done, bookOf(tree), { outcome: "escalated" }, t(2)),
    ]) {
      expect(refusal(run)).toMatchObject({ code: "session_completed" });
    }
  });

  it("refuses changes to an abandoned session", () => {
    const abandoned: SessionState = { ...startState(bookOf(tree), t(0)), status: "abandoned" };
    expect(refusal(() => applyStep(abandoned, bookOf(tree), { op: "note", notes: "x" }, t(1)))).toMatchObject({
      code: "session_abandoned",
    });
  });
});
