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
 * The password in `file`, made there first when missing: written whole to a file of its own,
 * then linked into place, which fails when the file exists; so two starts at once agree on one
 * password, and none reads a half-written file.
 */
function keptPassword(file: string): { password: string; new: boolean } {
  mkdirSync(dirname(file), { recursive: true });
  const fresh = randomBytes(18).toString("base64url");
  const draft = `${file}.${process.pid}.draft`;
  rmSync(draft, { force: true });
  writeFileSync(draft, `${fresh}\n`, { mode: 0o600, flag: "wx" });
  try {
    linkSync(draft, file);
    return { password: fresh, new: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  const kept = readFileSync(file, "utf8").trim();
  // Registration's rule: auth would stop at start on another.
  if (kept.length < 8 || kept.length > 128) {
    throw new Error(
      `${shownPath(file)} must hold a password of 8-128 characters: delete it to make a new one, or set ADMIN_PASSWORD`,
    );
  }
  return { password: kept, new: false };
}
