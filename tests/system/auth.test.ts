/**
 * SPEC §4 and §7 end to end: the real auth, trees, sessions and gateway processes, a private
 * NATS, fresh databases. Tokens the API would never hand out are forged with the service's key.
 */
import { createServiceClient } from "@tdt/kit";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { type api, claimsOf, headerOf } from "@tdt/test-support/api";
import { connect } from "@tdt/test-support/database";
import { type EventLog, recordAuthEvents } from "@tdt/test-support/events";
import { forgeRefreshToken, signingKeyOf, signWithServiceKey } from "@tdt/test-support/forge";
import type { PrivateNats } from "@tdt/test-support/nats";
import { type System, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { SignJWT } from "jose";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const DAY = 86_400;

let running: SystemWithAdmin;
let system: System;
let nats: PrivateNats;
let events: EventLog;
let authDb: Sql;
let client: ReturnType<typeof api>;
let adminToken: string;

beforeAll(async () => {
  running = await startSystemWithAdmin({ SESSION_POLICY_MIN_SECONDS: "1" });
  ({ system, nats, client, admin: adminToken } = running);
  events = await recordAuthEvents(nats.as("gateway"));
  authDb = connect(system.databases.auth.url);
});

afterAll(async () => {
  await events?.close();
  await authDb?.end();
  await running?.stop();
});

const eventsFor = (sid: string) => events.events.filter((item) => "sid" in item.event && item.event.sid === sid);

async function setPolicy(body: Record<string, unknown>) {
  const response = await client.call("PUT", "/api/v1/auth/session-policy", { token: adminToken, json: body });
  expect(response.status).toBe(200);
  return response.body;
}

describe("accounts", () => {
  it("registers a technician who must verify the address: 202, a hashed password, no sign-in before the link", async () => {
    const email = client.uniqueEmail("reg");
    const since = Date.now();
    const response = await client.call("POST", "/api/v1/auth/register", {
      json: { email, password: "long-enough-pw", full_name: "Ada Lovelace" },
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ detail: "verification_sent" });
    const [row] = await authDb`select password_hash, role, email_verified_at from users where email = ${email}`;
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    expect(row?.role).toBe("technician");
    expect(row?.email_verified_at).toBeNull();
    const early = await client.call("POST", "/api/v1/auth/login/json", { json: { email, password: "long-enough-pw" } });
    expect(early.status).toBe(403);
    expect(early.body).toEqual({ detail: "email_not_verified" });
    const mail = await running.system.mailbox?.waitFor(email, { since });
    expect(mail?.subject).toMatch(/confirm/i);
  });

  it("answers a taken email in any letter case exactly as a new one, and mails its owner instead", async () => {
    const { email } = await client.register();
    const since = Date.now();
    const again = await client.call("POST", "/api/v1/auth/register", {
      json: { email: email.toUpperCase(), password: "long-enough-pw", full_name: "X" },
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ detail: "verification_sent" });
    const mail = await running.system.mailbox?.waitFor(email, { since });
    expect(mail?.subject).toMatch(/already have/i);
    const rows = await authDb`select 1 from users where lower(email) = ${email.toLowerCase()}`;
    expect(rows).toHaveLength(1);
  });

  it("validates registration with 422 and loc", async () => {
    const response = await client.call("POST", "/api/v1/auth/register", {
      json: { email: "not-an-email", password: "short", full_name: "X" },
    });
    expect(response.status).toBe(422);
    const locs = (response.body as { detail: { loc: unknown[] }[] }).detail.map((problem) => problem.loc);
    expect(locs).toEqual(
      expect.arrayContaining([
        ["body", "email"],
        ["body", "password"],
      ]),
    );
  });

  it("logs in with the OAuth2 form and with JSON, and shows /me", async () => {
    const { email, password, id } = await client.register();
    const form = await client.call("POST", "/api/v1/auth/login", { form: { username: email, password } });
    expect(form.status).toBe(200);
    expect(form.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: "bearer",
      expires_in: 900,
    });
    const tokens = await client.login(email, password);
    expect(headerOf(tokens.access_token)).toMatchObject({ alg: "EdDSA", typ: "at+jwt", kid: expect.any(String) });
    expect(claimsOf(tokens.access_token)).toMatchObject({
      sub: id,
      role: "technician",
      iss: "tdt-auth",
      aud: "tdt-api",
      sid: expect.any(String),
      jti: expect.any(String),
    });
    expect(claimsOf(tokens.refresh_token)).toMatchObject({ idle_max: 3 * DAY, abs_max: 14 * DAY });
    const me = await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id, email });
  });

  it("answers an unknown email and a wrong password alike", async () => {
    const { email } = await client.register();
    const wrong = await client.call("POST", "/api/v1/auth/login/json", { json: { email, password: "wrong-password" } });
    const unknown = await client.call("POST", "/api/v1/auth/login/json", {
      json: { email: client.uniqueEmail("nobody"), password: "wrong-password" },
    });
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ detail: "invalid_credentials" });
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
  });

  it("publishes the JWKS with the signing key", async () => {
    const response = await client.call<{ keys: { kid: string; kty: string; crv: string; d?: string }[] }>(
      "GET",
      "/.well-known/jwks.json",
    );
    expect(response.status).toBe(200);
    const { kid } = await signingKeyOf(authDb);
    const key = response.body.keys.find((candidate) => candidate.kid === kid);
    expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(key?.d).toBeUndefined();
  });

  it("writes no password or token into any log", async () => {
    const { email, password } = await client.register(client.uniqueEmail("logs"), "secret-password-in-logs?");
    const tokens = await client.login(email, password);
    await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } });
    const everything = system.logs.map((entry) => JSON.stringify(entry.line)).join("\n");
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(tokens.refresh_token);
    expect(everything).not.toContain(tokens.access_token);
  });
});

