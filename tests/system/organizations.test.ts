/**
 * Organizations in the auth service (issue 28), end to end through the gateway: memberships and
 * their roles, the `org` claim, switching, each organization's session policy, and what an
 * organization's admins manage. The second organization is made in the auth database here: the
 * route that makes organizations comes with the wall in the trees and sessions services.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_ORGANIZATION_ID } from "@tdt/kit";
import { type api, claimsOf } from "@tdt/test-support/api";
import { connect } from "@tdt/test-support/database";
import { tokenOf } from "@tdt/test-support/mailbox";
import { makeOrganization } from "@tdt/test-support/organizations";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Pair = { access_token: string; refresh_token: string };
type Organization = { id: string; name: string; slug: string; role: string; current: boolean };

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let authDb: Sql;
let adminToken: string;

beforeAll(async () => {
  running = await startSystemWithAdmin({ SESSION_POLICY_MIN_SECONDS: "1" });
  ({ client, admin: adminToken } = running);
  authDb = connect(running.system.databases.auth.url);
});

afterAll(async () => {
  await authDb?.end();
  await running?.stop();
});

/** A second organization with a custom policy (1 s idle unless said), and `members` in it with their roles. */
const organization = (members: Array<{ id: string; role: string }> = [], policy = { idle: 1, abs: 60 }) =>
  makeOrganization(authDb, members, policy);

const switchTo = (token: string, organization_id: string) =>
  client.call<Pair>("POST", "/api/v1/auth/switch-organization", { token, json: { organization_id } });
const refresh = (refresh_token: string) =>
  client.call<Pair>("POST", "/api/v1/auth/refresh", { json: { refresh_token } });
const organizationsOf = async (token: string) =>
  (await client.call<{ organizations: Organization[] }>("GET", "/api/v1/organizations", { token })).body.organizations;

describe("the default organization", () => {
  it("holds everyone who was there: the first admin administers it and the platform, and tokens carry it", async () => {
    expect(claimsOf(adminToken).org).toBe(DEFAULT_ORGANIZATION_ID);
    const organizations = await organizationsOf(adminToken);
    expect(organizations).toEqual([
      expect.objectContaining({ id: DEFAULT_ORGANIZATION_ID, slug: "default", role: "admin", current: true }),
    ]);
    const me = await client.call<Record<string, unknown>>("GET", "/api/v1/auth/me", { token: adminToken });
    expect(me.body).toMatchObject({
      role: "admin",
      is_platform_admin: true,
      organization: { id: DEFAULT_ORGANIZATION_ID, role: "admin", current: true },
    });
    const tech = await client.user();
    expect(claimsOf(tech.tokens.access_token)).toMatchObject({ org: DEFAULT_ORGANIZATION_ID, role: "technician" });
    const techMe = await client.call<Record<string, unknown>>("GET", "/api/v1/auth/me", {
      token: tech.tokens.access_token,
    });
    expect(techMe.body).toMatchObject({ is_platform_admin: false, organization: { role: "technician" } });
  });
});

