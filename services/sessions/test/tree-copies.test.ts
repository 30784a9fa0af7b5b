import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { TreeCopies } from "../src/tree-copies.js";

const copyOf = (id: string, version: number) => ({ id, version, nodes: [] }) as unknown as Tree;

describe("the pinned tree copies kept in memory", () => {
  it("reads a version once, however many ask at once", async () => {
    const copies = new TreeCopies(4);
    let reads = 0;
    const read = async () => {
      reads += 1;
      return copyOf("a", 1);
    };
    const got = await Promise.all(Array.from({ length: 5 }, () => copies.get("a", 1, read)));
    expect(reads).toBe(1);
    expect(new Set(got).size).toBe(1);
    expect(copies.stats()).toMatchObject({ hits: 4, misses: 1, size: 1 });
  });

  it("keeps versions apart and keeps no more than its capacity, the least recently used going first", async () => {
    const copies = new TreeCopies(2);
    const reads: string[] = [];
    const get = (id: string, version: number) =>
      copies.get(id, version, async () => {
        reads.push(`${id}@${version}`);
        return copyOf(id, version);
      });
    expect((await get("a", 1)).version).toBe(1);
    expect((await get("a", 2)).version).toBe(2);
    await get("a", 1); // a@1 is now the most recent
    await get("b", 1); // a@2 goes
    expect(copies.stats().size).toBe(2);
    await get("a", 1);
    await get("a", 2);
    expect(reads).toEqual(["a@1", "a@2", "b@1", "a@2"]);
  });

  it("does not keep a failed read", async () => {
    const copies = new TreeCopies(2);
    await expect(copies.get("a", 1, () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect((await copies.get("a", 1, async () => copyOf("a", 1))).id).toBe("a");
  });

  it("serves a copy put there without reading", async () => {
    const copies = new TreeCopies(2);
    copies.put(copyOf("a", 3));
    const got = await copies.get("a", 3, () => Promise.reject(new Error("no read expected")));
    expect(got.version).toBe(3);
  });
});