describe("refresh (SPEC §4.3, the seed's tests)", () => {
  it("refuses a token whose auth_time is backdated by exactly abs_max, and publishes auth.session.expired", async () => {
    const { id } = await client.register();
    const now = Math.floor(Date.now() / 1000);
    const forged = await forgeRefreshToken(authDb, {
      userId: id,
      session: { auth_time: now - 14 * DAY, idle_max: 3 * DAY, abs_max: 14 * DAY },
    });
    const response = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: forged.token } });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ detail: "session_expired_absolute" });
    await expect
      .poll(() => eventsFor(forged.sid), { timeout: 5000 })
      .toEqual([
        {
          subject: "auth.session.expired",
          event: {
            event_id: expect.any(String),
            occurred_at: expect.any(String),
            sid: forged.sid,
            user_id: id,
            reason: "absolute",
          },
        },
      ]);
  });

  it("consumes the token: the same token tried twice is session_expired_absolute, then invalid_refresh_token", async () => {
    const { id } = await client.register();
    const now = Math.floor(Date.now() / 1000);
    const forged = await forgeRefreshToken(authDb, {
      userId: id,
      session: { auth_time: now - 20 * DAY, idle_max: 3 * DAY, abs_max: 14 * DAY },
    });
    const first = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: forged.token } });
    expect(first.body).toEqual({ detail: "session_expired_absolute" });
    const [row] = await authDb`select revoked_at from refresh_tokens where jti = ${forged.jti}`;
    expect(row?.revoked_at).not.toBeNull();
    const second = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: forged.token } });
    expect(second.status).toBe(401);
    expect(second.body).toEqual({ detail: "invalid_refresh_token" });
  });

  it("rotates a legacy token without the three claims once, carrying the strict 3 d / 14 d snapshot", async () => {
    const { id } = await client.register();
    const forged = await forgeRefreshToken(authDb, { userId: id });
    expect(claimsOf(forged.token).auth_time).toBeUndefined();
    const before = Math.floor(Date.now() / 1000);
    const response = await client.call<{ refresh_token: string }>("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: forged.token },
    });
    expect(response.status).toBe(200);
    const claims = claimsOf(response.body.refresh_token);
    expect(claims).toMatchObject({ sid: forged.sid, idle_max: 3 * DAY, abs_max: 14 * DAY });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    const again = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: forged.token } });
    expect(again.status).toBe(401);
  });

  it("refuses an idle-expired token with session_expired_idle", async () => {
    const { id } = await client.register();
    const now = Math.floor(Date.now() / 1000);
    const forged = await forgeRefreshToken(authDb, {
      userId: id,
      session: { auth_time: now - 5 * DAY, idle_max: 3 * DAY, abs_max: 14 * DAY },
      iat: now - 3 * DAY - 10,
    });
    const response = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: forged.token } });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ detail: "session_expired_idle" });
  });

  it("refuses garbage and an access token as a refresh token", async () => {
    const { tokens } = await client.user();
    for (const refresh_token of ["garbage", tokens.access_token]) {
      const response = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token } });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ detail: "invalid_refresh_token" });
    }
  });

  it("lets exactly one of 50 concurrent refreshes of one token mint a child", async () => {
    const { tokens } = await client.user();
    const sid = claimsOf(tokens.refresh_token).sid as string;
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } }),
      ),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    expect(responses.filter((response) => response.status === 401)).toHaveLength(49);
    const [count] = await authDb`select count(*)::int as n from refresh_tokens where sid = ${sid}`;
    expect(count?.n).toBe(2);
  });

  it("treats a rotated token used again outside the grace window as reuse: the login session dies", async () => {
    const { tokens } = await client.user();
    const sid = claimsOf(tokens.refresh_token).sid as string;
    const rotated = await client.call<{ refresh_token: string; access_token: string }>("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: tokens.refresh_token },
    });
    expect(rotated.status).toBe(200);
    const replay = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } });
    expect(replay.body).toEqual({ detail: "invalid_refresh_token" });
    const child = await client.call("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: rotated.body.refresh_token },
    });
    expect(child.status).toBe(401);
    await expect
      .poll(() => eventsFor(sid).map((item) => [item.subject, "reason" in item.event ? item.event.reason : ""]), {
        timeout: 5000,
      })
      .toEqual([["auth.session.revoked", "refresh_token_reuse"]]);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: rotated.body.access_token })).status, {
        timeout: 2000,
      })
      .toBe(401);
  });
});

