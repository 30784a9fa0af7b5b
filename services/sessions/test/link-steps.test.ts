import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { appErrorOf } from "@tdt/test-support/thrown";
import { describe, expect, it } from "vitest";
import {
  applyStep,
  completeState,
  departureOf,
  MAX_LINK_DEPTH,
  moveFrom,
  type Place,
  type SessionState,
  startState,
  type TreeBook,
  treeEntered,
} from "../src/step-engine.js";
import { asksThenLinks } from "./support/linked-trees.js";
import { node, treeOf } from "./support/tree-of.js";

const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds));

const NETWORK = "22222222-2222-4222-8222-222222222222";
const PRINTER = "11111111-1111-4111-8111-111111111111";

/** The shared sub-procedure: restart the router, then it works. */
const network = treeOf(NETWORK, 1, "restart", [
  node("restart", "action", { next: "works" }),
  node("works", "solution", { outcome: "resolved" }),
]);
/** Asks, runs the network check (then goes on at "done"), or gives up. */
const printer = asksThenLinks("Printer", NETWORK, PRINTER, 4);

/** A book holding these trees, each at its version; `latest` answers the newest of an id, or null. */
function bookWith(root: Tree, ...others: Tree[]): TreeBook & { asked: string[] } {
  const all = [root, ...others];
  const asked: string[] = [];
  return {
    root,
    asked,
    version(treeId, version) {
      const found = all.find((tree) => tree.id === treeId && tree.version === version);
      if (!found) throw new Error(`no tree ${treeId}@${version} in the book`);
      return found;
    },
    latest(treeId) {
      asked.push(treeId);
      const versions = all.filter((tree) => tree.id === treeId && tree.status === "published");
      return versions.sort((a, b) => b.version - a.version)[0] ?? null;
    },
  };
}

const refusal = appErrorOf;

const where = (state: SessionState) =>
  state.steps.map((step) => [step.tree_id, step.node_id, step.option_id || step.outcome || "", Boolean(step.left_at)]);

