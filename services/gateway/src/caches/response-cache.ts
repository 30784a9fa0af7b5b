/**
 * Ready-made answers of the gateway's hottest reads (a tree, a page of the list, a search), kept
 * as the bytes to send, so a repeated read costs neither a call to the trees service nor a
 * serialization. Entries are tagged with what they show (`tree:<id>`, `trees` for any list)
 * and dropped when the trees service announces a change of it (tree-changes.ts), when this
 * gateway forwards a change itself, and at the latest after `maxAgeMs` (a backstop for a change
 * whose announcement is late: the trees service cut off from NATS while this gateway is not).
 *
 * The cache serves only while it is `live`, i.e. while the announcements reach it: when the
 * NATS link drops it empties itself and every read goes to the service until it is back.
 * Bounded by the bytes it holds; the least recently used entry goes first.
 */
export interface CachedResponse {
  body: Buffer;
  /** Headers that belong to the answer (e.g. `x-total-count`). */
  headers: Record<string, string>;
}

interface Entry {
  response: CachedResponse;
  tags: readonly string[];
  size: number;
  storedAt: number;
}

export interface ResponseCacheOptions {
  /** Most bytes of answers kept. */
  maxBytes: number;
  /** An entry is fetched again after this long, announced change or not. */
  maxAgeMs: number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  /** Reads that found a fetch of the same answer under way and shared it. */
  shared: number;
  /** Reads while the cache was not live. */
  bypassed: number;
  evicted: number;
  invalidated: number;
  entries: number;
  bytes: number;
  live: boolean;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Promise<CachedResponse>>();
  private bytes = 0;
  /** Bumped by every invalidation: a fetch that began before one is not stored. */
  private generation = 0;
  private live = false;
  private readonly counts = { hits: 0, misses: 0, shared: 0, bypassed: 0, evicted: 0, invalidated: 0 };

  constructor(private readonly options: ResponseCacheOptions) {}

  /** Whether changes are known to reach the cache; not live, it holds nothing. */
  setLive(live: boolean): void {
    if (!live) this.clear();
    this.live = live;
  }

  /**
   * The answer for `key`: from memory, from a fetch of it already under way, or from `produce`
   * (then kept, tagged with `tags`, unless something was invalidated meanwhile).
   */
  async serve(key: string, tags: readonly string[], produce: () => Promise<CachedResponse>): Promise<CachedResponse> {
    if (!this.live) {
      this.counts.bypassed += 1;
      return produce();
    }
    const entry = this.entries.get(key);
    if (entry) {
      if (Date.now() - entry.storedAt < this.options.maxAgeMs) {
        this.counts.hits += 1;
        // Most recently used last: the map's first key is the one to evict.
        this.entries.delete(key);
        this.entries.set(key, entry);
        return entry.response;
      }
      this.remove(key);
    }
    const underWay = this.pending.get(key);
    if (underWay) {
      this.counts.shared += 1;
      // Only a success is shared: a failure (this caller's token, say) is each caller's own.
      return underWay.catch(() => produce());
    }
    this.counts.misses += 1;
    const generation = this.generation;
    const fetching = produce();
    this.pending.set(key, fetching);
    try {
      const response = await fetching;
      if (generation === this.generation && this.live) this.store(key, tags, response);
      return response;
    } finally {
      if (this.pending.get(key) === fetching) this.pending.delete(key);
    }
  }

  /** Drops every entry with one of `tags`, and keeps fetches under way from being stored or shared. */
  invalidate(tags: readonly string[]): void {
    this.generation += 1;
    this.pending.clear();
    for (const tag of tags) {
      for (const key of this.keysByTag.get(tag) ?? []) {
        this.remove(key);
        this.counts.invalidated += 1;
      }
    }
  }

  clear(): void {
    this.generation += 1;
    this.pending.clear();
    this.entries.clear();
    this.keysByTag.clear();
    this.bytes = 0;
  }

  stats(): ResponseCacheStats {
    return { ...this.counts, entries: this.entries.size, bytes: this.bytes, live: this.live };
  }

  private store(key: string, tags: readonly string[], response: CachedResponse): void {
    const size = response.body.byteLength + key.length + 64;
    // One answer may take at most a quarter of the cache, so a few huge trees cannot flush it.
    if (size > this.options.maxBytes / 4) return;
    this.remove(key);
    while (this.bytes + size > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.counts.evicted += 1;
    }
    this.entries.set(key, { response, tags, size, storedAt: Date.now() });
    this.bytes += size;
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag) ?? new Set<string>();
      keys.add(key);
      this.keysByTag.set(tag, keys);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
    for (const tag of entry.tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }
}