describe("switching organization", () => {
  it("mints a pair in the other organization with the role there, resting on the same sign-in", async () => {
    const user = await client.user();
    const other = await organization([{ id: user.id, role: "engineer" }]);
    expect((await organizationsOf(user.tokens.access_token)).map((org) => [org.slug, org.role, org.current])).toEqual(
      expect.arrayContaining([
        ["default", "technician", true],
        [other.slug, "engineer", false],
      ]),
    );
    const switched = await switchTo(user.tokens.access_token, other.id);
    expect(switched.status).toBe(200);
    expect(claimsOf(switched.body.access_token)).toMatchObject({ org: other.id, role: "engineer" });
    // The absolute limit still counts from the sign-in: switching extends nothing.
    expect(claimsOf(switched.body.refresh_token).auth_time).toBe(claimsOf(user.tokens.refresh_token).auth_time);
    expect(claimsOf(switched.body.refresh_token)).toMatchObject({ idle_max: 1, abs_max: 60 });
    const me = await client.call<Record<string, unknown>>("GET", "/api/v1/auth/me", {
      token: switched.body.access_token,
    });
    expect(me.body).toMatchObject({ role: "engineer", organization: { id: other.id, role: "engineer" } });
    // The next login goes to the organization last used.
    const again = await client.login(user.email, user.password);
    expect(claimsOf(again.access_token).org).toBe(other.id);
  });

  it("is 404 for an organization the caller is no member of, 422 for a malformed id, 401 without a session", async () => {
    const user = await client.user();
    const stranger = await organization([]);
    const refused = await switchTo(user.tokens.access_token, stranger.id);
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({ detail: "not_found" });
    expect((await switchTo(user.tokens.access_token, randomUUID())).status).toBe(404);
    expect((await switchTo(user.tokens.access_token, "not-a-uuid")).status).toBe(422);
    expect((await switchTo("", DEFAULT_ORGANIZATION_ID)).status).toBe(401);
    // A member removed meanwhile refreshes nothing in that organization.
    const member = await client.user();
    const joined = await organization([{ id: member.id, role: "technician" }], { idle: 600, abs: 3600 });
    const inside = await switchTo(member.tokens.access_token, joined.id);
    expect(inside.status).toBe(200);
    await authDb`delete from memberships where org_id = ${joined.id} and user_id = ${member.id}`;
    const afterRemoval = await refresh(inside.body.refresh_token);
    expect(afterRemoval.status).toBe(401);
    expect(afterRemoval.body).toEqual({ detail: "invalid_refresh_token" });
    expect((await switchTo(member.tokens.access_token, joined.id)).status).toBe(404);
  });

  it("refuses to switch out of a session that has ended", async () => {
    const user = await client.user();
    const other = await organization([{ id: user.id, role: "technician" }]);
    await client.call("POST", "/api/v1/auth/logout", { token: user.tokens.access_token });
    const switched = await switchTo(user.tokens.access_token, other.id);
    expect(switched.status).toBe(401);
  });
});

describe("each organization's session policy", () => {
  it("expires the same refresh as each organization's policy says", async () => {
    const user = await client.user();
    const quick = await organization([{ id: user.id, role: "technician" }], { idle: 1, abs: 60 });
    const inQuick = await switchTo(user.tokens.access_token, quick.id);
    expect(inQuick.status).toBe(200);
    // Both refresh tokens wait the same 2 s: the default organization's strict policy (3 days
    // idle) keeps its session, the other's (1 s idle) has expired.
    await new Promise((wake) => setTimeout(wake, 2100));
    const inDefault = await refresh(user.tokens.refresh_token);
    expect(inDefault.status).toBe(200);
    expect(claimsOf(inDefault.body.access_token).org).toBe(DEFAULT_ORGANIZATION_ID);
    const expired = await refresh(inQuick.body.refresh_token);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ detail: "session_expired_idle" });
  });

  it("is set by the organization's admins and the platform's, 403 to its other members, 404 to anyone else", async () => {
    const admin = await client.user("orgadmin");
    const tech = await client.user();
    const outsider = await client.user("outsider");
    const org = await organization([
      { id: admin.id, role: "admin" },
      { id: tech.id, role: "technician" },
    ]);
    const put = (token: string, json: Record<string, unknown>, id: string = org.id) =>
      client.call("PUT", `/api/v1/organizations/${id}/policy`, { token, json });
    const aal2 = { preset: "aal2" };
    // The organization's admin, whichever organization the token acts in.
    expect((await put(admin.tokens.access_token, aal2)).status).toBe(200);
    expect((await put(tech.tokens.access_token, aal2)).status).toBe(403);
    const hidden = await put(outsider.tokens.access_token, aal2);
    expect(hidden.status).toBe(404);
    expect((await put(outsider.tokens.access_token, aal2, randomUUID())).status).toBe(404);
    expect((await put(admin.tokens.access_token, { preset: "lenient" })).status).toBe(422);
    expect((await put(admin.tokens.access_token, aal2, "nope")).status).toBe(422);
    const seen = await client.call("GET", `/api/v1/organizations/${org.id}/policy`, { token: adminToken });
    expect(seen.body).toEqual({
      preset: "aal2",
      idle_max_seconds: 1800,
      abs_max_seconds: 43200,
      reuse_grace_seconds: 0,
    });
    // A login into it from now on takes it; the default organization's is untouched.
    const inOrg = await switchTo(tech.tokens.access_token, org.id);
    expect(claimsOf(inOrg.body.refresh_token)).toMatchObject({ idle_max: 1800, abs_max: 43200 });
    const defaults = await client.call("GET", "/api/v1/auth/session-policy", { token: adminToken });
    expect(defaults.body).toMatchObject({ preset: "strict" });
    // PUT /auth/session-policy sets the caller's own organization's.
    const [row] = await authDb`select preset from session_policy where org_id = ${DEFAULT_ORGANIZATION_ID}`;
    expect(row?.preset).toBe("strict");
  });
});

