/** The gateway's response cache alone (a pure unit): what it keeps, shares, drops and counts. */
import { describe, expect, it } from "vitest";
import { type CachedResponse, ResponseCache } from "../src/caches/response-cache.js";

const answer = (text: string, headers: Record<string, string> = {}): CachedResponse => ({
  body: Buffer.from(text),
  headers,
});

function liveCache(maxBytes = 1024 * 1024, maxAgeMs = 60_000): ResponseCache {
  const cache = new ResponseCache({ maxBytes, maxAgeMs });
  cache.setLive(true);
  return cache;
}

/** A fetch the test resolves when it wants, counting how often it was made. */
function controlledFetch() {
  let calls = 0;
  const waiting: Array<(response: CachedResponse) => void> = [];
  return {
    get calls() {
      return calls;
    },
    produce: () => {
      calls += 1;
      return new Promise<CachedResponse>((resolve) => waiting.push(resolve));
    },
    resolveAll: (response: CachedResponse) => {
      for (const resolve of waiting.splice(0)) resolve(response);
    },
  };
}

describe("ResponseCache", () => {
  it("serves a kept answer without fetching again, and counts hits and misses", async () => {
    const cache = liveCache();
    let fetches = 0;
    const produce = async () => answer(`v${++fetches}`, { "x-total-count": "3" });
    const first = await cache.serve("a", ["tree:1"], produce);
    const again = await cache.serve("a", ["tree:1"], produce);
    expect(first.body.toString()).toBe("v1");
    expect(again).toBe(first);
    expect(fetches).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1, live: true });
  });

  it("shares one fetch among readers that arrive while it is under way", async () => {
    const cache = liveCache();
    const fetch = controlledFetch();
    const readers = Array.from({ length: 10 }, () => cache.serve("a", ["trees"], fetch.produce));
    fetch.resolveAll(answer("shared"));
    const answers = await Promise.all(readers);
    expect(fetch.calls).toBe(1);
    expect(answers.every((each) => each.body.toString() === "shared")).toBe(true);
    expect(cache.stats()).toMatchObject({ misses: 1, shared: 9 });
  });

  it("gives a reader that shared a failed fetch its own fetch, never another caller's failure", async () => {
    const cache = liveCache();
    let calls = 0;
    let failFirst: (error: Error) => void = () => {};
    const produce = () => {
      calls += 1;
      if (calls === 1) return new Promise<CachedResponse>((_resolve, reject) => (failFirst = reject));
      return Promise.resolve(answer("own"));
    };
    const first = cache.serve("a", [], produce);
    const second = cache.serve("a", [], produce);
    failFirst(new Error("the first caller's token is revoked"));
    await expect(first).rejects.toThrow(/revoked/);
    expect((await second).body.toString()).toBe("own");
    expect(calls).toBe(2);
  });

  it("drops by tag, and never stores or shares a fetch that began before the invalidation", async () => {
    const cache = liveCache();
    await cache.serve("tree", ["tree:1", "trees"], async () => answer("tree v1"));
    await cache.serve("other", ["tree:2", "trees"], async () => answer("tree 2"));
    const slow = controlledFetch();
    const before = cache.serve("list", ["trees"], slow.produce);
    cache.invalidate(["tree:1", "trees"]);
    // A reader after the change does not join the fetch that began before it.
    const after = cache.serve("list", ["trees"], async () => answer("list after"));
    slow.resolveAll(answer("list before"));
    expect((await before).body.toString()).toBe("list before");
    expect((await after).body.toString()).toBe("list after");
    expect(cache.stats().entries).toBe(1); // "list after" only: tree:1's and tree:2's entries were both in "trees"
    const fresh = await cache.serve("tree", ["tree:1", "trees"], async () => answer("tree v2"));
    expect(fresh.body.toString()).toBe("tree v2");
  });

  it("holds nothing and fetches every time while not live", async () => {
    const cache = liveCache();
    await cache.serve("a", [], async () => answer("kept"));
    cache.setLive(false);
    let fetches = 0;
    for (let i = 0; i < 3; i++) await cache.serve("a", [], async () => answer(`fresh ${++fetches}`));
    expect(fetches).toBe(3);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, bypassed: 3, live: false });
  });

  it("stays within its bytes, evicting the least recently used, and keeps no answer over a quarter of it", async () => {
    const cache = liveCache(4096);
    const body = "x".repeat(900);
    for (const key of ["a", "b", "c"]) await cache.serve(key, [], async () => answer(body));
    await cache.serve("a", [], async () => answer("refetched")); // a hit: "a" is now the most recent
    await cache.serve("d", [], async () => answer(body));
    await cache.serve("e", [], async () => answer(body));
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4096);
    expect(stats.evicted).toBeGreaterThan(0);
    let refetched = false;
    await cache.serve("b", [], async () => {
      refetched = true;
      return answer(body);
    });
    expect(refetched).toBe(true); // "b" was the least recently used
    await cache.serve("huge", [], async () => answer("y".repeat(2000)));
    let hugeAgain = false;
    await cache.serve("huge", [], async () => {
      hugeAgain = true;
      return answer("y".repeat(2000));
    });
    expect(hugeAgain).toBe(true);
  });

  it("fetches again once an answer is older than the longest age", async () => {
    const cache = liveCache(1024 * 1024, 50);
    let fetches = 0;
    await cache.serve("a", [], async () => answer(`v${++fetches}`));
    await new Promise((wake) => setTimeout(wake, 80));
    const later = await cache.serve("a", [], async () => answer(`v${++fetches}`));
    expect(later.body.toString()).toBe("v2");
  });
});
