import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testLogger } from "@tdt/test-support/silent-logger";
import { exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchJwksWithCache, jwksCacheFile } from "../src/jwks-cache.js";

let directory: string;
let jwks: JSONWebKeySet;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "tdt-jwks-test-"));
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  // A private JWK, as a careless auth might hand out: the cache must keep only its public part.
  jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: "k1", alg: "EdDSA" }] };
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("the signing-key cache of a verifier", () => {
  it("keeps the last answer from auth, public members only, and uses it when auth is away", async () => {
    const file = jwksCacheFile(directory, "gateway", "127.0.0.1:50051");
    const fromAuth = fetchJwksWithCache(async () => jwks, file, testLogger());
    const fresh = await fromAuth();
    expect(fresh.keys[0]).not.toHaveProperty("d");
    expect(JSON.parse(await readFile(file, "utf8")).keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: jwks.keys[0]?.x,
      kid: "k1",
      alg: "EdDSA",
    });
    const authAway = fetchJwksWithCache(async () => Promise.reject(new Error("auth unavailable")), file, testLogger());
    expect(await authAway()).toEqual(fresh);
  });

  it("fails as auth failed when nothing was ever cached", async () => {
    const file = jwksCacheFile(directory, "trees", "127.0.0.1:1");
    const authAway = fetchJwksWithCache(async () => Promise.reject(new Error("auth unavailable")), file, testLogger());
    await expect(authAway()).rejects.toThrow("auth unavailable");
  });

  it("forgets keys auth no longer publishes: auth's answer replaces the cache whole", async () => {
    const file = jwksCacheFile(directory, "sessions", "127.0.0.1:50051");
    await fetchJwksWithCache(async () => jwks, file, testLogger())();
    await fetchJwksWithCache(async () => ({ keys: [] }), file, testLogger())();
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ keys: [] });
  });

  it("writes the file only when the key set changed", async () => {
    const file = jwksCacheFile(directory, "writes", "127.0.0.1:50051");
    let answer = jwks;
    const fromAuth = fetchJwksWithCache(async () => answer, file, testLogger());
    await fromAuth();
    // Removed behind the cache's back: an unchanged answer must not write it again...
    await rm(file);
    await fromAuth();
    await expect(stat(file)).rejects.toThrow();
    // ...and a changed one must.
    answer = { keys: [] };
    await fromAuth();
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ keys: [] });
  });
});
