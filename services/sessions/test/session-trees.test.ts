/**
 * A session's trees are loaded before the step engine runs, and the engine finds every tree it
 * looks up: the book answers a tree it did not load with `stale_step`, so a step whose trees were
 * not all loaded fails here. Pinned versions come in one read; what a link enters unpinned is asked
 * of the trees service one link after another, and only what the step walks into.
 */
import { randomUUID } from "node:crypto";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { appErrorOf } from "@tdt/test-support/thrown";
import { describe, expect, it } from "vitest";
import { type SessionRow, toSession } from "../src/session-store.js";
import { SessionTrees, type TreeSources } from "../src/session-trees.js";
import { applyStep, type SessionState, type StepOp, startState } from "../src/step-engine.js";
import { TreeCopies } from "../src/tree-copies.js";
import { linkChain } from "./support/linked-trees.js";
import { node, treeOf } from "./support/tree-of.js";

const { laptop, dock, hub, port } = linkChain();
const titleOf = (id: string) => [laptop, dock, hub, port].find((tree) => tree.id === id)?.title ?? id;

/**
 * Sources of these trees that count: each read of pinned versions (the trees read together), each
 * tree asked of the trees service.
 */
function countedSources(unpublished: Tree[] = [], published = [laptop, dock, hub, port]) {
  const reads: string[][] = [];
  const asked: string[] = [];
  const sources: TreeSources = {
    store: {
      trees: async (versions) => {
        reads.push([...new Set(versions.map((version) => titleOf(version.tree_id)))].sort());
        const copyOf = (id: string, version: number) =>
          published.find((tree) => tree.id === id && tree.version === version) as Tree;
        return versions.map((version) => copyOf(version.tree_id, version.tree_version));
      },
      pin: async (tree) => tree,
    },
    latest: async (treeId) => {
      asked.push(titleOf(treeId));
      if (unpublished.some((tree) => tree.id === treeId)) return null;
      return published.find((tree) => tree.id === treeId) ?? null;
    },
  };
  return { sources, reads, asked };
}

const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds));

const rowOf = (state: SessionState): SessionRow => ({
  ...state,
  locale: "",
  id: "session",
  user_id: "user",
  tree_id: laptop.id,
  tree_version: laptop.version,
  tree_title: laptop.title,
  context: {},
  user_name: "",
  user_email: "",
  started_at: t(0),
  updated_at: t(0),
  revision: 1,
  org_id: "org",
});

const intoTheChain: StepOp = { op: "answer", node_id: "online", option_id: "no" };

/** A session on the laptop tree, just started (nothing loaded but the laptop tree). */
async function started() {
  const book = await SessionTrees.toStart(laptop, countedSources().sources, {}, "");
  return rowOf(startState(book, t(0)));
}

/** Loads the trees for `op` on `row` with counted sources, then runs the engine once on them. */
async function step(row: SessionRow, op: StepOp, unpublished: Tree[] = []) {
  const { sources, reads, asked } = countedSources(unpublished);
  const book = await SessionTrees.all(row, sources, op);
  const loads = { reads: [...reads], asked: [...asked] };
  const next = () => rowOf(applyStep(row, book, op, t(5)));
  return { loads, next, reads, asked };
}

