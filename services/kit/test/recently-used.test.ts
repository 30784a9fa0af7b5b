import { testLogger } from "@tdt/test-support/silent-logger";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RecentlyUsed } from "../src/recently-used.js";
import { AccessTokenVerifier } from "../src/tokens/access-tokens.js";
import { signingKey } from "./support/signing-keys.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("a map of the recently used", () => {
  it("forgets the least recently used past its capacity", () => {
    const map = new RecentlyUsed<number>(3);
    for (const key of ["a", "b", "c"]) map.set(key, 1);
    map.get("a");
    map.set("d", 1);
    expect(map.get("b")).toBeUndefined();
    expect(["a", "c", "d"].map((key) => map.get(key))).toEqual([1, 1, 1]);
  });

  it("drops stale entries as new ones come, so it holds what is alive rather than filling to its capacity", () => {
    let now = 0;
    const map = new RecentlyUsed<number>(1_000, (expiresAt) => expiresAt <= now);
    for (let i = 0; i < 100; i++) map.set(`old-${i}`, 10);
    now = 20;
    for (let i = 0; i < 30; i++) map.set(`new-${i}`, 30);
    expect(map.stats().size).toBe(30);
    expect(map.get("new-0")).toBe(30);
    expect(map.get("old-99")).toBeUndefined();
  });

  it("keeps live entries that sit among the least recently used", () => {
    let now = 0;
    const map = new RecentlyUsed<number>(1_000, (expiresAt) => expiresAt <= now);
    map.set("long-lived", 100);
    for (let i = 0; i < 10; i++) map.set(`short-${i}`, 10);
    now = 20;
    for (let i = 0; i < 10; i++) map.set(`next-${i}`, 30);
    expect(map.get("long-lived")).toBe(100);
    expect(map.stats().size).toBe(11);
  });
});

describe("the verified tokens a verifier remembers", () => {
  it("level off at the tokens still alive: expired ones leave as new ones are verified", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = new Date("2026-12-07T12:00:00Z");
    vi.setSystemTime(start);
    const key = await signingKey("k1");
    const verifier = new AccessTokenVerifier({ fetchJwks: async () => ({ keys: [key.publicJwk] }), log: testLogger() });
    for (let i = 0; i < 200; i++) await verifier.verify(await key.accessToken("technician"));
    expect(verifier.stats().size).toBe(200);

    // Past their five minutes: a new hour of traffic does not keep the dead ones.
    vi.setSystemTime(start.getTime() + 6 * 60_000);
    for (let i = 0; i < 60; i++) await verifier.verify(await key.accessToken("technician"));
    expect(verifier.stats().size).toBe(60);
  });
});