describe("the session policy", () => {
  it("is strict by default, admin-only, and applies to tokens minted afterwards", async () => {
    const tech = await client.user();
    const denied = await client.call("GET", "/api/v1/auth/session-policy", { token: tech.tokens.access_token });
    expect(denied.status).toBe(403);
    const current = await client.call("GET", "/api/v1/auth/session-policy", { token: adminToken });
    expect(current.body).toEqual({
      preset: "strict",
      idle_max_seconds: 3 * DAY,
      abs_max_seconds: 14 * DAY,
      reuse_grace_seconds: 0,
    });
    const invalid = await client.call("PUT", "/api/v1/auth/session-policy", {
      token: adminToken,
      json: { preset: "custom", idle_max_seconds: 100, abs_max_seconds: 50, reuse_grace_seconds: 0 },
    });
    expect(invalid.status).toBe(422);
  });

  it("returns the same pair to two refreshes within the grace window (standard: 10 s)", async () => {
    await setPolicy({ preset: "standard" });
    try {
      const { tokens } = await client.user();
      const [a, b] = await Promise.all([
        client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } }),
        client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } }),
      ]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.body).toEqual(a.body);
    } finally {
      await setPolicy({ preset: "strict" });
    }
  });

  it("expires an idle session under a custom policy of seconds", async () => {
    await setPolicy({ preset: "custom", idle_max_seconds: 1, abs_max_seconds: 60, reuse_grace_seconds: 0 });
    try {
      const { tokens } = await client.user();
      expect(claimsOf(tokens.refresh_token)).toMatchObject({ idle_max: 1, abs_max: 60 });
      await new Promise((wake) => setTimeout(wake, 2100));
      const response = await client.call("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: tokens.refresh_token },
      });
      expect(response.body).toEqual({ detail: "session_expired_idle" });
    } finally {
      await setPolicy({ preset: "strict" });
    }
  });
});

