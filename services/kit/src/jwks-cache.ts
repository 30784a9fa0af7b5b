import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { JSONWebKeySet } from "jose";
import type { Logger } from "./logger.js";

/** The members of a JWK that may leave the auth service: never a private part (`d`, `p`, ...). */
const PUBLIC_MEMBERS = ["kty", "kid", "alg", "use", "crv", "x", "y", "n", "e", "exp"] as const;

/**
 * Where a verifier keeps the last key set it had: one file per process name and auth address,
 * so two stacks on one machine never read each other's keys.
 */
export function jwksCacheFile(directory: string, name: string, authAddress: string): string {
  const base = directory === "" ? join(tmpdir(), "tdt-jwks") : directory;
  return join(base, `${name}-${authAddress.replace(/[^A-Za-z0-9.-]/g, "_")}.json`);
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

/**
 * Wraps a JWKS fetch from auth so that an auth outage after this process restarts is survivable:
 * every answer from auth (the source of truth, so removed keys disappear) is written to `file`;
 * when auth cannot be reached, the last written set is used instead. Without one, the fetch's
 * error stands (503).
 */
export function fetchJwksWithCache(
  fetchFromAuth: () => Promise<JSONWebKeySet>,
  file: string,
  log: Logger,
): () => Promise<JSONWebKeySet> {
  // What this process last wrote: an unchanged key set (the usual answer) is not written again.
  let written: string | undefined;
  return async () => {
    let jwks: JSONWebKeySet;
    try {
      jwks = publicOnly(await fetchFromAuth());
    } catch (error) {
      const cached = await readCache(file);
      if (!cached) throw error;
      log.warn({ err: error, file }, "auth is out of reach: verifying with the cached signing keys");
      return cached;
    }
    const text = JSON.stringify(jwks);
    if (text !== written) {
      await writeCache(file, text).then(
        () => {
          written = text;
        },
        (err: unknown) => log.warn({ err, file }, "cannot cache the signing keys"),
      );
    }
    return jwks;
  };
}

async function readCache(file: string): Promise<JSONWebKeySet | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as JSONWebKeySet;
    return Array.isArray(parsed.keys) ? publicOnly(parsed) : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // Written aside and renamed, so a crash mid-write never leaves a torn file to read at start.
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, text, { mode: 0o644 });
  await rename(partial, file);
}
