import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Sql } from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { passwordMatches } from "../src/passwords.js";
import { createUser } from "../src/users.js";
import { useAuthDatabase } from "./support/auth-database.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const database = useAuthDatabase("auth_cli");
let sql: Sql;
beforeAll(() => {
  sql = database.sql;
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const cli = (...args: string[]): Promise<CliResult> =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, AUTH_DATABASE_URL: database.url } }).then(
    (done) => ({ code: 0, ...done }),
    (failed: CliResult) => failed,
  );

const createAdmin = (email: string, password: string, ...flags: string[]) =>
  cli("create-admin", "--email", email, "--password", password, ...flags);

const account = async (email: string) =>
  (await sql`select id, role, is_active, full_name, password_hash from users where lower(email) = lower(${email})`)[0];

/** An account as self-registration creates it (registration's own insert). */
const squat = (email: string, password = "squatter-password") =>
  createUser(sql, { email, password, full_name: "Squatter", role: "technician" });

describe("create-admin", () => {
  it("creates an admin for a new email, and records it", async () => {
    const created = await createAdmin("ops@example.com", "a-long-password");
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("created admin ops@example.com");
    const row = await account("ops@example.com");
    expect(row).toMatchObject({
      role: "admin",
      is_active: true,
      password_hash: expect.stringMatching(/^\$argon2id\$/),
    });
    const audit = await sql`select action, actor from audit_events where user_id = ${row?.id}`;
    expect(audit).toEqual([{ action: "admin_created", actor: expect.stringMatching(/^cli:/) }]);
  });

  it("leaves an existing admin alone, exit 0, unless told to reset it", async () => {
    const before = await account("ops@example.com");
    const again = await createAdmin("OPS@example.com", "another-password");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already an active admin; nothing changed");
    expect((await account("ops@example.com"))?.password_hash).toBe(before?.password_hash);

    const reset = await createAdmin("ops@example.com", "another-password", "--reset-existing");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("(was active admin)");
    expect(await passwordMatches("another-password", (await account("ops@example.com"))?.password_hash)).toBe(true);
  });

  it("refuses an account someone registered first: its password and role stay theirs", async () => {
    const squatter = await squat("ops2@example.com");
    const attempt = await createAdmin("Ops2@Example.com", "operator-password");
    expect(attempt.code).toBe(1);
    expect(attempt.stderr).toContain("refused: ops2@example.com is already an active technician account");
    expect(attempt.stderr).toContain("--reset-existing");
    const after = await account("ops2@example.com");
    expect(after).toMatchObject({ role: "technician", is_active: true, password_hash: squatter.password_hash });
    expect(await passwordMatches("squatter-password", after?.password_hash)).toBe(true);
    expect(await passwordMatches("operator-password", after?.password_hash)).toBe(false);
    expect(await sql`select 1 from audit_events where user_id = ${squatter.id}`).toHaveLength(0);
  });

  it("refuses a deactivated account, and a deactivated admin, without --reset-existing", async () => {
    for (const role of ["engineer", "admin"] as const) {
      const email = `dormant-${role}@example.com`;
      const dormant = await createUser(sql, { email, password: "dormant-password", full_name: "Dormant", role });
      await sql`update users set is_active = false where id = ${dormant.id}`;
      const attempt = await createAdmin(email, "operator-password");
      expect(attempt.code).toBe(1);
      expect(attempt.stderr).toContain(`is already a deactivated ${role} account`);
      expect(await account(email)).toMatchObject({ role, is_active: false, password_hash: dormant.password_hash });
    }
  });

  it("with --reset-existing takes the account over: new password, active admin, recorded", async () => {
    const squatter = await squat("ops3@example.com");
    await sql`update users set is_active = false where id = ${squatter.id}`;
    const reset = await createAdmin("ops3@example.com", "operator-password", "--reset-existing");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("reset ops3@example.com");
    expect(reset.stdout).toContain("was deactivated technician");
    const after = await account("ops3@example.com");
    expect(after).toMatchObject({ role: "admin", is_active: true, full_name: "Squatter" });
    expect(await passwordMatches("operator-password", after?.password_hash)).toBe(true);
    expect(await passwordMatches("squatter-password", after?.password_hash)).toBe(false);
    const [audit] = await sql`select action, detail from audit_events where user_id = ${squatter.id}`;
    expect(audit).toEqual({
      action: "admin_reset",
      detail: {
        email: "ops3@example.com",
        previous: { role: "technician", is_active: false },
        sessions_ended: 0,
        providers_unlinked: [],
      },
    });
  });

  it("holds the password to registration's rules, also on a reset (exit 1)", async () => {
    const short = await createAdmin("x@example.com", "short");
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("string_too_short");
    const resetShort = await createAdmin("ops2@example.com", "short", "--reset-existing");
    expect(resetShort.code).toBe(1);
    expect(resetShort.stderr).toContain("string_too_short");
    expect(await account("ops2@example.com")).toMatchObject({ role: "technician" });
    expect(await account("x@example.com")).toBeUndefined();
  });
});

describe("rotate-keys", () => {
  it("rotates the signing key", async () => {
    const before = await sql`select kid from signing_keys where retired_at is null`;
    const rotated = await cli("rotate-keys");
    expect(rotated.stdout).toMatch(/^new signing key /);
    const after = await sql`select kid, retired_at from signing_keys order by created_at`;
    expect(after.filter((key) => key.retired_at === null)).toHaveLength(1);
    expect(after.length).toBe(before.length + 1);
  });
});