describe("members", () => {
  it("adds an account at once, refuses a second time, and invites anyone else to the organization only", async () => {
    const admin = await client.user("orgadmin");
    const existing = await client.user("joiner");
    const org = await organization([{ id: admin.id, role: "admin" }]);
    const add = (json: Record<string, unknown>) =>
      client.call("POST", `/api/v1/organizations/${org.id}/members`, { token: admin.tokens.access_token, json });
    const added = await add({ email: existing.email.toUpperCase(), role: "engineer" });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ email: existing.email, role: "engineer", status: "member" });
    expect((await add({ email: existing.email, role: "admin" })).body).toEqual({ detail: "already_member" });
    expect((await add({ email: existing.email, role: "owner" })).status).toBe(422);
    const joined = await organizationsOf(existing.tokens.access_token);
    expect(joined.find((item) => item.id === org.id)?.role).toBe("engineer");

    const email = client.uniqueEmail("invitee");
    const since = Date.now();
    const invited = await add({ email, role: "technician" });
    expect(invited.status).toBe(201);
    expect(invited.body).toEqual({ email, role: "technician", status: "invited" });
    const mail = await running.system.mailbox?.waitFor(email, { since, subject: /invited/i });
    if (!mail) throw new Error("no invitation mail");
    const accepted = await client.call("POST", "/api/v1/auth/invites/accept", {
      json: { token: tokenOf(mail, "accept-invite"), password: "correct-horse-battery", full_name: "Invitee" },
    });
    expect(accepted.status).toBe(201);
    const tokens = await client.login(email, "correct-horse-battery");
    expect(claimsOf(tokens.access_token)).toMatchObject({ org: org.id, role: "technician" });
    expect((await organizationsOf(tokens.access_token)).map((item) => item.id)).toEqual([org.id]);

    // Only its admins (and the platform's) add members: 403 to a member, 404 to anyone else.
    const denied = await client.call("POST", `/api/v1/organizations/${org.id}/members`, {
      token: existing.tokens.access_token,
      json: { email: client.uniqueEmail(), role: "admin" },
    });
    expect(denied.status).toBe(403);
    const stranger = await client.user("stranger");
    const hidden = await client.call("POST", `/api/v1/organizations/${org.id}/members`, {
      token: stranger.tokens.access_token,
      json: { email: client.uniqueEmail(), role: "admin" },
    });
    expect(hidden.status).toBe(404);
  });
});

describe("an organization's admin managing users", () => {
  it("sees and changes only the organization's members, their roles there, and no account of another's", async () => {
    const admin = await client.user("orgadmin");
    const member = await client.user("member");
    const onlyHere = await client.user("only-here");
    const outsider = await client.user("outsider");
    const org = await organization(
      [
        { id: admin.id, role: "admin" },
        { id: member.id, role: "technician" },
        { id: onlyHere.id, role: "technician" },
      ],
      { idle: 600, abs: 3600 },
    );
    // onlyHere belongs to this organization alone (an invitation elsewhere would make it so).
    await authDb`delete from memberships where org_id = ${DEFAULT_ORGANIZATION_ID} and user_id = ${onlyHere.id}`;
    const token = (await switchTo(admin.tokens.access_token, org.id)).body.access_token;
    expect(claimsOf(token)).toMatchObject({ org: org.id, role: "admin" });

    const listed = await client.call<Array<{ id: string; role: string }>>("GET", "/api/v1/auth/users?limit=100", {
      token,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.map((user) => user.id).sort()).toEqual([admin.id, member.id, onlyHere.id].sort());
    expect(listed.headers.get("x-total-count")).toBe("3");

    const patch = (id: string, json: Record<string, unknown>) =>
      client.call<{ role: string; is_active: boolean }>("PATCH", `/api/v1/auth/users/${id}`, { token, json });
    // Someone of another organization is nobody here, whatever is asked.
    expect((await patch(outsider.id, { role: "admin" })).status).toBe(404);
    expect((await patch(outsider.id, { is_active: false })).status).toBe(404);
    expect((await client.call("GET", `/api/v1/auth/users/${outsider.id}/sessions`, { token })).status).toBe(404);
    // A role here is this organization's: the default organization's stays.
    const promoted = await patch(member.id, { role: "engineer" });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe("engineer");
    const [rows] = await authDb`
      select (select role from memberships where org_id = ${org.id} and user_id = ${member.id}) as here,
             (select role from memberships where org_id = ${DEFAULT_ORGANIZATION_ID} and user_id = ${member.id}) as home,
             (select role from users where id = ${member.id}) as legacy`;
    expect(rows).toEqual({ here: "engineer", home: "technician", legacy: "technician" });
    // The account is the platform's: deactivating one that is elsewhere too is not this admin's to do.
    const refused = await patch(member.id, { is_active: false });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: "forbidden" });
    const deactivated = await patch(onlyHere.id, { is_active: false });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.is_active).toBe(false);
    // The platform's admin may (here acting in the default organization, where the member is too).
    const byPlatform = await client.call<{ is_active: boolean }>("PATCH", `/api/v1/auth/users/${member.id}`, {
      token: adminToken,
      json: { is_active: false },
    });
    expect(byPlatform.status).toBe(200);
    expect(byPlatform.body.is_active).toBe(false);
  });
});