describe("access tokens at the gateway", () => {
  it("refuses forged and misused tokens", async () => {
    const { tokens, id } = await client.user();
    const [header, payload, signature] = tokens.access_token.split(".") as [string, string, string];
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = claimsOf(tokens.access_token);
    const { publicJwk } = await signingKeyOf(authDb);

    const algNone = `${b64({ alg: "none", typ: "at+jwt" })}.${payload}.`;
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: headerOf(tokens.access_token).kid as string })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const unknownKid = `${b64({ ...headerOf(tokens.access_token), kid: "no-such-key" })}.${payload}.${signature}`;
    const tampered = `${header}.${b64({ ...claims, role: "admin" })}.${signature}`;
    const wrongTyp = tokens.refresh_token;
    const selfSignedWrongTyp = await signWithServiceKey(authDb, { ...claims, sub: id }, { typ: "JWT" });

    for (const token of [algNone, hs256, unknownKid, tampered, wrongTyp, selfSignedWrongTyp, "x.y.z"]) {
      const response = await client.call("GET", "/api/v1/auth/me", { token });
      expect(response.status, token).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
    const missing = await client.call("GET", "/api/v1/auth/me");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ detail: "not_authenticated" });
  });

  it("stops accepting an access token within about a second of logout", async () => {
    const { tokens } = await client.user();
    expect((await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
    const logout = await client.call("POST", "/api/v1/auth/logout", { token: tokens.access_token });
    expect(logout.status).toBe(204);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).body, {
        timeout: 1500,
        interval: 50,
      })
      .toEqual({ detail: "session_revoked" });
    const refresh = await client.call("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: tokens.refresh_token },
    });
    expect(refresh.status).toBe(401);
  });

  it("is refused by the services too, when called directly over gRPC after logout", async () => {
    const { tokens } = await client.user();
    const trees = createServiceClient(TreesServiceService, system.addresses.trees, { timeoutMs: 2000 });
    try {
      const call = () => trees.listCategories({}, { requestId: "direct-call", accessToken: tokens.access_token });
      await expect(call()).resolves.toHaveProperty("categories");
      expect((await client.call("POST", "/api/v1/auth/logout", { token: tokens.access_token })).status).toBe(204);
      await expect
        .poll(
          () =>
            call().then(
              () => "accepted",
              (error: { details?: string }) => error.details,
            ),
          { timeout: 1500 },
        )
        .toBe("session_revoked");
    } finally {
      trees.close();
    }
  });

  it("logs out every session with ?all=true", async () => {
    const { email, password } = await client.register();
    const one = await client.login(email, password);
    const two = await client.login(email, password);
    expect((await client.call("POST", "/api/v1/auth/logout?all=true", { token: one.access_token })).status).toBe(204);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: two.access_token })).status, {
        timeout: 1500,
      })
      .toBe(401);
    const sids = [one, two].map((pair) => claimsOf(pair.refresh_token).sid as string);
    await expect
      .poll(() => sids.flatMap((sid) => eventsFor(sid).map((item) => "reason" in item.event && item.event.reason)), {
        timeout: 5000,
      })
      .toEqual(["logout_all", "logout_all"]);
  });
});

