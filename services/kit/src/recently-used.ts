/**
 * A map that keeps only its `capacity` most recently used entries (the least recently used goes
 * first), and counts how often a lookup found its entry.
 */
export class RecentlyUsed<V> {
  private readonly entries = new Map<string, V>();
  private hits = 0;
  private misses = 0;

  constructor(readonly capacity: number) {}

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
