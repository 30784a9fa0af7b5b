/**
 * The operator's `create-admin` against a running system: an email someone registered before
 * the operator is not handed over as it is, and taking it over explicitly ends every session
 * its first owner had (refresh tokens revoked, access tokens refused through the events).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AUTH_SUBJECTS, decodeAuthEvent } from "@tdt/proto/contracts/auth-events";
import { type api, claimsOf } from "@tdt/test-support/api";
import { connect } from "@tdt/test-support/database";
import { type System, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../services/auth/dist/cli.js", import.meta.url));

let running: SystemWithAdmin;
let system: System;
let client: ReturnType<typeof api>;
let authDb: Sql;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ system, client } = running);
  authDb = connect(system.databases.auth.url);
});

afterAll(async () => {
  await authDb?.end();
  await running?.stop();
});

const createAdmin = (...args: string[]) =>
  run(process.execPath, [CLI, "create-admin", ...args], {
    env: { ...process.env, AUTH_DATABASE_URL: system.databases.auth.url },
  }).then(
    (done) => ({ code: 0, ...done }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );

describe("create-admin on an email someone registered first", () => {
  it("refuses; with --reset-existing takes it over and ends every session of its first owner", async () => {
    const squatter = await client.register("ops@company.example", "squatter-password", "Squatter");
    const sessions = [
      await client.login(squatter.email, squatter.password),
      await client.login(squatter.email, squatter.password),
    ];
    const sids = sessions.map((tokens) => claimsOf(tokens.access_token).sid as string);

    const refused = await createAdmin("--email", squatter.email, "--password", "operator-password");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused");
    for (const tokens of sessions) {
      expect((await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).body).toMatchObject({
        role: "technician",
      });
    }

    const reset = await createAdmin("--email", squatter.email, "--password", "operator-password", "--reset-existing");
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("2 login session(s) ended");

    // Refresh tokens are revoked rows, and each session's end is an event in the outbox.
    const refreshRows = await authDb`select revoked_at from refresh_tokens where user_id = ${squatter.id}`;
    expect(refreshRows.length).toBeGreaterThanOrEqual(2);
    expect(refreshRows.every((row) => row.revoked_at !== null)).toBe(true);
    const outbox = await authDb<{ subject: string; payload: Buffer }[]>`
      select subject, payload from outbox where subject = ${AUTH_SUBJECTS.sessionRevoked}`;
    const revoked = outbox
      .map((row) => decodeAuthEvent(row.subject, row.payload)?.event)
      .filter((event) => event && "user_id" in event && event.user_id === squatter.id);
    // Before them, signing up (the mailed link, a login to read the id, a logout) ended one with `logout`.
    const reasonOf = (event: (typeof revoked)[number]) => (event && "reason" in event ? event.reason : "");
    const byReset = revoked.filter((event) => reasonOf(event) === "admin");
    expect(byReset.map((event) => event && "sid" in event && event.sid).sort()).toEqual([...sids].sort());
    expect(revoked.filter((event) => reasonOf(event) !== "admin").map(reasonOf)).toEqual(["logout"]);
    // The role changed (technician → admin): whoever keeps a copy of the user is told.
    const updates = await authDb<{ subject: string; payload: Buffer }[]>`
      select subject, payload from outbox where subject = ${AUTH_SUBJECTS.userUpdated}`;
    expect(
      updates.map((row) => decodeAuthEvent(row.subject, row.payload)?.event.user_id).filter((id) => id === squatter.id),
    ).toEqual([squatter.id]);

    for (const tokens of sessions) {
      const refresh = await client.call("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: tokens.refresh_token },
      });
      expect(refresh).toMatchObject({ status: 401, body: { detail: "invalid_refresh_token" } });
      await expect
        .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).status, {
          timeout: 3000,
        })
        .toBe(401);
    }

    const squatterLogin = await client.call("POST", "/api/v1/auth/login/json", {
      json: { email: squatter.email, password: "squatter-password" },
    });
    expect(squatterLogin.status).toBe(401);
    const operator = await client.login(squatter.email, "operator-password");
    expect(claimsOf(operator.access_token).role).toBe("admin");
  });
});
