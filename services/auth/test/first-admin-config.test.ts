import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** Starts the built auth service with `admin` as its only ADMIN_* settings; it must stop at once. */
async function startAuth(admin: Record<string, string>) {
  const { ADMIN_EMAIL: _email, ADMIN_PASSWORD: _password, ...inherited } = process.env;
  return run(process.execPath, [MAIN], {
    // A database that does not exist: configuration is checked before anything is connected.
    env: { ...inherited, AUTH_DATABASE_URL: "postgres://postgres@127.0.0.1:1/never", ...admin },
    timeout: 20_000,
  }).then(
    (done) => ({ code: 0, ...done }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
}

const GOOD_EMAIL = "admin@example.com";

describe("the first admin from the environment", () => {
  it.each([
    [{ ADMIN_EMAIL: GOOD_EMAIL }, "ADMIN_PASSWORD is required when ADMIN_EMAIL is set"],
    [{ ADMIN_PASSWORD: "a-long-password" }, "ADMIN_EMAIL is required when ADMIN_PASSWORD is set"],
    [
      { ADMIN_EMAIL: "admin-at-example", ADMIN_PASSWORD: "a-long-password" },
      'ADMIN_EMAIL is not a valid email address, got "admin-at-example"',
    ],
    [
      { ADMIN_EMAIL: GOOD_EMAIL, ADMIN_PASSWORD: "abc" },
      "ADMIN_PASSWORD fails registration's rule (at least 8 characters): it has 3",
    ],
    [
      { ADMIN_EMAIL: GOOD_EMAIL, ADMIN_PASSWORD: "p".repeat(129) },
      "ADMIN_PASSWORD fails registration's rule (at most 128 characters): it has 129",
    ],
  ])("%o stops auth at start with one line naming the variable", async (admin, problem) => {
    const started = await startAuth(admin);
    expect(started.code).toBe(1);
    expect(started.stderr).toBe(`configuration error: ${problem}\n`);
    expect(started.stdout).toBe("");
  });
});
