import { AppError } from "@tdt/kit";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import type { SessionStore } from "./session-store.js";
import { type TreeBook, TreeNeeded } from "./step-engine.js";

/** How many trees one request may load before it gives up (links nest at most 8 deep). */
const MAX_LOADS = 24;

/**
 * The trees of one session as the step engine asks for them: pinned versions, the session's own
 * and linked ones alike, from the store (the process's TreeCopies, else the session's copies in
 * the database); the latest published version of a tree entered now from the trees service
 * (`latest`, as the caller sees it; pinned on first use, its copy then the one kept). The latest
 * version is asked each time a session enters a tree: a newer one may be out, and nothing tells
 * this service when. The engine is pure and synchronous: `run` calls it, loads what it said it
 * lacked (`TreeNeeded`), and calls it again.
 */
export class SessionTrees implements TreeBook {
  private readonly copies = new Map<string, Tree>();
  private readonly latestOf = new Map<string, Tree | null>();

  constructor(
    readonly root: Tree,
    private readonly store: SessionStore,
    private readonly fetchLatest: (treeId: string) => Promise<Tree | null>,
  ) {
    this.copies.set(`${root.id}@${root.version}`, root);
  }

  version(treeId: string, version: number): Tree {
    const tree = this.copies.get(`${treeId}@${version}`);
    if (!tree) throw new TreeNeeded(treeId, version);
    return tree;
  }

  latest(treeId: string): Tree | null {
    if (!this.latestOf.has(treeId)) throw new TreeNeeded(treeId);
    return this.latestOf.get(treeId) ?? null;
  }

  /** `work`'s answer once every tree it needs is loaded. */
  async run<T>(work: () => T): Promise<T> {
    for (let loads = 0; loads <= MAX_LOADS; loads++) {
      try {
        return work();
      } catch (error) {
        if (!(error instanceof TreeNeeded)) throw error;
        await this.load(error);
      }
    }
    throw new AppError("link_depth_exceeded");
  }

  /** `work` where no tree may be loaded (inside a write): one it lacks means the session moved on. */
  loaded<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof TreeNeeded) throw new AppError("stale_step");
      throw error;
    }
  }

  private async load(needed: TreeNeeded): Promise<void> {
    if (needed.version !== undefined) {
      const tree = await this.store.tree(needed.treeId, needed.version);
      this.copies.set(`${tree.id}@${tree.version}`, tree);
      return;
    }
    const fetched = await this.fetchLatest(needed.treeId);
    if (!fetched) {
      this.latestOf.set(needed.treeId, null);
      return;
    }
    // Kept before the step is written: a session that pins it finds its copy, one that does not
    // loses nothing. A version already kept is the copy every session on it shares.
    const tree = await this.store.pin(fetched);
    this.latestOf.set(needed.treeId, tree);
    this.copies.set(`${tree.id}@${tree.version}`, tree);
  }
}
