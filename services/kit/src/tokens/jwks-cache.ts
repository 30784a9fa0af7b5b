import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { JSONWebKeySet } from "jose";
import type { Logger } from "../observability/logger.js";

/** The members of a JWK that may leave the auth service: never a private part (`d`, `p`, ...). */
const PUBLIC_MEMBERS = ["kty", "kid", "alg", "use", "crv", "x", "y", "n", "e", "exp"] as const;

/** Names what the MAC covers, so that a file of another layout never verifies as this one. */
const FORMAT = "tdt-jwks-cache/1";

/** A key set is a few keys of a few hundred bytes: anything far larger was not written by us. */
const MAX_FILE_BYTES = 256 * 1024;

/** Clocks of one machine may step back a little (NTP): a set served "in the future" by that much is fine. */
const CLOCK_STEP_MS = 5 * 60 * 1000;

/**
 * Where a verifier keeps the last key set it had: one file per process name and auth address,
 * so two stacks on one machine never read each other's keys.
 */
export function jwksCacheFile(directory: string, name: string, authAddress: string): string {
  return join(directory, `${name}-${authAddress.replace(/[^A-Za-z0-9.-]/g, "_")}.json`);
}

export interface JwksCacheOptions {
  /** jwksCacheFile(JWKS_CACHE_DIR, ...). */
  file: string;
  /** JWKS_CACHE_MAX_AGE_SECONDS: how long after auth served a set it may still be used. */
  maxAgeSeconds: number;
  /**
   * A secret of this process kept outside the cache directory (its mutual-TLS private key), from
   * which the file's MAC key is derived; undefined (plaintext gRPC) leaves only the directory checks.
   */
  secret: Buffer | undefined;
  log: Logger;
  /** The clock, in milliseconds; tests move it. */
  now?: () => number;
}

/**
 * Wraps a JWKS fetch from auth so that an auth outage after this process restarts is survivable:
 * every answer from auth (the source of truth, so removed keys disappear) is recorded in the
 * cache; when auth cannot be reached, the recorded set is used if the cache still trusts it.
 * Without one, the fetch's error stands (503).
 */
export function fetchJwksWithCache(
  fetchFromAuth: () => Promise<JSONWebKeySet>,
  cache: JwksCache,
): () => Promise<JSONWebKeySet> {
  return async () => {
    let jwks: JSONWebKeySet;
    try {
      jwks = publicOnly(await fetchFromAuth());
    } catch (error) {
      const cached = await cache.read();
      if (!cached) throw error;
      cache.log.warn({ err: error, file: cache.file }, "auth is out of reach: verifying with the cached signing keys");
      return cached;
    }
    await cache.record(jwks);
    return jwks;
  };
}

/**
 * Asks auth again every `cache.refreshIntervalMs`: a verifier fetches only at start and on an
 * unknown `kid`, so without this a process up for longer than the max age would leave a file
 * too old to use by the time it restarts. Clear the returned timer on shutdown.
 */
export function keepJwksCacheFresh(fetchFromAuth: () => Promise<JSONWebKeySet>, cache: JwksCache): NodeJS.Timeout {
  return setInterval(() => {
    void fetchFromAuth().then(
      (jwks) => cache.record(jwks),
      (err: unknown) => cache.log.warn({ err, file: cache.file }, "cannot refresh the cached signing keys"),
    );
  }, cache.refreshIntervalMs).unref();
}

/**
 * The last key set from auth, in a file nobody but this process's user can have written
 * (docs/decisions/jwks-cache.md). A set is used only when the directory is a real directory of
 * ours that nobody else can write, the file a regular file of ours likewise, its MAC verifies
 * and auth served it less than the max age ago. Anything else is refused with a warning naming
 * the path and why, and the verifier goes without.
 */
export class JwksCache {
  readonly file: string;
  readonly log: Logger;
  private readonly directory: string;
  private readonly macKey: Buffer;
  private readonly now: () => number;
  /** What this process last wrote: an unchanged set that is still fresh is not written again. */
  private written: { keys: string; fetchedAt: number } | undefined;

  constructor(private readonly options: JwksCacheOptions) {
    this.file = options.file;
    this.log = options.log;
    this.directory = dirname(options.file);
    this.macKey = Buffer.from(hkdfSync("sha256", options.secret ?? Buffer.alloc(0), "", FORMAT, 32));
    this.now = options.now ?? Date.now;
  }

  /** A quarter of the max age: while auth answers, a file is never older than half of it. */
  get refreshIntervalMs(): number {
    return (this.options.maxAgeSeconds * 1000) / 4;
  }

  /** The recorded set, if every check passes; otherwise undefined (and a warning why). */
  async read(): Promise<JSONWebKeySet | undefined> {
    try {
      if (!(await checkPrivateDirectory(this.directory, { mayBeMissing: true }))) return undefined;
      const text = await readPrivateFile(this.file);
      return text === undefined ? undefined : this.trusted(text);
    } catch (error) {
      if (error instanceof Refused) {
        this.log.warn(
          { path: error.path, reason: error.reason },
          `not using the cached signing keys: ${error.message}`,
        );
      } else {
        this.log.warn({ err: error, file: this.file }, "cannot read the cached signing keys");
      }
      return undefined;
    }
  }

