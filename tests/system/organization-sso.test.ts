/**
 * An organization's own settings (issue 28), end to end through the gateway against the real
 * services and real OpenID providers (oidc-provider on its defaults, scripts/oidc-dev-issuer.ts):
 * the email domains it takes members from, its member limit, and the single sign-on providers its
 * admin adds through the API, which sign people in to that organization only and are never
 * trusted to link an existing account by its email.
 *
 * Providers: `dev` is the deployment's (OIDC_PROVIDERS); `acme-idp` and `rival-idp` have issuers
 * of their own but are added by organizations here.
 */
import { randomUUID } from "node:crypto";
import { claimsOf, type TokenPair } from "@tdt/test-support/api";
import { CLIENT_SECRET, type SystemWithProviders, startSystemWithProviders } from "@tdt/test-support/identity-system";
import { secretsInLogs, serverErrorsInLogs } from "@tdt/test-support/log-secrets";
import { type SsoJourney, ssoJourney } from "@tdt/test-support/sso-journey";
import { queryDatabase } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const RUN = randomUUID().slice(0, 8);
const SECRET_KEY = "a".repeat(16) + randomUUID().replaceAll("-", "").slice(0, 16) + "b".repeat(32);
const ACME = `acme-${RUN}.test`;

let system: SystemWithProviders;
let journey: SsoJourney;
let platformAdmin: string;

interface Settings {
  id: string;
  domains: string[];
  limits: { max_members: number | null };
  members: number;
  open_invitations: number;
}
interface Provider {
  id: string;
  name: string;
  issuer: string;
  client_id: string;
  callback_url: string;
  allowed_domains: string[];
  default_role: string;
}

beforeAll(async () => {
  system = await startSystemWithProviders([{ id: "dev" }], { OIDC_SECRET_KEY: SECRET_KEY }, ["acme-idp", "rival-idp"]);
  journey = ssoJourney(system.gateway);
  journey.keep(CLIENT_SECRET);
  platformAdmin = system.running.admin;
  journey.keep(platformAdmin);
}, 120_000);

afterAll(async () => {
  const logs = system ? system.running.system.logs : [];
  await system?.stop();
  expect(secretsInLogs(logs, journey?.secrets ?? [])).toEqual([]);
  expect(serverErrorsInLogs(logs)).toEqual([]);
});

const call = <T = unknown>(...args: Parameters<SystemWithProviders["running"]["client"]["call"]>) =>
  system.running.client.call<T>(...args);
const authDb = <T>(query: Parameters<typeof queryDatabase<T>>[1]) =>
  queryDatabase(system.running.system.databases.auth.url, query);

/** A new organization made by the platform admin (its first admin), with `domains`. */
async function organization(label: string, domains: string[] = []) {
  const made = await call<{ id: string; slug: string }>("POST", "/api/v1/organizations", {
    token: platformAdmin,
    json: { name: `${label} ${RUN}`, slug: `${label}-${RUN}` },
  });
  expect(made.status).toBe(201);
  if (domains.length > 0) {
    const set = await call("PUT", `/api/v1/organizations/${made.body.id}/domains`, {
      token: platformAdmin,
      json: { domains },
    });
    expect(set.status).toBe(200);
  }
  return made.body;
}

/** The organization's provider for the dev issuer `issuerOf`, added by `token`. */
function addProvider(orgId: string, providerId: string, token: string, extra: Record<string, unknown> = {}) {
  const issuer = system.issuers.get(providerId)?.issuer ?? system.issuers.get("acme-idp")?.issuer;
  return call<Provider & { detail?: unknown }>("POST", `/api/v1/organizations/${orgId}/sso-providers`, {
    token,
    json: {
      provider_id: providerId,
      name: `Provider ${providerId}`,
      issuer,
      client_id: `tdt-${providerId}`,
      client_secret: CLIENT_SECRET,
      ...extra,
    },
  });
}

/** A new account at `domain`, signed in by password, made a member of the organization with `role`. */
async function memberOf(orgId: string, role: string, domain = ACME) {
  const user = await system.running.client.signUp(`${role}-${randomUUID().slice(0, 8)}@${domain}`);
  const added = await call("POST", `/api/v1/organizations/${orgId}/members`, {
    token: platformAdmin,
    json: { email: user.email, role },
  });
  expect(added.status).toBe(201);
  return user;
}

const settingsOf = async (orgId: string, token = platformAdmin) =>
  (await call<Settings>("GET", `/api/v1/organizations/${orgId}`, { token })).body;

