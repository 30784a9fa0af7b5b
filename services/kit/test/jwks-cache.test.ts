import { randomBytes } from "node:crypto";
import { lstat, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testLogger } from "@tdt/test-support/silent-logger";
import { exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessTokenVerifier } from "../src/tokens/access-tokens.js";
import {
  fetchJwksWithCache,
  JwksCache,
  type JwksCacheOptions,
  jwksCacheFile,
  keepJwksCacheFresh,
} from "../src/tokens/jwks-cache.js";
import { signingKey } from "./support/signing-keys.js";

/** This process's mTLS key in a deployment: the secret the cache's MAC key comes from. */
const SECRET = randomBytes(32);

let directory: string;
let jwks: JSONWebKeySet;

beforeAll(async () => {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  // A private JWK, as a careless auth might hand out: the cache must keep only its public part.
  jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: "k1", alg: "EdDSA" }] };
});

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "tdt-jwks-test-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function cacheOf(file: string, options: Partial<JwksCacheOptions> = {}): JwksCache {
  return new JwksCache({ file, maxAgeSeconds: 3600, secret: SECRET, log: testLogger(), ...options });
}

const authAway = async (): Promise<JSONWebKeySet> => {
  throw new Error("auth unavailable");
};

describe("the signing-key cache of a verifier", () => {
  it("keeps the last answer from auth, public members only, and uses it when auth is away", async () => {
    const file = jwksCacheFile(directory, "gateway", "127.0.0.1:50051");
    const fromAuth = fetchJwksWithCache(async () => jwks, cacheOf(file));
    const fresh = await fromAuth();
    expect(fresh.keys[0]).not.toHaveProperty("d");
    expect(JSON.parse(await readFile(file, "utf8")).keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: jwks.keys[0]?.x,
      kid: "k1",
      alg: "EdDSA",
    });
    const afterRestart = fetchJwksWithCache(authAway, cacheOf(file));
    expect(await afterRestart()).toEqual(fresh);
  });

  it("fails as auth failed when nothing was ever cached", async () => {
    const file = jwksCacheFile(directory, "trees", "127.0.0.1:1");
    await expect(fetchJwksWithCache(authAway, cacheOf(file))()).rejects.toThrow("auth unavailable");
  });

  it("forgets keys auth no longer publishes: auth's answer replaces the cache whole", async () => {
    const file = jwksCacheFile(directory, "sessions", "127.0.0.1:50051");
    await fetchJwksWithCache(async () => jwks, cacheOf(file))();
    await fetchJwksWithCache(async () => ({ keys: [] }), cacheOf(file))();
    expect(JSON.parse(await readFile(file, "utf8")).keys).toEqual([]);
    expect(await cacheOf(file).read()).toEqual({ keys: [] });
  });

  it("writes the file only when the key set changed", async () => {
    const file = jwksCacheFile(directory, "writes", "127.0.0.1:50051");
    let answer = jwks;
    const fromAuth = fetchJwksWithCache(async () => answer, cacheOf(file));
    await fromAuth();
    // Removed behind the cache's back: an unchanged answer must not write it again...
    await rm(file);
    await fromAuth();
    await expect(stat(file)).rejects.toThrow();
    // ...and a changed one must.
    answer = { keys: [] };
    await fromAuth();
    expect(JSON.parse(await readFile(file, "utf8")).keys).toEqual([]);
  });

  it("makes its directories private (0700) and its file ours alone (0600), stamped with when auth served the keys", async () => {
    const file = jwksCacheFile(join(directory, "state", "tdt", "jwks"), "gateway", "127.0.0.1:50051");
    const servedAt = Date.parse("2026-12-01T08:00:00.000Z");
    await fetchJwksWithCache(async () => jwks, cacheOf(file, { now: () => servedAt }))();
    for (const created of ["state", "state/tdt", "state/tdt/jwks"]) {
      expect(((await lstat(join(directory, created))).mode & 0o777).toString(8)).toBe("700");
    }
    expect(((await lstat(file)).mode & 0o777).toString(8)).toBe("600");
    expect(JSON.parse(await readFile(file, "utf8")).fetched_at).toBe("2026-12-01T08:00:00.000Z");
  });

  it("lets a verifier restarted while auth is down verify auth's tokens with the kept keys, and no others", async () => {
    const file = jwksCacheFile(directory, "gateway", "127.0.0.1:50051");
    const auths = await signingKey("k1");
    const strangers = await signingKey("k2");
    const token = await auths.accessToken("admin");
    const beforeRestart = new AccessTokenVerifier({
      log: testLogger(),
      fetchJwks: fetchJwksWithCache(async () => ({ keys: [auths.publicJwk] }), cacheOf(file)),
    });
    expect((await beforeRestart.verify(token)).role).toBe("admin");

    const afterRestart = new AccessTokenVerifier({
      log: testLogger(),
      fetchJwks: fetchJwksWithCache(authAway, cacheOf(file)),
      refetchIntervalMs: 0,
    });
    expect((await afterRestart.verify(token)).role).toBe("admin");
    await expect(afterRestart.verify(await strangers.accessToken("admin"))).rejects.toMatchObject({
      code: "invalid_token",
    });
  });

  it("stamps the file again while auth answers the same keys, so a long-running process leaves a usable one", async () => {
    const file = jwksCacheFile(directory, "gateway", "127.0.0.1:50051");
    let now = Date.parse("2026-12-01T00:00:00.000Z");
    const fromAuth = fetchJwksWithCache(async () => jwks, cacheOf(file, { now: () => now }));
    await fromAuth();
    now += 15 * 60_000; // a quarter of the hour's max age
    await fromAuth();
    expect(JSON.parse(await readFile(file, "utf8")).fetched_at).toBe("2026-12-01T00:15:00.000Z");
    // Past the max age of the first answer, within that of the second.
    now += 50 * 60_000;
    expect((await cacheOf(file, { now: () => now }).read())?.keys[0]?.kid).toBe("k1");
  });

  it("asks auth again every quarter of the max age and records its answer", async () => {
    const file = jwksCacheFile(directory, "gateway", "127.0.0.1:50051");
    let asked = 0;
    const timer = keepJwksCacheFresh(
      async () => {
        asked += 1;
        return jwks;
      },
      cacheOf(file, { maxAgeSeconds: 0.2 }),
    );
    try {
      await expect.poll(() => asked, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(2);
      // The first answer's write may still be on its way to the disk (it syncs).
      const keptKid = () =>
        readFile(file, "utf8").then(
          (text) => JSON.parse(text).keys[0].kid,
          () => undefined,
        );
      await expect.poll(keptKid, { timeout: 5000, interval: 20 }).toBe("k1");
    } finally {
      clearInterval(timer);
    }
  });
});