describe("link nodes", () => {
  it("enter the linked tree at its root, pinned at its latest published version", () => {
    const book = bookWith(printer, network);
    const state = applyStep(startState(book, t(0)), book, { op: "answer", node_id: "online", option_id: "no" }, t(5));
    expect(state.current_node_id).toBe("restart");
    expect(state.pins).toEqual({ [NETWORK]: 1 });
    expect(where(state)).toEqual([
      [PRINTER, "online", "no", true],
      [NETWORK, "restart", "", false],
    ]);
    expect(state.steps[1]?.frames).toEqual([{ tree_id: PRINTER, tree_version: 4, link_node_id: "check" }]);
  });

  it("return to the link's next when the linked tree reaches a solution, recording its outcome", () => {
    const book = bookWith(printer, network);
    let state = startState(book, t(0));
    state = applyStep(state, book, { op: "answer", node_id: "online", option_id: "no" }, t(5));
    state = applyStep(state, book, { op: "continue", node_id: "restart" }, t(65));
    expect(state.current_node_id).toBe("done");
    expect(where(state)).toEqual([
      [PRINTER, "online", "no", true],
      [NETWORK, "restart", "", true],
      [NETWORK, "works", "resolved", true],
      [PRINTER, "done", "", false],
    ]);
    expect(state.steps.map((step) => step.seq)).toEqual([1, 2, 3, 4]);
    expect(state.steps[1]?.duration_ms).toBe(60_000);
    const done = completeState(state, book, {}, t(70));
    expect(done).toMatchObject({ status: "completed", outcome: "resolved" });
  });

  it("go back over the passed solution into the linked tree, and from its first node back to the link's question", () => {
    const book = bookWith(printer, network);
    let state = startState(book, t(0));
    state = applyStep(state, book, { op: "answer", node_id: "online", option_id: "no" }, t(5));
    state = applyStep(state, book, { op: "continue", node_id: "restart" }, t(10));
    state = applyStep(state, book, { op: "back" }, t(15));
    expect(state.current_node_id).toBe("restart");
    expect(where(state)).toEqual([
      [PRINTER, "online", "no", true],
      [NETWORK, "restart", "", false],
    ]);
    state = applyStep(state, book, { op: "back" }, t(20));
    expect(state.current_node_id).toBe("online");
    expect(where(state)).toEqual([[PRINTER, "online", "", false]]);
    // Forward again: the pinned version, not whatever is newest now.
    const newer = { ...network, version: 2, nodes: network.nodes.map((each) => ({ ...each, title: "Changed" })) };
    const later = bookWith(printer, network, newer);
    state = applyStep(state, later, { op: "answer", node_id: "online", option_id: "no" }, t(25));
    expect(state.steps[1]).toMatchObject({ tree_id: NETWORK, tree_version: 1, node_title: "Title of restart" });
    expect(later.asked).toEqual([]);
  });

  it("end the session with the linked tree's outcome when the link has no next", () => {
    const wrapper = treeOf("33333333-3333-4333-8333-333333333333", 1, "run", [
      node("run", "link", { tree_id: NETWORK }),
    ]);
    const book = bookWith(wrapper, network);
    // A root that is a link enters at once.
    let state = startState(book, t(0));
    expect(where(state)).toEqual([[NETWORK, "restart", "", false]]);
    state = applyStep(state, book, { op: "continue", node_id: "restart" }, t(5));
    expect(state.current_node_id).toBe("works");
    expect(where(state).at(-1)).toEqual([NETWORK, "works", "", false]);
    expect(completeState(state, book, {}, t(9))).toMatchObject({ status: "completed", outcome: "resolved" });
  });

  it("refuse a link to a tree with no published version, and a loop of links, changing nothing", () => {
    const draft = { ...network, status: "draft" };
    const book = bookWith(printer, draft);
    const start = startState(book, t(0));
    const op = { op: "answer", node_id: "online", option_id: "no" } as const;
    expect(refusal(() => applyStep(start, book, op, t(5))).code).toBe("link_target_unpublished");

    const LOOP_A = "44444444-4444-4444-8444-444444444444";
    const LOOP_B = "55555555-5555-4555-8555-555555555555";
    const a = treeOf(LOOP_A, 1, "to-b", [
      node("to-b", "link", { tree_id: LOOP_B, next: "end" }),
      node("end", "solution", { outcome: "resolved" }),
    ]);
    const b = treeOf(LOOP_B, 1, "to-a", [node("to-a", "link", { tree_id: LOOP_A })]);
    const loops = bookWith(a, b);
    expect(refusal(() => startState(loops, t(0))).code).toBe("link_depth_exceeded");
    expect(MAX_LINK_DEPTH).toBe(8);
  });

  it("show the way a step walks, so that its trees can be loaded before the engine runs", () => {
    const book = bookWith(printer, network);
    const start = startState(book, t(0));
    // An answer sets off at the node its option leads to; a refused one, back or a note, nowhere new.
    const into = departureOf(start, book, { op: "answer", node_id: "online", option_id: "no" })?.place as Place;
    expect(into.node.id).toBe("check");
    expect(departureOf(start, book, { op: "answer", node_id: "online", option_id: "maybe" })).toBeUndefined();
    expect(departureOf(start, book, { op: "answer", node_id: "elsewhere", option_id: "no" })).toBeUndefined();
    expect(departureOf(start, book, { op: "back" })).toBeUndefined();
    expect(
      departureOf({ ...start, status: "completed" }, book, { op: "answer", node_id: "online", option_id: "no" }),
    ).toBeUndefined();
    // The link enters the network tree, not pinned yet: its latest published version, at its root.
    expect(treeEntered(into, start.pins)).toEqual({ tree_id: NETWORK, version: undefined });
    expect(moveFrom(into, start.pins, book, {})).toMatchObject({
      to: { tree: { id: NETWORK }, node: { id: "restart" } },
      pins: { [NETWORK]: 1 },
      passing: false,
    });
    // Nested too deep, a link is followed no further.
    const deep = {
      ...into,
      frames: Array.from({ length: MAX_LINK_DEPTH }, () => ({
        tree_id: PRINTER,
        tree_version: 4,
        link_node_id: "check",
      })),
    };
    expect(treeEntered(deep, start.pins)).toBeUndefined();
    expect(moveFrom(deep, start.pins, book, {})).toMatchObject({ code: "link_depth_exceeded" });
  });
});
