import { AppError } from "@tdt/kit";
import type { Values } from "@tdt/proto/contracts/tree-logic";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import type { SessionRow, SessionStore } from "./session-store.js";
import {
  departureOf,
  MAX_MOVES,
  moveFrom,
  type Pins,
  type Place,
  rootPlace,
  type StepOp,
  type StepRecord,
  type TreeBook,
  treeEntered,
  treeOfStep,
} from "./step-engine.js";
import type { TreeVersion } from "./tree-copies.js";
import { inLocale, type PinnedTree } from "./tree-languages.js";

/**
 * How many trees one step may enter anew: links nest at most 8 deep, so only a long row of links
 * one after another comes near; more is refused as too deep, so that no tree can keep a request
 * waiting on the trees service.
 */
const MAX_TREES_ENTERED = 24;

/** Where a session's trees come from. */
export interface TreeSources {
  store: Pick<SessionStore, "trees" | "pin">;
  /** The latest published version of a tree, as the caller sees it; null when it has none. */
  latest(treeId: string): Promise<PinnedTree | null>;
}

/** The tree a session's current node is in: its last step's. */
function shownTreeOf(row: SessionRow): TreeVersion {
  return treeOfStep(row.steps[row.steps.length - 1] as StepRecord, row);
}

/**
 * The trees of one session, loaded before the step engine runs so that every tree it looks up is
 * in the book: pinned versions (the session's own and linked ones) from the store, in one read of
 * those the process does not keep; the latest published version of each tree a link enters now
 * from the trees service (pinned when loaded, its copy then the one kept), one link after another
 * as the walk finds them (where a link leads is in the tree before it). The latest version is
 * asked each time a session enters a tree: a newer one may be out, and nothing tells this service
 * when.
 */
export class SessionTrees implements TreeBook {
  private readonly copies = new Map<string, Tree>();
  private readonly latestOf = new Map<string, Tree | null>();

  /** The session's own tree, in the session's locale. */
  readonly root: Tree;

  /** `locale`: the session's language; every tree in the book shows its texts in it where it can. */
  private constructor(
    root: PinnedTree,
    private readonly sources: TreeSources,
    others: PinnedTree[] = [],
    private readonly locale = "",
  ) {
    this.root = inLocale(root, locale);
    this.copies.set(`${root.id}@${root.version}`, this.root);
    // Each version once: a long session names its tree at every step (a 500-step session made 500
    // localized copies of a 300-node tree on every step and every report).
    for (const tree of others) {
      const key = `${tree.id}@${tree.version}`;
      if (!this.copies.has(key)) this.copies.set(key, inLocale(tree, locale));
    }
  }

  /** To show a session: its own tree and its current step's. */
  static toShow(row: SessionRow, sources: TreeSources): Promise<SessionTrees> {
    return SessionTrees.reading(row, [shownTreeOf(row)], sources);
  }

  /**
   * What each session of a list's page shows, their trees read together first: one read for the
   * page, not one per session (a page of 50 sessions over 50 trees made 50 transactions).
   */
  static async toShowAll(rows: SessionRow[], sources: TreeSources): Promise<SessionTrees[]> {
    await sources.store.trees(
      rows.flatMap((row) => [{ tree_id: row.tree_id, tree_version: row.tree_version }, shownTreeOf(row)]),
    );
    return Promise.all(rows.map((row) => SessionTrees.toShow(row, sources)));
  }

  /** To start a session on `root`: the trees its first node is reached through (a root that is a link). */
  static async toStart(root: PinnedTree, sources: TreeSources, values: Values, locale: string): Promise<SessionTrees> {
    const book = new SessionTrees(root, sources, [], locale);
    await book.loadWalk(rootPlace(root), {}, values);
    return book;
  }

  /**
   * Every tree a session has pinned or stood in (what a change or a report can look up), and the
   * trees the walk `op` sets off from its open step enters.
   */
  static async all(row: SessionRow, sources: TreeSources, op?: StepOp): Promise<SessionTrees> {
    const pins = Object.entries(row.pins ?? {}).map(([tree_id, tree_version]) => ({ tree_id, tree_version }));
    const stoodIn = row.steps.flatMap((step) => [treeOfStep(step, row), ...(step.frames ?? [])]);
    const book = await SessionTrees.reading(row, [...pins, ...stoodIn], sources);
    const departure = op && departureOf(row, book, op);
    if (departure) await book.loadWalk(departure.place, row.pins ?? {}, departure.values);
    return book;
  }

  /** A book of the session's own tree and these versions, read together. */
  private static async reading(row: SessionRow, versions: TreeVersion[], sources: TreeSources) {
    const own = { tree_id: row.tree_id, tree_version: row.tree_version };
    const keyOf = (version: TreeVersion) => `${version.tree_id}@${version.tree_version}`;
    const distinct = new Map(versions.map((version) => [keyOf(version), version]));
    distinct.delete(keyOf(own));
    const [root, ...others] = await sources.store.trees([own, ...distinct.values()]);
    return new SessionTrees(root as PinnedTree, sources, others, row.locale ?? "");
  }

  // A tree not loaded is one the session as loaded cannot need: a change judged again on a newer
  // state of it (another change came first) finds the session moved on.
  version(treeId: string, version: number): Tree {
    const tree = this.copies.get(`${treeId}@${version}`);
    if (!tree) throw new AppError("stale_step");
    return tree;
  }

  latest(treeId: string): Tree | null {
    const tree = this.latestOf.get(treeId);
    if (tree === undefined) throw new AppError("stale_step");
    return tree;
  }

  /**
   * Loads what the session's walk from `start` enters unpinned (`moveFrom` shows the way, on the
   * trees loaded so far), as far as the engine will follow it.
   */
  private async loadWalk(start: Place, pins: Pins, values: Values): Promise<void> {
    let at = start;
    let pinned = pins;
    for (let moves = 0; moves < MAX_MOVES; moves++) {
      const entered = treeEntered(at, pinned);
      if (entered && entered.version === undefined) await this.loadLatest(entered.tree_id);
      const move = moveFrom(at, pinned, this, values);
      if (!move || move instanceof AppError) return;
      at = move.to;
      pinned = move.pins;
    }
  }

  private async loadLatest(treeId: string): Promise<void> {
    if (this.latestOf.size >= MAX_TREES_ENTERED) throw new AppError("link_depth_exceeded");
    const fetched = await this.sources.latest(treeId);
    // Kept before the step is written: a session that pins it finds its copy, one that does not
    // loses nothing. A version already kept is the copy every session on it shares.
    const pinned = fetched && (await this.sources.store.pin(fetched));
    const tree = pinned && inLocale(pinned, this.locale);
    this.latestOf.set(treeId, tree);
    if (tree) this.copies.set(`${tree.id}@${tree.version}`, tree);
  }
}
