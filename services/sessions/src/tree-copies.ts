import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";

/** How many pinned tree versions a process keeps parsed (a demo tree is about 17 KB of JSON). */
export const TREE_COPIES_KEPT = 200;

/**
 * The tree versions sessions run on, kept parsed in memory: a pinned copy never changes, so one
 * read per version serves every step after it. Bounded (least recently used goes first), and one
 * read per version even when many steps miss at once.
 */
export class TreeCopies {
  private readonly kept = new Map<string, Promise<Tree>>();
  private counts = { hits: 0, misses: 0 };

  constructor(private readonly capacity = TREE_COPIES_KEPT) {}

  /** The copy of `treeId@version`, from memory or else from `read` (a failed read is not kept). */
  get(treeId: string, version: number, read: () => Promise<Tree>): Promise<Tree> {
    const key = `${treeId}@${version}`;
    const kept = this.kept.get(key);
    if (kept) {
      this.counts.hits += 1;
      // Map order is recency: moved to the end, it is the last to go.
      this.kept.delete(key);
      this.kept.set(key, kept);
      return kept;
    }
    this.counts.misses += 1;
    const reading = read();
    this.keep(key, reading);
    reading.catch(() => {
      if (this.kept.get(key) === reading) this.kept.delete(key);
    });
    return reading;
  }

  /** Remembers a copy already at hand (a session just started on it). */
  put(tree: Tree): void {
    this.keep(`${tree.id}@${tree.version}`, Promise.resolve(tree));
  }

  /** Hits, misses and how many copies are kept, for logs and tests. */
  stats() {
    return { ...this.counts, size: this.kept.size, capacity: this.capacity };
  }

  private keep(key: string, copy: Promise<Tree>): void {
    this.kept.delete(key);
    this.kept.set(key, copy);
    while (this.kept.size > this.capacity) {
      const oldest = this.kept.keys().next().value as string;
      this.kept.delete(oldest);
    }
  }
}