describe("login sessions", () => {
  it("lists the caller's sessions and revokes one of them", async () => {
    const { email, password } = await client.register();
    const first = await client.login(email, password);
    const second = await client.login(email, password);
    const list = await client.call<{ sid: string; current: boolean }[]>("GET", "/api/v1/auth/sessions", {
      token: second.access_token,
    });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    const firstSid = claimsOf(first.refresh_token).sid as string;
    expect(list.body.find((entry) => entry.current)?.sid).toBe(claimsOf(second.refresh_token).sid);
    expect(list.body[0]).toEqual({
      sid: expect.any(String),
      created_at: expect.any(String),
      last_used_at: expect.any(String),
      user_agent: expect.any(String),
      ip: expect.any(String),
      idle_expires_at: expect.any(String),
      absolute_expires_at: expect.any(String),
      current: expect.any(Boolean),
    });

    const other = await client.user();
    const foreign = await client.call("DELETE", `/api/v1/auth/sessions/${firstSid}`, {
      token: other.tokens.access_token,
    });
    expect(foreign.status).toBe(404);

    const revoked = await client.call("DELETE", `/api/v1/auth/sessions/${firstSid}`, { token: second.access_token });
    expect(revoked.status).toBe(204);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: first.access_token })).status, {
        timeout: 1500,
      })
      .toBe(401);
    await expect
      .poll(() => eventsFor(firstSid).map((item) => "reason" in item.event && item.event.reason), { timeout: 5000 })
      .toEqual(["user_revoked"]);
  });

  it("lets an admin see a user's sessions and end one, leaving the account and the others alone", async () => {
    const { email, password, id } = await client.register();
    const laptop = await client.login(email, password);
    const phone = await client.login(email, password);
    const laptopSid = claimsOf(laptop.refresh_token).sid as string;
    const phoneSid = claimsOf(phone.refresh_token).sid as string;

    const listed = await client.call<{ sid: string; current: boolean }[]>("GET", `/api/v1/auth/users/${id}/sessions`, {
      token: adminToken,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.map((entry) => entry.sid).sort()).toEqual([laptopSid, phoneSid].sort());
    // None of them is the admin's own.
    expect(listed.body.every((entry) => entry.current === false)).toBe(true);

    // Only admins; only that user's sessions; only real ids.
    const user = await client.user();
    const asUser = { token: user.tokens.access_token };
    expect((await client.call("GET", `/api/v1/auth/users/${id}/sessions`, asUser)).status).toBe(403);
    expect((await client.call("DELETE", `/api/v1/auth/users/${id}/sessions/${laptopSid}`, asUser)).status).toBe(403);
    const elsewhere = await client.call("DELETE", `/api/v1/auth/users/${user.id}/sessions/${laptopSid}`, {
      token: adminToken,
    });
    expect(elsewhere.status).toBe(404);
    const nobody = await client.call("GET", `/api/v1/auth/users/${crypto.randomUUID()}/sessions`, {
      token: adminToken,
    });
    expect(nobody.status).toBe(404);
    const malformed = await client.call<{ code: string }>("GET", "/api/v1/auth/users/not-a-uuid/sessions", {
      token: adminToken,
    });
    expect(malformed.status).toBe(422);
    expect((await client.call("GET", "/api/v1/auth/me", { token: laptop.access_token })).status).toBe(200);

    const ended = await client.call("DELETE", `/api/v1/auth/users/${id}/sessions/${laptopSid}`, { token: adminToken });
    expect(ended.status).toBe(204);
    const again = await client.call("DELETE", `/api/v1/auth/users/${id}/sessions/${laptopSid}`, { token: adminToken });
    expect(again.status).toBe(404);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: laptop.access_token })).status, {
        timeout: 1500,
      })
      .toBe(401);
    const refresh = await client.call("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: laptop.refresh_token },
    });
    expect(refresh.status).toBe(401);
    await expect
      .poll(() => eventsFor(laptopSid).map((item) => "reason" in item.event && item.event.reason), { timeout: 5000 })
      .toEqual(["admin"]);
    // The account and its other session go on.
    expect((await client.call("GET", "/api/v1/auth/me", { token: phone.access_token })).status).toBe(200);
    const left = await client.call<{ sid: string }[]>("GET", `/api/v1/auth/users/${id}/sessions`, {
      token: adminToken,
    });
    expect(left.body.map((entry) => entry.sid)).toEqual([phoneSid]);
  });
});

