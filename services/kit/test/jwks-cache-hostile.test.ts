/**
 * Issue 23: the signing-key cache in a hostile place. Every refused file here is one our own
 * cache wrote, with a valid MAC, unless the test is about the MAC: each check is shown to hold
 * on its own.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { JSONWebKeySet } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessTokenVerifier } from "../src/tokens/access-tokens.js";
import { fetchJwksWithCache, JwksCache, type JwksCacheOptions, jwksCacheFile } from "../src/tokens/jwks-cache.js";
import { keptWarnings } from "./support/kept-warnings.js";
import { type SigningKey, signingKey } from "./support/signing-keys.js";

const SECRET = randomBytes(32);
const NOBODY = 65534;
const FAILS_MAC = "fails its MAC check: written without this process's secret, or edited since";

/** A scratch directory of the test; `cacheDir` is the private directory the cache is given. */
let root: string;
let cacheDir: string;
let file: string;
let auths: SigningKey;
let attackers: SigningKey;

beforeAll(async () => {
  auths = await signingKey("k1");
  attackers = await signingKey("k-planted");
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tdt-jwks-hostile-"));
  cacheDir = join(root, "jwks");
  file = jwksCacheFile(cacheDir, "gateway", "127.0.0.1:50051");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function cacheOf(at: string, options: Partial<JwksCacheOptions> = {}): JwksCache {
  return new JwksCache({ file: at, maxAgeSeconds: 3600, secret: SECRET, log: keptWarnings().log, ...options });
}

/** Auth answers once with `keys`: the file at `at` is then a genuine one. */
async function recorded(at: string, keys = [auths.publicJwk], options: Partial<JwksCacheOptions> = {}): Promise<void> {
  await fetchJwksWithCache(async () => ({ keys }), cacheOf(at, options))();
}

/** A process restarted while auth is down: what it verifies with, and what it logged. */
function restartedWhileAuthIsAway(options: Partial<JwksCacheOptions> = {}) {
  const { log, warnings } = keptWarnings();
  const fetchJwks = fetchJwksWithCache(
    async (): Promise<JSONWebKeySet> => {
      throw new Error("auth unavailable");
    },
    cacheOf(file, { log, ...options }),
  );
  return { fetchJwks, warnings };
}

/** A process restarted while auth is down does not use the file: auth's error stands, and a warning says why. */
async function expectNotUsed(why: string, options: Partial<JwksCacheOptions> = {}): Promise<void> {
  const { fetchJwks, warnings } = restartedWhileAuthIsAway(options);
  await expect(fetchJwks()).rejects.toThrow("auth unavailable");
  expect(warnings()).toContain(`not using the cached signing keys: ${why}`);
}

/**
 * A genuine file, then its directory spoiled: the file is neither used after a restart nor
 * replaced when auth answers with a new set, and each refusal says why.
 */
async function expectDirectoryRefused(spoil: () => Promise<void>, why: string): Promise<void> {
  await recorded(file);
  const before = await readFile(file, "utf8");
  await spoil();
  await expectNotUsed(why);

  const { log, warnings } = keptWarnings();
  await fetchJwksWithCache(async () => ({ keys: [auths.publicJwk, attackers.publicJwk] }), cacheOf(file, { log }))();
  expect(warnings()).toContain(`not caching the signing keys: ${why}`);
  expect(await readFile(file, "utf8")).toBe(before);
}

describe("a signing-key cache in a hostile directory", () => {
  it.each(["770", "707", "720"])("refuses a directory its group or others can write (mode %s)", async (mode) => {
    await expectDirectoryRefused(
      () => chmod(cacheDir, Number.parseInt(mode, 8)),
      `${cacheDir} is writable by its group or others (mode ${mode})`,
    );
  });

  it("refuses a directory that is a symbolic link, and never writes through it", async () => {
    // The genuine directory moved aside, a link to it in its place.
    const elsewhere = join(root, "elsewhere");
    await expectDirectoryRefused(async () => {
      await rename(cacheDir, elsewhere);
      await symlink(elsewhere, cacheDir);
    }, `${cacheDir} is a symbolic link`);
  });

  it("neither reads nor writes through a cache file that is a symbolic link to a file of the attacker's", async () => {
    // The attacker's file is as good as a file gets: written by our own cache, MAC and all.
    const attackersFile = join(root, "attacker", basename(file));
    await recorded(attackersFile, [attackers.publicJwk]);
    const planted = await readFile(attackersFile, "utf8");
    await mkdir(cacheDir, { mode: 0o700 });
    await symlink(attackersFile, file);

    await expectNotUsed(`${file} is a symbolic link`);

    // Auth answers: the link is replaced by a file of ours, the attacker's file stays as it was.
    await recorded(file);
    expect(await readFile(attackersFile, "utf8")).toBe(planted);
    const written = await lstat(file);
    expect(written.isFile()).toBe(true);
    expect((written.mode & 0o777).toString(8)).toBe("600");
    expect((await cacheOf(file).read())?.keys.map((key) => key.kid)).toEqual(["k1"]);
  });

  it("is not redirected by a temporary file or link planted at a predictable name", async () => {
    const target = join(root, "target");
    await writeFile(target, "the attacker's\n");
    await mkdir(cacheDir, { mode: 0o700 });
    const predictable = [`${file}.tmp`, `${file}.${process.pid}.tmp`, join(cacheDir, `.${basename(file)}.tmp`)];
    for (const name of predictable) await symlink(target, name);

    await recorded(file);

    expect(await readFile(target, "utf8")).toBe("the attacker's\n");
    for (const name of predictable) expect(await readlink(name)).toBe(target);
    expect((await lstat(file)).isFile()).toBe(true);
    expect((await cacheOf(file).read())?.keys.map((key) => key.kid)).toEqual(["k1"]);
    // Nothing of ours is left beside it: the temporary file was renamed over the cache.
    expect((await readdir(cacheDir)).sort()).toEqual(
      [basename(file), ...predictable.map((name) => basename(name))].sort(),
    );
  });

  it("does not use a file auth served longer ago than the max age, nor one dated in the future", async () => {
    const servedAt = Date.parse("2026-12-01T00:00:00.000Z");
    await recorded(file, [auths.publicJwk], { now: () => servedAt, maxAgeSeconds: 3600 });

    const atTheLimit = restartedWhileAuthIsAway({ now: () => servedAt + 3600_000 });
    expect((await atTheLimit.fetchJwks()).keys.map((key) => key.kid)).toEqual(["k1"]);

    await expectNotUsed(
      `${file} was served by auth at 2026-12-01T00:00:00.000Z, longer ago than JWKS_CACHE_MAX_AGE_SECONDS (3600)`,
      { now: () => servedAt + 3600_001 },
    );
    await expectNotUsed(`${file} was served by auth at 2026-12-01T00:00:00.000Z, in the future`, {
      now: () => servedAt - 3600_000,
    });
  });

  it("does not trust a key planted into a genuine file: the file is refused whole and a forged admin token fails", async () => {
    await recorded(file);
    const genuine = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...genuine, keys: [...genuine.keys, attackers.publicJwk] }));
    const forged = await attackers.accessToken("admin");

    const { fetchJwks, warnings } = restartedWhileAuthIsAway();
    const verifier = new AccessTokenVerifier({ log: keptWarnings().log, fetchJwks });
    // No keys at all is auth's outage (503), never the forged token's admin.
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: "service_unavailable" });
    expect(warnings()).toContain(`not using the cached signing keys: ${file} ${FAILS_MAC}`);
  });

  it("does not trust a file made whole by someone who knows the format but not this process's secret", async () => {
    await recorded(file, [attackers.publicJwk], { secret: undefined });
    await expectNotUsed(`${file} ${FAILS_MAC}`);

    // Nor another process's genuine file, copied under this one's name.
    const treesFile = jwksCacheFile(cacheDir, "trees", "127.0.0.1:50051");
    await recorded(treesFile, [attackers.publicJwk]);
    await writeFile(file, await readFile(treesFile));
    await expectNotUsed(`${file} ${FAILS_MAC}`);
  });

  it.each([
    ["that its group can write", (at: string) => chmod(at, 0o620), "is writable by its group or others (mode 620)"],
    ["that others can write", (at: string) => chmod(at, 0o602), "is writable by its group or others (mode 602)"],
    [
      "that is a FIFO (opening it must not hang)",
      async (at: string) => {
        await rm(at);
        execFileSync("mkfifo", [at]);
      },
      "is not a regular file",
    ],
    [
      "that is a directory",
      async (at: string) => {
        await rm(at);
        await mkdir(at);
      },
      "is not a regular file",
    ],
  ])("refuses a cache file %s", async (_, spoil, reason) => {
    await recorded(file);
    await spoil(file);
    await expectNotUsed(`${file} ${reason}`);
  });
});

describe.skipIf(process.getuid?.() !== 0)("a signing-key cache owned by another user (run as root)", () => {
  it("refuses a directory of another uid, for reading and for writing", async () => {
    await expectDirectoryRefused(
      () => chown(cacheDir, NOBODY, NOBODY),
      `${cacheDir} is owned by uid ${NOBODY}, not by this process's uid 0`,
    );
  });

  it("refuses a cache file of another uid in a directory of ours", async () => {
    await recorded(file);
    await chown(file, NOBODY, NOBODY);
    await expectNotUsed(`${file} is owned by uid ${NOBODY}, not by this process's uid 0`);
  });
});