describe("the trees of a step, loaded before the engine runs", () => {
  it("into three links at once: the session's trees in one read, each tree entered asked in turn", async () => {
    const { loads, next, reads, asked } = await step(await started(), intoTheChain);
    expect(loads).toEqual({ reads: [["Laptop"]], asked: ["Dock", "Hub", "Port"] });
    const inside = next();
    expect(inside.current_node_id).toBe("reseat");
    expect(inside.pins).toEqual({ [dock.id]: 1, [hub.id]: 1, [port.id]: 1 });
    // The engine found every tree in the book: nothing more was read or asked while it ran.
    expect({ reads, asked }).toEqual(loads);
  });

  it("back out of three links: every pinned version in one read, nothing asked", async () => {
    const inside = (await step(await started(), intoTheChain)).next();
    const { loads, next } = await step(inside, { op: "continue", node_id: "reseat" });
    expect(loads).toEqual({ reads: [["Dock", "Hub", "Laptop", "Port"]], asked: [] });
    const out = next();
    expect(out.current_node_id).toBe("done");
    expect(out.steps.map((each) => [titleOf(each.tree_id ?? ""), each.node_id])).toEqual([
      ["Laptop", "online"],
      ["Port", "reseat"],
      ["Port", "seated"],
      ["Laptop", "done"],
    ]);
    // Back over the passed solution, into the port tree: shown from the same read.
    const back = await step(out, { op: "back" });
    expect(back.next().current_node_id).toBe("reseat");
    expect(back.loads.asked).toEqual([]);
  });

  it("asks trees only for what the step walks into: not for another answer, a refused one, back or a note", async () => {
    const start = await started();
    const ops: StepOp[] = [
      { op: "answer", node_id: "online", option_id: "yes" },
      { op: "answer", node_id: "online", option_id: "maybe" },
      { op: "answer", node_id: "elsewhere", option_id: "no" },
      { op: "answer", node_id: "online", option_id: "no", note: "x".repeat(100_000) },
      { op: "back" },
      { op: "note", notes: "Checked the cable" },
    ];
    for (const op of ops) expect((await step(start, op)).loads).toEqual({ reads: [["Laptop"]], asked: [] });
    const completed = await step({ ...start, status: "completed" }, intoTheChain);
    expect(completed.loads.asked).toEqual([]);
  });

  it("stops at a tree with no published version, which the engine then refuses", async () => {
    const { loads, next } = await step(await started(), intoTheChain, [hub]);
    expect(loads.asked).toEqual(["Dock", "Hub"]);
    expect(appErrorOf(next).code).toBe("link_target_unpublished");
  });

  it("refuses a step that would enter more than 24 trees anew, as too deep", async () => {
    // 25 links one after another, each to a tree that is only a solution: never more than one deep.
    const ends = Array.from({ length: 25 }, () => treeOf(randomUUID(), 1, "end", [node("end", "solution")]));
    const links = ends.map((end, k) => node(`link-${k}`, "link", { tree_id: end.id, next: `link-${k + 1}` }));
    const relay = treeOf(randomUUID(), 1, "link-0", [...links, node("link-25", "solution", { outcome: "resolved" })]);
    const { sources, asked } = countedSources([], [relay, ...ends]);
    await expect(SessionTrees.toStart(relay, sources, {}, "")).rejects.toMatchObject({ code: "link_depth_exceeded" });
    expect(asked).toHaveLength(24);
    // From the second link on, 24 trees: entered, and out again to the relay's solution.
    const fewer = countedSources([], [relay, ...ends.slice(1)]);
    const shorter = { ...relay, root_node_id: "link-1" };
    expect(startState(await SessionTrees.toStart(shorter, fewer.sources, {}, ""), t(0)).current_node_id).toBe(
      "link-25",
    );
  });

  it("answers a tree it did not load as a session that moved on", async () => {
    const start = await started();
    const { sources } = countedSources();
    const book = await SessionTrees.all(start, sources);
    expect(appErrorOf(() => applyStep(start, book, intoTheChain, t(5))).code).toBe("stale_step");
  });
});

describe("the trees a list's page shows", () => {
  it("are read together, once for the page, whatever trees its sessions stand in", async () => {
    // Four sessions: one just started, one inside the port tree through three links, one back
    // out, one started again: between them the laptop, dock, hub and port trees.
    const fresh = await started();
    const inside = (await step(fresh, intoTheChain)).next();
    const out = (await step(inside, { op: "continue", node_id: "reseat" })).next();
    const rows = [fresh, inside, out, await started()].map((row, i) => ({ ...row, id: `session-${i}` }));
    // The store as the service has it: copies kept in memory (TreeCopies), each read counted.
    const copies = new TreeCopies();
    const reads: string[][] = [];
    const counted = countedSources();
    const sources: TreeSources = {
      ...counted.sources,
      store: {
        ...counted.sources.store,
        trees: (versions) =>
          copies.getAll(versions, async (lacking) => {
            reads.push(lacking.map((version) => titleOf(version.tree_id)).sort());
            return counted.sources.store.trees(lacking);
          }),
      },
    };
    const shown = await SessionTrees.toShowAll(rows, sources);
    expect(reads).toEqual([["Laptop", "Port"]]);
    expect(shown.map((book, i) => toSession(rows[i] as SessionRow, book).current_node?.id)).toEqual([
      "online",
      "reseat",
      "done",
      "online",
    ]);
  });
});

describe("a long session's trees", () => {
  it("are asked for once each, however many steps stand in them", async () => {
    const inside = (await step(await started(), intoTheChain)).next();
    const out = (await step(inside, { op: "continue", node_id: "reseat" })).next();
    // 500 steps through the same four trees, as a long session has.
    const steps = Array.from({ length: 500 }, (_, i) => ({
      ...(out.steps[i % out.steps.length] as (typeof out.steps)[number]),
      seq: i + 1,
    }));
    const long = { ...out, steps };
    const asked: number[] = [];
    const counted = countedSources();
    const sources: TreeSources = {
      ...counted.sources,
      store: {
        ...counted.sources.store,
        trees: async (versions) => {
          asked.push(versions.length);
          return counted.sources.store.trees(versions);
        },
      },
    };
    const book = await SessionTrees.all(long, sources);
    expect(asked).toEqual([4]);
    expect(book.version(port.id, port.version).id).toBe(port.id);
  });
});
