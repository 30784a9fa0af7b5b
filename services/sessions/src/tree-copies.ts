import { RecentlyUsed } from "@tdt/kit";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";

/** How many pinned tree versions a process keeps parsed (a demo tree is about 17 KB of JSON). */
export const TREE_COPIES_KEPT = 200;

/** A version of a tree, as steps, links and pins name it. */
export interface TreeVersion {
  tree_id: string;
  tree_version: number;
}

/** A version's key: within its organization (`scope`), so that no caller is served another's copy. */
const keyOf = (version: TreeVersion, scope: string) => `${scope}/${version.tree_id}@${version.tree_version}`;

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
  get(treeId: string, version: number, read: () => Promise<Tree>, scope = ""): Promise<Tree> {
    return this.getAll([{ tree_id: treeId, tree_version: version }], async () => [await read()], scope).then(
      ([tree]) => tree as Tree,
    );
  }

  /**
   * The copies of `versions`, from memory or else from one `read` of all those it lacks (a
   * failed read is not kept; one that leaves a version out fails for that version).
   */
  getAll(versions: TreeVersion[], read: (lacking: TreeVersion[]) => Promise<Tree[]>, scope = ""): Promise<Tree[]> {
    const copies = new Map<string, Promise<Tree>>();
    const lacking = new Map<string, TreeVersion>();
    for (const version of versions) {
      const key = keyOf(version, scope);
      if (copies.has(key) || lacking.has(key)) continue;
      const kept = this.kept.get(key);
      if (kept) copies.set(key, kept);
      else lacking.set(key, version);
    }
    if (lacking.size > 0) {
      const reading = read([...lacking.values()]);
      for (const [key, version] of lacking) {
        const copy = reading.then((trees) => {
          const tree = trees.find((each) => each.id === version.tree_id && each.version === version.tree_version);
          if (!tree) throw new Error(`no copy of tree ${key}`);
          return tree;
        });
        this.kept.set(key, copy);
        copy.catch(() => this.kept.delete(key, copy));
        copies.set(key, copy);
      }
    }
    return Promise.all(versions.map((version) => copies.get(keyOf(version, scope)) as Promise<Tree>));
  }

  /** Remembers a copy already at hand (a session just started on it). */
  put(tree: Tree, scope = ""): void {
    this.kept.set(keyOf({ tree_id: tree.id, tree_version: tree.version }, scope), Promise.resolve(tree));
  }

  /** Hits, misses and how many copies are kept. */
  stats() {
    return this.kept.stats();
  }
}
