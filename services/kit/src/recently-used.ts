/** How many of the least recently used entries each `set` looks at for stale ones. */
const STALE_LOOKS = 4;

/**
 * A map that keeps only its `capacity` most recently used entries (the least recently used goes
 * first), and counts how often a lookup found its entry.
 *
 * With `stale` (e.g. a token past its expiry), each `set` also drops the stale ones among the
 * few least recently used entries: a map of things that expire then holds about what is still
 * alive instead of filling up to `capacity` with the dead, so its memory levels off at the live
 * set, not at the bound (the soak of issue 31 saw the verifiers grow for an hour).
 */
export class RecentlyUsed<V> {
  private readonly entries = new Map<string, V>();
  private hits = 0;
  private misses = 0;

  constructor(
    readonly capacity: number,
    private readonly stale?: (value: V) => boolean,
  ) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    // Map order is recency: moved to the end, it is the last to go.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    if (this.stale) this.dropStale(this.stale);
  }

  private dropStale(stale: (value: V) => boolean): void {
    let looked = 0;
    for (const [key, value] of this.entries) {
      if (looked++ >= STALE_LOOKS) break;
      if (stale(value)) this.entries.delete(key);
    }
  }

  /** Forgets `key`, only if it still holds `value` when one is given. */
  delete(key: string, value?: V): void {
    if (value === undefined || this.entries.get(key) === value) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  stats() {
    return { hits: this.hits, misses: this.misses, size: this.entries.size, capacity: this.capacity };
  }
}