describe("administration", () => {
  it("lists users to admins only, with X-Total-Count", async () => {
    const tech = await client.user();
    expect((await client.call("GET", "/api/v1/auth/users", { token: tech.tokens.access_token })).status).toBe(403);
    const page = await client.call<unknown[]>("GET", "/api/v1/auth/users?limit=2&skip=0", { token: adminToken });
    expect(page.status).toBe(200);
    expect(page.body).toHaveLength(2);
    expect(Number(page.headers.get("x-total-count"))).toBeGreaterThan(2);
  });

  it("deactivates a user: sessions die, auth.user.deactivated is published, login is refused", async () => {
    const victim = await client.user("victim");
    const sid = claimsOf(victim.tokens.refresh_token).sid as string;
    const response = await client.call("PATCH", `/api/v1/auth/users/${victim.id}`, {
      token: adminToken,
      json: { is_active: false },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: victim.id, is_active: false });
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: victim.tokens.access_token })).status, {
        timeout: 1500,
      })
      .toBe(401);
    await expect
      .poll(
        () =>
          events.events
            .filter((item) => item.event.user_id === victim.id)
            .map((item) => [item.subject, "reason" in item.event ? item.event.reason : null]),
        { timeout: 5000 },
      )
      .toEqual(
        expect.arrayContaining([
          ["auth.session.revoked", "user_deactivated"],
          ["auth.user.deactivated", null],
        ]),
      );
    expect(eventsFor(sid)).toHaveLength(1);
    const login = await client.call("POST", "/api/v1/auth/login/json", {
      json: { email: victim.email, password: victim.password },
    });
    expect(login.body).toEqual({ detail: "invalid_credentials" });
  });

  it("publishes auth.user.updated on each change of a user's role or active flag, and on none that changes nothing", async () => {
    const user = await client.user("updated");
    const patch = async (json: Record<string, unknown>) => {
      const response = await client.call("PATCH", `/api/v1/auth/users/${user.id}`, { token: adminToken, json });
      expect(response.status).toBe(200);
    };
    const subjectsOf = () =>
      events.events
        .filter((item) => item.event.user_id === user.id && item.subject.startsWith("auth.user."))
        .map((item) => item.subject)
        .sort(); // one transaction's events share created_at: their order among themselves is not fixed

    await patch({ role: "engineer" });
    await patch({ role: "engineer" }); // the same role again: no change, no event
    await patch({ is_active: false });
    // The outbox relays transactions in order: once the deactivation is seen, the events before it were too.
    await expect
      .poll(subjectsOf, { timeout: 5000 })
      .toEqual(["auth.user.deactivated", "auth.user.updated", "auth.user.updated"]);
    await patch({ is_active: true });
    await expect
      .poll(subjectsOf, { timeout: 5000 })
      .toEqual(["auth.user.deactivated", "auth.user.updated", "auth.user.updated", "auth.user.updated"]);
    const updated = events.events.filter(
      (item) => item.subject === "auth.user.updated" && item.event.user_id === user.id,
    );
    expect(new Set(updated.map((item) => item.event.event_id)).size).toBe(3);
  });

  it("changes a role, and refuses an unknown role or user", async () => {
    const tech = await client.user();
    const promoted = await client.call("PATCH", `/api/v1/auth/users/${tech.id}`, {
      token: adminToken,
      json: { role: "engineer" },
    });
    expect(promoted.body).toMatchObject({ role: "engineer" });
    const bad = await client.call("PATCH", `/api/v1/auth/users/${tech.id}`, {
      token: adminToken,
      json: { role: "wizard" },
    });
    expect(bad.status).toBe(422);
    const missing = await client.call("PATCH", "/api/v1/auth/users/00000000-0000-4000-8000-000000000000", {
      token: adminToken,
      json: { role: "engineer" },
    });
    expect(missing.status).toBe(404);
  });
});