  /** Records what auth just served; a failure is a warning, never the caller's error. */
  async record(jwks: JSONWebKeySet): Promise<void> {
    const fetchedAt = this.now();
    const { keys } = publicOnly(jwks);
    const text = JSON.stringify(keys);
    const { written } = this;
    if (written && written.keys === text && fetchedAt - written.fetchedAt < this.refreshIntervalMs) return;
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      await checkPrivateDirectory(this.directory, { mayBeMissing: false });
      await writeAsideThenRename(this.file, this.serialise(keys, fetchedAt));
      this.written = { keys: text, fetchedAt };
    } catch (error) {
      if (error instanceof Refused) {
        this.log.warn({ path: error.path, reason: error.reason }, `not caching the signing keys: ${error.message}`);
      } else {
        this.log.warn({ err: error, file: this.file }, "cannot cache the signing keys");
      }
    }
  }

  private serialise(keys: JSONWebKeySet["keys"], fetchedAt: number): string {
    const fetched_at = new Date(fetchedAt).toISOString();
    return JSON.stringify({ fetched_at, keys, mac: this.mac(fetched_at, keys) });
  }

  /** The keys of a file read back, once its MAC and age say they may be used. */
  private trusted(text: string): JSONWebKeySet {
    const kept = parseKept(text, this.file);
    // The MAC covers the keys as they will be used (public members only), so a private
    // member slipped into a real key changes nothing and anything else breaks the MAC.
    const { keys } = publicOnly({ keys: kept.keys } as JSONWebKeySet);
    const expected = Buffer.from(this.mac(kept.fetched_at, keys), "base64url");
    const given = Buffer.from(kept.mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Refused(this.file, "fails its MAC check: written without this process's secret, or edited since");
    }
    const age = this.now() - Date.parse(kept.fetched_at);
    if (!(age >= -CLOCK_STEP_MS))
      throw new Refused(this.file, `was served by auth at ${kept.fetched_at}, in the future`);
    if (age > this.options.maxAgeSeconds * 1000) {
      throw new Refused(
        this.file,
        `was served by auth at ${kept.fetched_at}, longer ago than JWKS_CACHE_MAX_AGE_SECONDS (${this.options.maxAgeSeconds})`,
      );
    }
    return { keys };
  }

  /** Binds the keys to when auth served them and to this file's name (another process's file never verifies here). */
  private mac(fetchedAt: string, keys: JSONWebKeySet["keys"]): string {
    return createHmac("sha256", this.macKey)
      .update(JSON.stringify([FORMAT, basename(this.file), fetchedAt, keys]))
      .digest("base64url");
  }
}

function publicOnly(jwks: JSONWebKeySet): JSONWebKeySet {
  const keys = jwks.keys.map((key) => {
    const members = key as Record<string, unknown>;
    return Object.fromEntries(
      PUBLIC_MEMBERS.filter((name) => members[name] !== undefined).map((name) => [name, members[name]]),
    );
  });
  return { keys } as JSONWebKeySet;
}

function parseKept(text: string, file: string): { fetched_at: string; keys: object[]; mac: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Refused(file, "is not JSON");
  }
  const { fetched_at, keys, mac } = (parsed ?? {}) as Record<string, unknown>;
  if (
    typeof fetched_at !== "string" ||
    typeof mac !== "string" ||
    !Array.isArray(keys) ||
    !keys.every((key) => typeof key === "object" && key !== null)
  ) {
    throw new Refused(file, `is not a ${FORMAT} file (fetched_at, keys, mac)`);
  }
  return { fetched_at, keys, mac };
}

/** Why a path was not trusted: becomes one warning naming both. */
class Refused extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = "Refused";
  }
}

/**
 * Throws Refused unless `path` (lstat: a symbolic link is never followed) is a directory of this
 * process's user that neither its group nor others can write. False when it does not exist and
 * may not.
 */
async function checkPrivateDirectory(path: string, options: { mayBeMissing: boolean }): Promise<boolean> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (options.mayBeMissing && (error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  if (stats.isSymbolicLink()) throw new Refused(path, "is a symbolic link");
  if (!stats.isDirectory()) throw new Refused(path, "is not a directory");
  checkOwnedAndPrivate(path, stats);
  return true;
}

/**
 * The text of a regular file of ours that neither group nor others can write; undefined when
 * there is none. Checked on the opened file (fstat), so nothing can be swapped in between the
 * check and the read; O_NOFOLLOW refuses a symbolic link, O_NONBLOCK keeps a FIFO from hanging us.
 */
async function readPrivateFile(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new Refused(path, "is a symbolic link");
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Refused(path, "is not a regular file");
    checkOwnedAndPrivate(path, stats);
    if (stats.size > MAX_FILE_BYTES) throw new Refused(path, `is ${stats.size} bytes, larger than any key set`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

function checkOwnedAndPrivate(path: string, stats: Stats): void {
  const ours = process.getuid?.();
  if (stats.uid !== ours) throw new Refused(path, `is owned by uid ${stats.uid}, not by this process's uid ${ours}`);
  if ((stats.mode & 0o022) !== 0) {
    throw new Refused(path, `is writable by its group or others (mode ${(stats.mode & 0o777).toString(8)})`);
  }
}

/**
 * Writes `text` to a new file of a random name beside `file`, created exclusively (O_EXCL: a
 * name planted in advance, symbolic link or not, fails rather than being opened) and readable
 * by us alone, then renames it over `file`: a crash never leaves a torn file, and rename
 * replaces whatever entry has that name (a link included) without following it.
 */
async function writeAsideThenRename(file: string, text: string): Promise<void> {
  const partial = join(dirname(file), `.${basename(file)}.${randomBytes(12).toString("hex")}.tmp`);
  const handle = await open(partial, "wx", 0o600);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  }
}
