/**
 * The first admin of `npm start` (issue 23): ADMIN_EMAIL (default admin@example.com) with
 * ADMIN_PASSWORD when it is given; otherwise a random password, made once per data folder and
 * kept there in `admin-password` (mode 0600), so no two checkouts share a known password. It is
 * shown on the start that made it; later starts say where it is kept.
 */
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { shownPath } from "./data-folder.js";

export const DEFAULT_ADMIN_EMAIL = "admin@example.com";

export interface FirstAdmin {
  /** ADMIN_EMAIL and ADMIN_PASSWORD for the auth service. */
  env: { ADMIN_EMAIL: string; ADMIN_PASSWORD: string };
  /** What the start's summary says about the admin: the password only when it was made now. */
  summary: string;
}

export function firstAdmin(env: NodeJS.ProcessEnv, dataDir: string): FirstAdmin {
  const email = env.ADMIN_EMAIL?.trim() || DEFAULT_ADMIN_EMAIL;
  const given = env.ADMIN_PASSWORD?.trim();
  if (given) {
    return { env: { ADMIN_EMAIL: email, ADMIN_PASSWORD: given }, summary: `${email} (password from ADMIN_PASSWORD)` };
  }

  const file = join(dataDir, "admin-password");
  const made = keptPassword(file);
  const where = shownPath(file);
  const summary = made.new
    ? `${email} / ${made.password}  (new, shown only this once; kept in ${where})`
    : `${email} (password kept in ${where})`;
  return { env: { ADMIN_EMAIL: email, ADMIN_PASSWORD: made.password }, summary };
}

/**
 * OIDC_SECRET_KEY, which organizations' single sign-on client secrets are kept encrypted under:
 * the environment's, or one made once per data folder (as the admin's password), so that a
 * restart can still read what was stored. Empty when the environment has one.
 */
export function oidcSecretKey(env: NodeJS.ProcessEnv, dataDir: string): Record<string, string> {
  if (env.OIDC_SECRET_KEY?.trim()) return {};
  const file = join(dataDir, "oidc-secret-key");
  const kept = keptValue(file, randomBytes(32).toString("hex")).value;
  if (!/^[0-9a-f]{64}$/.test(kept)) {
    throw new Error(
      `${shownPath(file)} must hold 64 hex digits: delete it (stored client secrets are then lost) or set OIDC_SECRET_KEY`,
    );
  }
  return { OIDC_SECRET_KEY: kept };
}

/**
 * The value in `file`, `fresh` written there first when missing: written whole to a file of its
 * own, then linked into place, which fails when the file exists; so two starts at once agree on
 * one value, and none reads a half-written file.
 */
function keptValue(file: string, fresh: string): { value: string; new: boolean } {
  mkdirSync(dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}.draft`;
  rmSync(draft, { force: true });
  writeFileSync(draft, `${fresh}\n`, { mode: 0o600, flag: "wx" });
  try {
    linkSync(draft, file);
    return { value: fresh, new: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  return { value: readFileSync(file, "utf8").trim(), new: false };
}

/** The admin's password in `file`, made there first when missing (`keptValue`). */
function keptPassword(file: string): { password: string; new: boolean } {
  const { value: kept, new: made } = keptValue(file, randomBytes(18).toString("base64url"));
  if (made) return { password: kept, new: true };
  // Registration's rule: auth would stop at start on another.
  if (kept.length < 8 || kept.length > 128) {
    throw new Error(
      `${shownPath(file)} must hold a password of 8-128 characters: delete it to make a new one, or set ADMIN_PASSWORD`,
    );
  }
  return { password: kept, new: false };
}
