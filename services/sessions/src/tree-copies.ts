import { RecentlyUsed } from "@tdt/kit";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";

/** How many pinned tree versions a process keeps parsed (a demo tree is about 17 KB of JSON). */
export const TREE_COPIES_KEPT = 200;

/**
 * The tree versions sessions run on, kept parsed in memory: a pinned copy never changes, so one
 * read per version serves every step after it, even when many steps miss at once.
 */
export class TreeCopies {
  private readonly kept: RecentlyUsed<Promise<Tree>>;

  constructor(capacity = TREE_COPIES_KEPT) {
    this.kept = new RecentlyUsed(capacity);
  }

  /** The copy of `treeId@version`, from memory or else from `read` (a failed read is not kept). */
  get(treeId: string, version: number, read: () => Promise<Tree>): Promise<Tree> {
    const key = `${treeId}@${version}`;
    const kept = this.kept.get(key);
    if (kept) return kept;
    const reading = read();
    this.kept.set(key, reading);
    reading.catch(() => this.kept.delete(key, reading));
    return reading;
  }

  /** Remembers a copy already at hand (a session just started on it). */
  put(tree: Tree): void {
    this.kept.set(`${tree.id}@${tree.version}`, Promise.resolve(tree));
  }

  /** Hits, misses and how many copies are kept. */
  stats() {
    return this.kept.stats();
  }
}
