import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createDatabase, dropDatabase } from "../../../tests/support/database.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

let database: { name: string; url: string };
let sql: Sql;

beforeAll(async () => {
  database = await createDatabase("auth_cli");
  sql = connect(database.url);
});

afterAll(async () => {
  await sql?.end();
  if (database) await dropDatabase(database.name);
});

const cli = (...args: string[]) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, AUTH_DATABASE_URL: database.url } });

describe("the auth command line", () => {
  it("creates an admin, and promotes an existing account", async () => {
    const created = await cli("create-admin", "--email", "ops@example.com", "--password", "a-long-password");
    expect(created.stdout).toContain("created admin ops@example.com");
    const [row] = await sql`select role, is_active, password_hash from users where email = 'ops@example.com'`;
    expect(row).toMatchObject({
      role: "admin",
      is_active: true,
      password_hash: expect.stringMatching(/^\$argon2id\$/),
    });

    await sql`update users set role = 'technician', is_active = false where email = 'ops@example.com'`;
    const promoted = await cli("create-admin", "--email", "OPS@example.com", "--password", "another-password");
    expect(promoted.stdout).toContain("is now an active admin");
    expect((await sql`select role, is_active from users where email = 'ops@example.com'`)[0]).toEqual({
      role: "admin",
      is_active: true,
    });
  });

  it("refuses a short password with the problem, and exit code 1", async () => {
    const failed = await cli("create-admin", "--email", "x@example.com", "--password", "short").catch((error) => error);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("string_too_short");
  });

  it("rotates the signing key", async () => {
    const before = await sql`select kid from signing_keys where retired_at is null`;
    const rotated = await cli("rotate-keys");
    expect(rotated.stdout).toMatch(/^new signing key /);
    const after = await sql`select kid, retired_at from signing_keys order by created_at`;
    expect(after.filter((key) => key.retired_at === null)).toHaveLength(1);
    expect(after.length).toBe(before.length + 1);
  });
});