describe("events when NATS is down", () => {
  it("keeps serving, and delivers the events written meanwhile once NATS is back", async () => {
    const { tokens } = await client.user();
    const sid = claimsOf(tokens.refresh_token).sid as string;
    await nats.stop();
    try {
      const logout = await client.call("POST", "/api/v1/auth/logout", { token: tokens.access_token });
      expect(logout.status).toBe(204);
      const [row] = await authDb`select count(*)::int as n from outbox where sent_at is null`;
      expect(row?.n).toBeGreaterThan(0);
    } finally {
      await nats.start();
    }
    await expect
      .poll(() => eventsFor(sid).map((item) => "reason" in item.event && item.event.reason), { timeout: 15_000 })
      .toEqual(["logout"]);
    await expect
      .poll(async () => (await authDb`select count(*)::int as n from outbox where sent_at is null`)[0]?.n, {
        timeout: 5000,
      })
      .toBe(0);
  });
});

describe("a refresh retried with an Idempotency-Key (issue 9)", () => {
  const refresh = (refresh_token: string, key?: string) =>
    client.call<{ access_token: string; refresh_token: string }>("POST", "/api/v1/auth/refresh", {
      json: { refresh_token },
      ...(key ? { headers: { "idempotency-key": key } } : {}),
    });

  it("answers a retry after a lost answer with the same pair under the strict policy, and the session lives on", async () => {
    await setPolicy({ preset: "strict" });
    const { tokens } = await client.user();
    const lost = await refresh(tokens.refresh_token, "retry-key-1");
    expect(lost.status).toBe(200);
    const retried = await refresh(tokens.refresh_token, "retry-key-1");
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(lost.body);
    expect((await client.call("GET", "/api/v1/auth/me", { token: retried.body.access_token })).status).toBe(200);
    expect((await refresh(retried.body.refresh_token)).status).toBe(200);
    expect(eventsFor(claimsOf(tokens.refresh_token).sid as string)).toEqual([]);
  });

  it("gives every one of many concurrent retries with one key the same pair", async () => {
    const { tokens } = await client.user();
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(tokens.refresh_token, "retry-key-2")));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((answer) => answer.body.refresh_token)).size).toBe(1);
  });

  it("still calls a second use without the key, or with another key, reuse: the session ends", async () => {
    for (const second of [undefined, "another-key"]) {
      const { tokens } = await client.user();
      const first = await refresh(tokens.refresh_token, "retry-key-3");
      expect(first.status).toBe(200);
      const again = await refresh(tokens.refresh_token, second);
      expect(again).toMatchObject({ status: 401, body: { detail: "invalid_refresh_token" } });
      expect((await refresh(first.body.refresh_token)).status).toBe(401);
    }
  });

  it("does not confuse two tokens sent with the same key", async () => {
    const one = await client.user();
    const two = await client.user();
    const first = await refresh(one.tokens.refresh_token, "shared-key");
    const second = await refresh(two.tokens.refresh_token, "shared-key");
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(claimsOf(second.body.refresh_token).sub).toBe(two.id);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
  });

  it("refuses a key that is empty, too long or not visible ASCII with 422 at the header", async () => {
    const { tokens } = await client.user();
    for (const key of ["", "k".repeat(129), "with space"]) {
      const response = await client.call<{ detail: { loc: string[] }[] }>("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: tokens.refresh_token },
        headers: { "idempotency-key": key },
      });
      expect(response.status, JSON.stringify(key)).toBe(422);
      expect(response.body.detail[0]?.loc).toEqual(["header", "idempotency-key"]);
    }
    // Refused before anything was consumed: the token still works.
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });
});