describe("making organizations", () => {
  it("is the platform admins': an empty organization under the strict policy, its maker its admin", async () => {
    const slug = `acme-${Date.now().toString(36)}`;
    const made = await client.call<Organization & { created_at: string }>("POST", "/api/v1/organizations", {
      token: adminToken,
      json: { name: "  Acme Support ", slug },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: "Acme Support", slug, role: "admin", current: false });
    expect((await organizationsOf(adminToken)).map((org) => org.slug)).toContain(slug);
    const policy = await client.call("GET", `/api/v1/organizations/${made.body.id}/policy`, { token: adminToken });
    expect(policy.body).toMatchObject({ preset: "strict" });
    // The maker switches in and finds it empty: no tree, no session of anyone else's.
    const inside = await switchTo(adminToken, made.body.id);
    expect(inside.status).toBe(200);
    const trees = await client.call<unknown[]>("GET", "/api/v1/trees", { token: inside.body.access_token });
    expect(trees.status).toBe(200);
    expect(trees.body).toEqual([]);
    const sessions = await client.call<unknown[]>("GET", "/api/v1/sessions?all=true", {
      token: inside.body.access_token,
    });
    expect(sessions.body).toEqual([]);

    const again = await client.call("POST", "/api/v1/organizations", {
      token: adminToken,
      json: { name: "Other", slug },
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: "slug_taken" });
    for (const bad of ["", "Acme", "-acme", "acme-", "a".repeat(64), "ac me", "acmé"]) {
      const refused = await client.call("POST", "/api/v1/organizations", {
        token: adminToken,
        json: { name: "Bad", slug: bad },
      });
      expect(refused.status, bad).toBe(422);
    }
    // An organization's admin who is not the platform's makes none.
    const orgAdmin = await client.user("orgadmin");
    await organization([{ id: orgAdmin.id, role: "admin" }]);
    const denied = await client.call("POST", "/api/v1/organizations", {
      token: orgAdmin.tokens.access_token,
      json: { name: "Mine", slug: `${slug}-x` },
    });
    expect(denied.status).toBe(403);
  });

  it("races to one organization per slug", async () => {
    const slug = `race-${Date.now().toString(36)}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.call("POST", "/api/v1/organizations", { token: adminToken, json: { name: `Race ${i}`, slug } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const [row] = await authDb`select count(*)::int as n from organizations where slug = ${slug}`;
    expect(row?.n).toBe(1);
  });
});

describe("npm start's organizations (DEMO_DATA)", () => {
  it("names the default organization Demo, with the demo trees, and gives the admin an empty Sandbox", async () => {
    const demo = await startSystemWithAdmin({ DEMO_DATA: "true" });
    try {
      const mine = await demo.client.call<{ organizations: Organization[] }>("GET", "/api/v1/organizations", {
        token: demo.admin,
      });
      expect(mine.body.organizations.map((org) => [org.name, org.slug, org.role, org.current])).toEqual([
        ["Demo", "demo", "admin", true],
        ["Sandbox", "sandbox", "admin", false],
      ]);
      const demoTrees = await demo.client.call<Array<{ id: string; title: string }>>("GET", "/api/v1/trees", {
        token: demo.admin,
      });
      expect(demoTrees.body.length).toBeGreaterThan(0);
      await expectTheDemoTreeThatThinks(demo, demoTrees.body);
      const sandbox = mine.body.organizations[1]?.id ?? "";
      const inside = await demo.client.call<Pair>("POST", "/api/v1/auth/switch-organization", {
        token: demo.admin,
        json: { organization_id: sandbox },
      });
      const sandboxTrees = await demo.client.call<unknown[]>("GET", "/api/v1/trees", {
        token: inside.body.access_token,
      });
      expect(sandboxTrees.body).toEqual([]);
    } finally {
      await demo.stop();
    }
  });
});

describe("removing a member", () => {
  it("ends their logins in that organization at once, leaves the others, and is its admins' alone", async () => {
    const admin = await client.user("orgadmin");
    const member = await client.user("member");
    const org = await organization(
      [
        { id: admin.id, role: "admin" },
        { id: member.id, role: "engineer" },
      ],
      { idle: 600, abs: 3600 },
    );
    const inOrg = await switchTo(member.tokens.access_token, org.id);
    expect(inOrg.status).toBe(200);
    const remove = (token: string, userId: string, id = org.id) =>
      client.call("DELETE", `/api/v1/organizations/${id}/members/${userId}`, { token });
    // A member who is not its admin: 403; a stranger: 404; oneself: 409.
    expect((await remove(inOrg.body.access_token, admin.id)).status).toBe(403);
    const stranger = await client.user("stranger");
    expect((await remove(stranger.tokens.access_token, member.id)).status).toBe(404);
    const self = await remove(admin.tokens.access_token, admin.id);
    expect(self.status).toBe(409);
    expect(self.body).toEqual({ detail: "cannot_change_own_account" });

    expect((await remove(admin.tokens.access_token, member.id)).status).toBe(204);
    expect((await remove(admin.tokens.access_token, member.id)).status).toBe(404);
    // Their token there is refused within a second (the verifiers hear auth.session.revoked); their refresh there too.
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/trees", { token: inOrg.body.access_token })).status, {
        timeout: 2000,
        interval: 100,
      })
      .toBe(401);
    expect((await refresh(inOrg.body.refresh_token)).status).toBe(401);
    // Their login in the default organization stays, and lists only it.
    const home = await client.call("GET", "/api/v1/trees", { token: member.tokens.access_token });
    expect(home.status).toBe(200);
    expect((await organizationsOf(member.tokens.access_token)).map((item) => item.id)).toEqual([
      DEFAULT_ORGANIZATION_ID,
    ]);
  });
});

/**
 * The demo tree that uses variables, a form, logic nodes, an image and a second language (issue
 * 30): a German session on it shows the image, routes on the form's values and reports in German.
 */
async function expectTheDemoTreeThatThinks(demo: SystemWithAdmin, trees: Array<{ id: string; title: string }>) {
  const summary = trees.find((tree) => tree.title.startsWith("Printer paper jam"));
  expect(summary).toBeDefined();
  const tree = await demo.client.call<{
    variables: unknown[];
    translations: string[];
    nodes: Array<{ id: string; type: string; body: string }>;
  }>("GET", `/api/v1/trees/${summary?.id}`, { token: demo.admin });
  expect(tree.body.variables.length).toBeGreaterThan(0);
  expect(tree.body.translations).toEqual(["de"]);
  expect(new Set(tree.body.nodes.map((node) => node.type))).toEqual(
    new Set(["logic", "solution", "question", "form", "action"]),
  );
  const image = /media:([0-9a-f-]{36})/.exec(tree.body.nodes.find((node) => node.id === "panel")?.body ?? "")?.[1];
  expect(image).toBeDefined();
  const served = await demo.client.call("GET", `/api/v1/media/${image}`, { token: demo.admin });
  expect(served.status).toBe(200);
  expect(served.headers.get("content-type")).toBe("image/png");

  const started = await demo.client.call<{ id: string; locale: string; current_node: { title: string; body: string } }>(
    "POST",
    "/api/v1/sessions",
    { token: demo.admin, json: { tree_id: summary?.id, locale: "de", variables: { customer: "ACME" } } },
  );
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  expect(started.body.locale).toBe("de");
  expect(started.body.current_node.title).toBe("Was zeigt das Bedienfeld des Druckers?");
  expect(started.body.current_node.body).toContain(`media:${image}`);
  const step = (json: Record<string, unknown>) =>
    demo.client.call<{ current_node: { id: string; title: string } }>("PUT", `/api/v1/sessions/${started.body.id}`, {
      token: demo.admin,
      json,
    });
  expect((await step({ op: "answer", node_id: "panel", option_id: "jam" })).body.current_node.id).toBe("details");
  const routed = await step({
    op: "submit",
    node_id: "details",
    values: { serial: "CNB1234567", pages: 250000, warranty: false },
  });
  expect(routed.body.current_node.title).toBe("Rollen nach 250000 Seiten verschlissen: Servicetermin buchen");
}