describe("an organization's single sign-on provider", () => {
  let acme: { id: string; slug: string };
  let orgAdmin: { tokens: TokenPair; email: string };

  beforeAll(async () => {
    acme = await organization("acme", [ACME]);
    orgAdmin = await memberOf(acme.id, "admin");
  });

  it("is added by the organization's admin, shown without its secret, and kept encrypted at rest", async () => {
    const added = await addProvider(acme.id, "acme-idp", orgAdmin.tokens.access_token, {
      default_role: "engineer",
      allowed_domains: [ACME.toUpperCase()],
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      id: "acme-idp",
      default_role: "engineer",
      allowed_domains: [ACME],
      scopes: ["openid", "email", "profile"],
      callback_url: `${system.gateway}/api/v1/auth/oidc/acme-idp/callback`,
    });
    expect(JSON.stringify(added.body)).not.toContain(CLIENT_SECRET);
    const listed = await call<Provider[]>("GET", `/api/v1/organizations/${acme.id}/sso-providers`, {
      token: orgAdmin.tokens.access_token,
    });
    expect(listed.body.map((provider) => provider.id)).toEqual(["acme-idp"]);
    expect(JSON.stringify(listed.body)).not.toContain(CLIENT_SECRET);
    const [row] = await authDb(
      (sql) => sql<{ client_secret: string }[]>`select client_secret from oidc_providers where id = 'acme-idp'`,
    );
    expect(row?.client_secret.startsWith("v1.")).toBe(true);
    expect(row?.client_secret).not.toContain(CLIENT_SECRET);
    expect(row?.client_secret).not.toContain(Buffer.from(CLIENT_SECRET).toString("base64url"));
  });

  it("is offered on the organization's login page only", async () => {
    const own = await call<{ id: string }[]>("GET", `/api/v1/auth/providers?organization=${acme.slug}`);
    expect(own.body.map((provider) => provider.id)).toEqual(["acme-idp"]);
    const deployment = await call<{ id: string }[]>("GET", "/api/v1/auth/providers");
    expect(deployment.body.map((provider) => provider.id)).toEqual(["dev"]);
    const unknown = await call<{ id: string }[]>("GET", "/api/v1/auth/providers?organization=no-such-org");
    expect(unknown.body).toEqual([]);
  });

  it("signs a new person in to its organization only, with its role, as a member of nothing else", async () => {
    const { tokens } = await journey.signIn(`ana@${ACME}`, "acme-idp");
    expect(claimsOf(tokens.access_token)).toMatchObject({ org: acme.id, role: "engineer" });
    const organizations = await call<{ organizations: { id: string }[] }>("GET", "/api/v1/organizations", {
      token: tokens.access_token,
    });
    expect(organizations.body.organizations.map((org) => org.id)).toEqual([acme.id]);
    // Its trees are the organization's: the default organization's are not there.
    const me = await call<{ email_verified: boolean; organization: { id: string } }>("GET", "/api/v1/auth/me", {
      token: tokens.access_token,
    });
    expect(me.body.organization.id).toBe(acme.id);
    // The organization's admin chose the domains; no one proved them: the address stays unproven.
    expect(me.body.email_verified).toBe(false);
    // Signing in again finds the same account.
    const again = await journey.signIn(`ana@${ACME}`, "acme-idp");
    expect(claimsOf(again.tokens.access_token).sub).toBe(claimsOf(tokens.access_token).sub);
  });

  it("refuses addresses outside the organization's domains", async () => {
    const { params } = await journey.attempt(`bob@elsewhere-${RUN}.test`, "acme-idp");
    expect(params.error).toBe("domain_not_allowed");
  });

  it("never links an existing account by its email, whatever domain the organization claims (no takeover)", async () => {
    // A person with an account in the default organization, at an address in acme's domain.
    const victim = await system.running.client.signUp(`victim-${RUN}@${ACME}`);
    const { params } = await journey.attempt(victim.email, "acme-idp");
    expect(params.error).toBe("account_exists_link_required");
    const links = await authDb(
      (sql) => sql`select 1 from oidc_identities where user_id = ${claimsOf(victim.tokens.access_token).sub as string}`,
    );
    expect(links).toHaveLength(0);
  });

  it("signs in no one who is no longer a member", async () => {
    const { tokens } = await journey.signIn(`leaver@${ACME}`, "acme-idp");
    const removed = await call(
      "DELETE",
      `/api/v1/organizations/${acme.id}/members/${claimsOf(tokens.access_token).sub}`,
      {
        token: orgAdmin.tokens.access_token,
      },
    );
    expect(removed.status).toBe(204);
    const { params } = await journey.attempt(`leaver@${ACME}`, "acme-idp");
    expect(params.error).toBe("not_a_member");
  });

  it("keeps its stored secret when replaced without one, and the next sign-in reads the change", async () => {
    const replaced = await call<Provider>("PUT", `/api/v1/organizations/${acme.id}/sso-providers/acme-idp`, {
      token: orgAdmin.tokens.access_token,
      json: {
        name: "Acme single sign-on",
        issuer: system.issuers.get("acme-idp")?.issuer,
        client_id: "tdt-acme-idp",
        default_role: "technician",
        allowed_domains: [ACME],
      },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.name).toBe("Acme single sign-on");
    const { tokens } = await journey.signIn(`carl@${ACME}`, "acme-idp");
    expect(claimsOf(tokens.access_token)).toMatchObject({ org: acme.id, role: "technician" });
  });

  it("is refused where it would not hold: a taken id, domains outside the organization's, another's admin", async () => {
    const rival = await organization("rival", [`rival-${RUN}.test`]);
    const rivalAdmin = await memberOf(rival.id, "admin", `rival-${RUN}.test`);
    // The deployment's id, and another organization's.
    const deployments = await addProvider(rival.id, "dev", rivalAdmin.tokens.access_token);
    expect([deployments.status, deployments.body.detail]).toEqual([409, "provider_id_taken"]);
    const taken = await addProvider(rival.id, "acme-idp", rivalAdmin.tokens.access_token);
    expect([taken.status, taken.body.detail]).toEqual([409, "provider_id_taken"]);
    // A domain the organization does not take members from.
    const outside = await addProvider(rival.id, "rival-idp", rivalAdmin.tokens.access_token, {
      allowed_domains: [ACME],
    });
    expect(outside.status).toBe(422);
    expect(JSON.stringify(outside.body)).toContain("allowed_domains");
    // A plain-http issuer off this machine, and a list of scopes without openid.
    const insecure = await addProvider(rival.id, "rival-idp", rivalAdmin.tokens.access_token, {
      issuer: "http://idp.example.com",
      scopes: ["email"],
    });
    expect(insecure.status).toBe(422);
    expect(JSON.stringify(insecure.body)).toContain("issuer");
    expect(JSON.stringify(insecure.body)).toContain("scopes");
    // acme's provider, seen or changed by rival's admin: it does not exist for them.
    for (const [method, path] of [
      ["GET", `/api/v1/organizations/${acme.id}/sso-providers`],
      ["DELETE", `/api/v1/organizations/${acme.id}/sso-providers/acme-idp`],
      ["PUT", `/api/v1/organizations/${rival.id}/sso-providers/acme-idp`],
    ] as const) {
      const answer = await call(method, path, {
        token: rivalAdmin.tokens.access_token,
        ...(method === "PUT"
          ? { json: { name: "x", issuer: "https://idp.example.com", client_id: "x", allowed_domains: [] } }
          : {}),
      });
      expect([method, path, answer.status]).toEqual([method, path, 404]);
    }
    // A member who is not an admin: 403.
    const engineer = await memberOf(acme.id, "engineer");
    const switched = await call<TokenPair>("POST", "/api/v1/auth/switch-organization", {
      token: engineer.tokens.access_token,
      json: { organization_id: acme.id },
    });
    const forbidden = await call("GET", `/api/v1/organizations/${acme.id}/sso-providers`, {
      token: switched.body.access_token,
    });
    expect(forbidden.status).toBe(403);
  });

  it("cannot be left outside the organization's domains by changing them (409 domain_in_use)", async () => {
    const narrowed = await call<{ detail: string }>("PUT", `/api/v1/organizations/${acme.id}/domains`, {
      token: orgAdmin.tokens.access_token,
      json: { domains: [`other-${RUN}.test`] },
    });
    expect([narrowed.status, narrowed.body.detail]).toEqual([409, "domain_in_use"]);
    expect((await settingsOf(acme.id)).domains).toEqual([ACME]);
    const bad = await call("PUT", `/api/v1/organizations/${acme.id}/domains`, {
      token: orgAdmin.tokens.access_token,
      json: { domains: ["not a domain", "\u0000.test"] },
    });
    expect(bad.status).toBe(422);
  });

  it("ends the sign-ins it made when removed, and signs in no one after", async () => {
    const { tokens } = await journey.signIn(`dora@${ACME}`, "acme-idp");
    const removed = await call("DELETE", `/api/v1/organizations/${acme.id}/sso-providers/acme-idp`, {
      token: orgAdmin.tokens.access_token,
    });
    expect(removed.status).toBe(204);
    const refreshed = await call<{ detail: string }>("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.status).toBe(401);
    const authorize = await call("GET", `/api/v1/auth/oidc/acme-idp/authorize?return_to=${journey.returnTo}`);
    expect(authorize.status).toBe(404);
    // The accounts it made stay members.
    const members = await authDb(
      (sql) => sql`select 1 from memberships m join users u on u.id = m.user_id
                   where m.org_id = ${acme.id} and u.email = ${`dora@${ACME}`}`,
    );
    expect(members).toHaveLength(1);
  });
});

describe("an organization's limits and domains", () => {
  it("are the platform's to set: the organization's admin reads them and is refused (403)", async () => {
    const org = await organization("limits");
    const orgAdmin = await memberOf(org.id, "admin");
    const refused = await call("PUT", `/api/v1/organizations/${org.id}/limits`, {
      token: orgAdmin.tokens.access_token,
      json: { max_members: 1000 },
    });
    expect(refused.status).toBe(403);
    expect((await settingsOf(org.id, orgAdmin.tokens.access_token)).limits).toEqual({ max_members: null });
    const set = await call<Settings>("PUT", `/api/v1/organizations/${org.id}/limits`, {
      token: platformAdmin,
      json: { max_members: 3 },
    });
    expect(set.body).toMatchObject({ limits: { max_members: 3 }, members: 2, open_invitations: 0 });
    const cleared = await call<Settings>("PUT", `/api/v1/organizations/${org.id}/limits`, {
      token: platformAdmin,
      json: { max_members: null },
    });
    expect(cleared.body.limits).toEqual({ max_members: null });
  });

  it("hold under racing additions: the last seat goes once, invitations take seats, domains are kept", async () => {
    const TRIALS = 5;
    const RACERS = 6;
    const outcomes: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const org = await organization(`race${trial}`, [ACME]);
      // Members: the platform admin; one seat left.
      await call("PUT", `/api/v1/organizations/${org.id}/limits`, { token: platformAdmin, json: { max_members: 2 } });
      const answers = await Promise.all(
        Array.from({ length: RACERS }, (_, racer) =>
          call<{ detail?: string }>("POST", `/api/v1/organizations/${org.id}/members`, {
            token: platformAdmin,
            json: { email: `racer-${trial}-${racer}-${RUN}@${ACME}`, role: "technician" },
          }),
        ),
      );
      for (const answer of answers) {
        const key = `${answer.status} ${answer.status === 201 ? "" : answer.body.detail}`.trim();
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
      expect(await settingsOf(org.id)).toMatchObject({ members: 1, open_invitations: 1 });
      const outside = await call<{ detail: Array<{ type: string; loc: string[] }> }>(
        "POST",
        `/api/v1/organizations/${org.id}/members`,
        { token: platformAdmin, json: { email: `someone-${trial}@elsewhere.test`, role: "technician" } },
      );
      expect(outside.status).toBe(422);
      expect(outside.body.detail[0]).toMatchObject({ loc: ["body", "email"], type: "domain_not_allowed" });
    }
    expect(outcomes).toEqual({ "201": TRIALS, "409 organization_full": TRIALS * (RACERS - 1) });
  });

  it("refuse single sign-on's new accounts when full, and let its members in", async () => {
    const org = await organization("full", [ACME]);
    const orgAdmin = await memberOf(org.id, "admin");
    const providerId = "rival-idp";
    expect((await addProvider(org.id, providerId, orgAdmin.tokens.access_token)).status).toBe(201);
    const first = await journey.signIn(`first@${ACME}`, providerId);
    await call("PUT", `/api/v1/organizations/${org.id}/limits`, { token: platformAdmin, json: { max_members: 3 } });
    const { params } = await journey.attempt(`second@${ACME}`, providerId);
    expect(params.error).toBe("organization_full");
    const again = await journey.signIn(`first@${ACME}`, providerId);
    expect(claimsOf(again.tokens.access_token).sub).toBe(claimsOf(first.tokens.access_token).sub);
  });
});
