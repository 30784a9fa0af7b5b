/**
 * A program that uses every operation of the TDT API the way a frontend would: through the
 * generated types of `@tdt/api-client` and openapi-fetch, against a running system. Each call
 * checks its status and some typed fields, a few check typed error codes, and at the end every
 * operation the served OpenAPI document lists must have been called. Exits 1 on any mismatch.
 *
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… npx tsx tests/client/every-route.ts http://127.0.0.1:8000
 *
 * `npx tsc -p tests/client` type-checks it against the committed client; the typed-client
 * system test does both. No API type is cast: the bodies are written as the contract types
 * them (defaults left out, nodes narrowed by `type`, a TreeUpdate with its `version`).
 */
import { type ApiClient, createApiClient, type Schemas } from "@tdt/api-client";
import { authoredPrinterTree } from "@tdt/test-support/trees";
import {
  answered,
  check,
  checksPassed,
  equal,
  invalid,
  Mismatch,
  noContent,
  refused,
  totalCount,
} from "./expectations.js";
import { type OperationName, operationCoverage, operationsOf } from "./operation-coverage.js";

const baseUrl = process.argv[2];
const { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword } = process.env;
if (!baseUrl || !adminEmail || !adminPassword) {
  console.error("usage: ADMIN_EMAIL=… ADMIN_PASSWORD=… tsx tests/client/every-route.ts <gateway base URL>");
  process.exit(2);
}
const firstAdmin = { email: adminEmail, password: adminPassword };

const coverage = operationCoverage();

/** A client for one caller, as a frontend keeps one per signed-in user. */
function clientFor(accessToken?: string): ApiClient {
  const client = createApiClient({
    baseUrl,
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
  });
  client.use(coverage.middleware);
  return client;
}

const anonymous = clientFor();
// EVERY_ROUTE_UNIQUE fixes it, for a run whose exchanges are compared with a recording (tests/golden).
const unique = process.env.EVERY_ROUTE_UNIQUE ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** The gateway's own endpoints: liveness, readiness and the signing keys. */
async function gatewayEndpoints(): Promise<void> {
  const health = answered(await anonymous.GET("/health"), 200, "GET /health");
  equal(health.status, "ok", "health status");
  equal(typeof health.version, "string", "health version");

  const ready = answered(await anonymous.GET("/ready"), 200, "GET /ready");
  // `degraded` is a true answer too when a health check misses its short deadline on a busy machine.
  check(ready.status === "ready" || ready.status === "degraded", `readiness: ${ready.status}`);
  equal(
    Object.keys(ready.services ?? {})
      .sort()
      .join(","),
    "auth,hooks,sessions,trees",
    "the services /ready reports",
  );

  const jwks = answered(await anonymous.GET("/.well-known/jwks.json"), 200, "GET /.well-known/jwks.json");
  check(jwks.keys.length > 0 && jwks.keys.every((key) => key.kid.length > 0), "the JWKS has keys with a kid");
}

interface Accounts {
  admin: ApiClient;
  adminId: string;
  engineer: ApiClient;
  engineerId: string;
  technician: ApiClient;
  technicianTokens: Schemas["TokenPair"];
}

const password = "correct-horse-battery";

/**
 * A self-registered technician. The system runs with REGISTRATION=open (typed-client.test.ts):
 * the account signs in before its mailed link is followed, which a program without a mailbox
 * cannot follow (the identity system tests follow the real mail).
 */
async function register(label: string): Promise<Schemas["User"]> {
  const email = `${label}-${unique}@example.com`;
  const accepted = answered(
    await anonymous.POST("/api/v1/auth/register", { body: { email, password, full_name: `A ${label}` } }),
    202,
    `register ${label}`,
  );
  equal(accepted.detail, "verification_sent", "what registration answers");
  const tokens = await loginJson(email, password);
  const session = clientFor(tokens.access_token);
  const user = answered(await session.GET("/api/v1/auth/me"), 200, `GET /me of ${label}`);
  // That login was only to read the account: it ends, so the login sessions counted later are the program's own.
  noContent(await session.POST("/api/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } }), "logout");
  equal(user.email, email, "registered email");
  equal(user.role, "technician", "a self-registered user's role");
  equal(user.email_verified, false, "a self-registered address before its link is followed");
  return user;
}

async function loginJson(email: string, secret: string): Promise<Schemas["TokenPair"]> {
  const tokens = answered(
    await anonymous.POST("/api/v1/auth/login/json", { body: { email, password: secret } }),
    200,
    `login/json ${email}`,
  );
  equal(tokens.token_type, "bearer", "token type");
  return tokens;
}

async function accounts(): Promise<Accounts> {
  // The admin logs in with the OAuth2 password form, as Swagger UI's Authorize does.
  const adminTokens = answered(
    await anonymous.POST("/api/v1/auth/login", {
      body: { username: firstAdmin.email, password: firstAdmin.password, grant_type: "password" },
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
    200,
    "login (form) as the admin",
  );
  check(adminTokens.expires_in > 0, "the access token's lifetime is positive");
  const admin = clientFor(adminTokens.access_token);
  const adminUser = answered(await admin.GET("/api/v1/auth/me"), 200, "GET /me as the admin");
  equal(adminUser.role, "admin", "the admin's role");

  const technicianUser = await register("technician");
  const again = answered(
    await anonymous.POST("/api/v1/auth/register", {
      body: { email: technicianUser.email, password, full_name: "Again" },
    }),
    202,
    "registering an email twice",
  );
  equal(again.detail, "verification_sent", "registering a taken email answers as a new one");
  refused(
    await anonymous.POST("/api/v1/auth/login/json", {
      body: { email: technicianUser.email, password: "wrong-password" },
    }),
    401,
    "invalid_credentials",
    "login with a wrong password",
  );
  const technicianTokens = await loginJson(technicianUser.email, password);
  const technician = clientFor(technicianTokens.access_token);
  const me = answered(await technician.GET("/api/v1/auth/me"), 200, "GET /me");
  equal(me.id, technicianUser.id, "who /me is");
  refused(await anonymous.GET("/api/v1/auth/me"), 401, "not_authenticated", "GET /me without a token");

  // Users (admin): list, promote one to engineer; nobody else may, and not on oneself.
  const engineerUser = await register("engineer");
  const users = await admin.GET("/api/v1/auth/users", { params: { query: { limit: 100 } } });
  const listed = answered(users, 200, "GET /auth/users");
  check(
    listed.some((user) => user.id === engineerUser.id),
    "the user list holds the new user",
  );
  check(totalCount(users.response) >= 3, "X-Total-Count counts the users");
  refused(await technician.GET("/api/v1/auth/users"), 403, "forbidden", "a technician listing users");
  const promoted = answered(
    await admin.PATCH("/api/v1/auth/users/{id}", {
      params: { path: { id: engineerUser.id } },
      body: { role: "engineer" },
    }),
    200,
    "PATCH a user's role",
  );
  equal(promoted.role, "engineer", "the promoted role");
  refused(
    await admin.PATCH("/api/v1/auth/users/{id}", {
      params: { path: { id: adminUser.id } },
      body: { is_active: false },
    }),
    409,
    "cannot_change_own_account",
    "an admin deactivating themself",
  );
  const engineer = clientFor((await loginJson(engineerUser.email, password)).access_token);

  // A device the engineer lost: the admin ends that login session alone.
  const lost = await loginJson(engineerUser.email, password);
  const ofEngineer = { params: { path: { id: engineerUser.id } } };
  const open = answered(await admin.GET("/api/v1/auth/users/{id}/sessions", ofEngineer), 200, "GET a user's sessions");
  equal(open.length, 2, "the engineer's login sessions");
  refused(
    await technician.GET("/api/v1/auth/users/{id}/sessions", ofEngineer),
    403,
    "forbidden",
    "a technician listing another's sessions",
  );
  const own = answered(await engineer.GET("/api/v1/auth/sessions"), 200, "GET /auth/sessions as the engineer");
  const kept = own.find((session) => session.current)?.sid;
  const lostSession = open.find((session) => session.sid !== kept);
  check(
    kept !== undefined && lostSession !== undefined,
    "the lost device's session is the one the engineer is not using",
  );
  noContent(
    await admin.DELETE("/api/v1/auth/users/{id}/sessions/{sid}", {
      params: { path: { id: engineerUser.id, sid: lostSession.sid } },
    }),
    "DELETE a user's login session",
  );
  refused(
    await admin.DELETE("/api/v1/auth/users/{id}/sessions/{sid}", {
      params: { path: { id: engineerUser.id, sid: lostSession.sid } },
    }),
    404,
    "not_found",
    "DELETE a user's login session again",
  );
  refused(
    await anonymous.POST("/api/v1/auth/refresh", { body: { refresh_token: refreshTokenOf(lost) } }),
    401,
    "invalid_refresh_token",
    "refresh on the ended session",
  );
  equal(
    answered(await admin.GET("/api/v1/auth/users/{id}/sessions", ofEngineer), 200, "GET a user's sessions after")
      .length,
    1,
    "the engineer's login sessions once one is ended",
  );

  return { admin, adminId: adminUser.id, engineer, engineerId: engineerUser.id, technician, technicianTokens };
}

/** The refresh token of a pair in the JSON mode (no `X-Token-Transport: cookie`), where the body carries it. */
function refreshTokenOf(pair: Schemas["TokenPair"]): string {
  check(pair.refresh_token !== undefined, "a token pair in the JSON mode carries its refresh token");
  return pair.refresh_token;
}

/** Refresh with an Idempotency-Key (a retry answers the same pair), list and revoke login sessions. */
async function loginSessions(technicianTokens: Schemas["TokenPair"]): Promise<Schemas["TokenPair"]> {
  const refresh = (refresh_token: string, key: string) =>
    anonymous.POST("/api/v1/auth/refresh", {
      params: { header: { "idempotency-key": key } },
      body: { refresh_token },
    });
  const key = `refresh-${unique}`;
  const renewed = answered(await refresh(refreshTokenOf(technicianTokens), key), 200, "refresh");
  check(renewed.refresh_token !== technicianTokens.refresh_token, "a refresh rotates the refresh token");
  const retried = answered(await refresh(refreshTokenOf(technicianTokens), key), 200, "refresh retried with its key");
  equal(retried.refresh_token, renewed.refresh_token, "a retried refresh answers the same pair");

  const technician = clientFor(renewed.access_token);
  const me = answered(await technician.GET("/api/v1/auth/me"), 200, "GET /me after refresh");

  // A second login (another device), then revoked from the first.
  const other = await loginJson(me.email, password);
  const sessions = answered(await technician.GET("/api/v1/auth/sessions"), 200, "GET /auth/sessions");
  equal(sessions.length, 2, "login sessions after a second login");
  const current = sessions.filter((session) => session.current);
  equal(current.length, 1, "exactly one login session is the caller's");
  const device = sessions.find((session) => !session.current);
  check(device !== undefined, "the other device's login session is listed");
  check(Date.parse(device.idle_expires_at) <= Date.parse(device.absolute_expires_at), "idle deadline ≤ absolute");
  noContent(
    await technician.DELETE("/api/v1/auth/sessions/{sid}", { params: { path: { sid: device.sid } } }),
    "DELETE a login session",
  );
  refused(
    await technician.DELETE("/api/v1/auth/sessions/{sid}", { params: { path: { sid: crypto.randomUUID() } } }),
    404,
    "not_found",
    "DELETE an unknown login session",
  );
  refused(await refresh(refreshTokenOf(other), `revoked-${unique}`), 401, "invalid_refresh_token", "refresh revoked");
  return renewed;
}

async function sessionPolicy(admin: ApiClient, technician: ApiClient): Promise<void> {
  const policy = answered(await admin.GET("/api/v1/auth/session-policy"), 200, "GET session-policy");
  equal(policy.preset, "strict", "the default policy");
  equal(policy.reuse_grace_seconds, 0, "strict's reuse grace");
  refused(await technician.GET("/api/v1/auth/session-policy"), 403, "forbidden", "a technician reading the policy");

  const standard = answered(
    await admin.PUT("/api/v1/auth/session-policy", { body: { preset: "standard" } }),
    200,
    "PUT session-policy standard",
  );
  equal(standard.idle_max_seconds, 7 * 86_400, "standard's idle limit");
  const custom = answered(
    await admin.PUT("/api/v1/auth/session-policy", {
      body: { preset: "custom", idle_max_seconds: 3_600, abs_max_seconds: 86_400, reuse_grace_seconds: 5 },
    }),
    200,
    "PUT session-policy custom",
  );
  equal(custom.abs_max_seconds, 86_400, "custom's absolute limit");
  answered(await admin.PUT("/api/v1/auth/session-policy", { body: { preset: "strict" } }), 200, "back to strict");
}

/** The caller's organizations, switching, and the organization's policy and members (its admin's). */
async function organizations(admin: ApiClient, technician: ApiClient): Promise<void> {
  const mine = answered(await admin.GET("/api/v1/organizations"), 200, "GET /organizations").organizations;
  equal(mine.length, 1, "a single-organization deployment");
  const home = mine[0];
  check(home?.current === true && home.role === "admin", "the admin's one organization, current");
  const id = home?.id ?? "";
  const path = { params: { path: { id } } };
  equal(
    answered(await admin.GET("/api/v1/organizations/{id}/policy", path), 200, "GET its policy").preset,
    "strict",
    "its policy",
  );
  const standard = answered(
    await admin.PUT("/api/v1/organizations/{id}/policy", { ...path, body: { preset: "standard" } }),
    200,
    "PUT its policy",
  );
  equal(standard.reuse_grace_seconds, 10, "standard's grace");
  answered(
    await admin.PUT("/api/v1/organizations/{id}/policy", { ...path, body: { preset: "strict" } }),
    200,
    "back to strict",
  );
  refused(
    await technician.PUT("/api/v1/organizations/{id}/policy", { ...path, body: { preset: "aal2" } }),
    403,
    "forbidden",
    "a technician setting the organization's policy",
  );
  const invited = answered(
    await admin.POST("/api/v1/organizations/{id}/members", {
      ...path,
      body: { email: `member-${unique}@example.com`, role: "engineer" },
    }),
    201,
    "POST a member (invited)",
  );
  equal(invited.status, "invited", "an address without an account is invited");
  const switched = answered(
    await technician.POST("/api/v1/auth/switch-organization", { body: { organization_id: id } }),
    200,
    "POST switch-organization",
  );
  check(switched.access_token.length > 0, "a new pair");
  refused(
    await technician.POST("/api/v1/auth/switch-organization", { body: { organization_id: crypto.randomUUID() } }),
    404,
    "not_found",
    "switching to an organization the caller is no member of",
  );
  // A platform admin makes a second organization, and is its first admin.
  const slug = `org-${unique}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  const made = answered(
    await admin.POST("/api/v1/organizations", { body: { name: `Second ${unique}`, slug } }),
    201,
    "POST /organizations",
  );
  equal(made.role, "admin", "the maker's role in it");
  refused(
    await admin.POST("/api/v1/organizations", { body: { name: "Again", slug } }),
    409,
    "slug_taken",
    "a slug taken",
  );
  refused(
    await technician.POST("/api/v1/organizations", { body: { name: "Mine", slug: `t-${slug}` } }),
    403,
    "forbidden",
    "a technician making an organization",
  );
  const both = answered(await admin.GET("/api/v1/organizations"), 200, "GET /organizations again").organizations;
  equal(both.length, 2, "the admin's organizations now");
  await organizationSettings(admin, technician, made.id, slug);
  refused(
    await admin.DELETE("/api/v1/organizations/{id}/members/{user_id}", {
      params: { path: { id: made.id, user_id: crypto.randomUUID() } },
    }),
    404,
    "not_found",
    "removing someone who is no member",
  );
}

/** An organization's settings: its domains, its limits, and the single sign-on providers its admin adds. */
async function organizationSettings(admin: ApiClient, technician: ApiClient, id: string, slug: string): Promise<void> {
  const path = { params: { path: { id } } };
  const settings = answered(await admin.GET("/api/v1/organizations/{id}", path), 200, "GET an organization");
  equal(settings.members, 1, "its maker is its one member");
  equal(settings.limits.max_members, null, "no member limit");
  const domains = answered(
    await admin.PUT("/api/v1/organizations/{id}/domains", { ...path, body: { domains: ["Example.com"] } }),
    200,
    "PUT its domains",
  );
  equal(domains.domains.join(), "example.com", "its domains, lowercased");
  const limited = answered(
    await admin.PUT("/api/v1/organizations/{id}/limits", { ...path, body: { max_members: 25 } }),
    200,
    "PUT its limits",
  );
  equal(limited.limits.max_members, 25, "its member limit");
  answered(
    await admin.PUT("/api/v1/organizations/{id}/limits", { ...path, body: { max_members: null } }),
    200,
    "no limit again",
  );
  refused(
    await technician.GET("/api/v1/organizations/{id}", path),
    404,
    "not_found",
    "a non-member reading an organization",
  );
  equal(
    answered(await admin.GET("/api/v1/organizations/{id}/sso-providers", path), 200, "GET its providers").length,
    0,
    "no provider yet",
  );
  const providerId = `${slug}-sso`.slice(0, 64);
  const provider = answered(
    await admin.POST("/api/v1/organizations/{id}/sso-providers", {
      ...path,
      body: {
        provider_id: providerId,
        name: "Example SSO",
        issuer: "https://idp.example.com",
        client_id: "tdt",
        client_secret: "never-shown",
        allowed_domains: ["example.com"],
      },
    }),
    201,
    "POST a provider",
  );
  check(provider.callback_url.endsWith(`/api/v1/auth/oidc/${providerId}/callback`), "its callback URL");
  refused(
    await admin.POST("/api/v1/organizations/{id}/sso-providers", {
      ...path,
      body: {
        provider_id: providerId,
        name: "Again",
        issuer: "https://idp.example.com",
        client_id: "x",
        client_secret: "y",
      },
    }),
    409,
    "provider_id_taken",
    "a provider id taken",
  );
  const providerPath = { params: { path: { id, provider_id: providerId } } };
  const replaced = answered(
    await admin.PUT("/api/v1/organizations/{id}/sso-providers/{provider_id}", {
      ...providerPath,
      body: {
        name: "Example",
        issuer: "https://idp.example.com",
        client_id: "tdt",
        default_role: "engineer",
        allowed_domains: ["example.com"],
      },
    }),
    200,
    "PUT a provider",
  );
  equal(replaced.default_role, "engineer", "the provider's role, replaced");
  refused(
    await admin.PUT("/api/v1/organizations/{id}/domains", { ...path, body: { domains: ["example.org"] } }),
    409,
    "domain_in_use",
    "a domain its provider signs in, left out",
  );
  const offered = answered(
    await admin.GET("/api/v1/auth/providers", { params: { query: { organization: slug } } }),
    200,
    "GET an organization's login providers",
  );
  equal(offered.map((one) => one.id).join(), providerId, "its login page's providers");
  noContent(
    await admin.DELETE("/api/v1/organizations/{id}/sso-providers/{provider_id}", providerPath),
    "DELETE a provider",
  );
}

/** The tree the sessions run through, as an author writes it (the tests' one printer tree), in this run's category. */
const printer = authoredPrinterTree();
const printerTree: Schemas["TreeInput"] = {
  ...printer,
  title: `${printer.title} ${unique}`,
  category: `${printer.category} ${unique}`,
};

/** Create, list, search, read, edit (and a stale edit), history, delete. Answers the printer tree. */
async function trees({ admin, engineer, engineerId, technician }: Accounts): Promise<Schemas["Tree"]> {
  const created = answered(await engineer.POST("/api/v1/trees", { body: printerTree }), 201, "POST /trees");
  equal(created.version, 1, "a new tree's version");
  equal(created.created_by, engineerId, "who created the tree");
  equal(created.description, "", "the default description");

  // No status: a new tree is a draft.
  const draftBody: Schemas["TreeInput"] = {
    title: `Scanner jams ${unique}`,
    category: `Scanners ${unique}`,
    root_node_id: "feed",
    nodes: [{ id: "feed", type: "solution", title: "Clean the feed rollers", outcome: "resolved" }],
  };
  const draft = answered(await engineer.POST("/api/v1/trees", { body: draftBody }), 201, "POST a draft");
  equal(draft.status, "draft", "the default status");

  invalid(
    await engineer.POST("/api/v1/trees", {
      body: { ...draftBody, nodes: [{ id: "feed", type: "action", title: "Open the lid", next: "nowhere" }] },
    }),
    ["body", "nodes", 0, "next"],
    "a tree whose next names no node",
  );
  refused(await technician.POST("/api/v1/trees", { body: printerTree }), 403, "forbidden", "a technician authoring");

  const list = await technician.GET("/api/v1/trees", { params: { query: { category: printerTree.category } } });
  const summaries = answered(list, 200, "GET /trees");
  equal(summaries.length, 1, "trees in the printer category");
  equal(summaries[0]?.node_count, printerTree.nodes.length, "the summary's node count");
  equal(totalCount(list.response), 1, "X-Total-Count of the category");
  const drafts = answered(
    await engineer.GET("/api/v1/trees", { params: { query: { status: "draft", category: draftBody.category } } }),
    200,
    "GET /trees?status=draft",
  );
  equal(drafts[0]?.id, draft.id, "the engineer sees the draft");

  const categories = answered(await technician.GET("/api/v1/trees/categories"), 200, "GET /trees/categories");
  check(categories.includes(printerTree.category), "the categories hold the printer category");
  check(!categories.includes(draftBody.category), "a technician does not see a draft's category");

  const found = answered(
    await technician.GET("/api/v1/trees/search", { params: { query: { q: `toner ${unique}`, limit: 5 } } }),
    200,
    "GET /trees/search",
  );
  equal(found[0]?.id, created.id, "the best match");

  const tree = answered(
    await technician.GET("/api/v1/trees/{id}", { params: { path: { id: created.id } } }),
    200,
    "GET /trees/{id}",
  );
  const root = tree.nodes.find((node) => node.id === tree.root_node_id);
  check(root?.type === "question", "the root is a question");
  equal(root.options.map((option) => option.label).join("/"), "Yes/No", "the root's answers");

  const edit = (version: number, change_note: string): Schemas["TreeUpdate"] => ({
    ...printerTree,
    title: `${printerTree.title} (laser)`,
    change_note,
    version,
  });
  const updated = answered(
    await engineer.PUT("/api/v1/trees/{id}", { params: { path: { id: created.id } }, body: edit(1, "Say laser") }),
    200,
    "PUT /trees/{id}",
  );
  equal(updated.version, 2, "the edited version");
  refused(
    await engineer.PUT("/api/v1/trees/{id}", { params: { path: { id: created.id } }, body: edit(1, "Stale") }),
    409,
    "version_conflict",
    "an edit of a stale version",
  );
  const first = answered(
    await technician.GET("/api/v1/trees/{id}", { params: { path: { id: created.id }, query: { version: 1 } } }),
    200,
    "GET /trees/{id}?version=1",
  );
  equal(first.title, printerTree.title, "version 1's title");

  const versions = answered(
    await engineer.GET("/api/v1/trees/{id}/versions", { params: { path: { id: created.id } } }),
    200,
    "GET /trees/{id}/versions",
  );
  equal(versions.map((version) => version.version).join(","), "2,1", "the history, newest first");
  equal(versions[0]?.change_note, "Say laser", "the latest change note");

  // No session has run on it yet: every count is zero.
  const analytics = answered(
    await engineer.GET("/api/v1/trees/{id}/analytics", { params: { path: { id: created.id }, query: { version: 2 } } }),
    200,
    "GET /trees/{id}/analytics",
  );
  equal(analytics.sessions.started, 0, "sessions on a tree nobody ran");
  equal(analytics.resolution_rate, 0, "the resolution rate with no completed session");

  refused(
    await engineer.DELETE("/api/v1/trees/{id}", { params: { path: { id: draft.id } } }),
    403,
    "forbidden",
    "an engineer deleting",
  );
  noContent(await admin.DELETE("/api/v1/trees/{id}", { params: { path: { id: draft.id } } }), "DELETE /trees/{id}");
  refused(
    await engineer.GET("/api/v1/trees/{id}", { params: { path: { id: draft.id } } }),
    404,
    "not_found",
    "a deleted tree",
  );
  return updated;
}

/**
 * Authoring beside the live tree: a draft saved (and a stale save refused), diffed, reviewed where
 * review is required, published; a rollback; settings; history; archive and restore; the
 * portable format out and back in, with its JSON Schema.
 */
async function authoring({ engineer, technician, admin }: Accounts): Promise<void> {
  const tree = answered(
    await engineer.POST("/api/v1/trees", { body: { ...printerTree, title: `Authoring ${unique}` } }),
    201,
    "POST /trees for authoring",
  );
  const path = { params: { path: { id: tree.id } } };
  const empty = answered(await engineer.GET("/api/v1/trees/{id}/draft", path), 200, "GET /trees/{id}/draft");
  equal(empty.draft_revision, 0, "a tree without a draft");
  equal(empty.saved_at, null, "nothing saved yet");
  refused(await technician.GET("/api/v1/trees/{id}/draft", path), 403, "forbidden", "a technician's draft");

  const { title, description, category, tags, root_node_id, nodes } = empty;
  const content = { title, description, category, tags, root_node_id, nodes };
  const saved = answered(
    await engineer.PUT("/api/v1/trees/{id}/draft", {
      ...path,
      body: { ...content, description: "Reworded", draft_revision: 0 },
    }),
    200,
    "PUT /trees/{id}/draft",
  );
  equal(saved.draft_revision, 1, "the first saved revision");
  refused(
    await engineer.PUT("/api/v1/trees/{id}/draft", { ...path, body: { ...content, draft_revision: 0 } }),
    409,
    "draft_conflict",
    "a stale draft save",
  );
  const diff = answered(await engineer.GET("/api/v1/trees/{id}/diff", path), 200, "GET /trees/{id}/diff");
  equal(diff.fields.join(","), "description", "what the draft changed");

  const settings = answered(
    await engineer.PATCH("/api/v1/trees/{id}/settings", { ...path, body: { review_required: true } }),
    200,
    "PATCH /trees/{id}/settings",
  );
  equal(settings.review_required, true, "review required");
  equal(
    answered(await admin.GET("/api/v1/trees/{id}/settings", path), 200, "GET /trees/{id}/settings").review_required,
    true,
    "the settings as read",
  );
  refused(
    await engineer.POST("/api/v1/trees/{id}/publish", { ...path, body: { draft_revision: 1 } }),
    409,
    "review_required",
    "publishing without a review",
  );
  refused(
    await engineer.POST("/api/v1/trees/{id}/reviews", { ...path, body: { draft_revision: 1, decision: "approve" } }),
    403,
    "self_review",
    "approving one's own draft",
  );
  const review = answered(
    await admin.POST("/api/v1/trees/{id}/reviews", {
      ...path,
      body: { draft_revision: 1, decision: "approve", comment: "Fine" },
    }),
    201,
    "POST /trees/{id}/reviews",
  );
  equal(review.decision, "approve", "the review");
  const published = answered(
    await engineer.POST("/api/v1/trees/{id}/publish", {
      ...path,
      body: { draft_revision: 1, change_note: "Reworded" },
    }),
    201,
    "POST /trees/{id}/publish",
  );
  equal(published.version, 2, "the published version");

  answered(
    await engineer.PUT("/api/v1/trees/{id}/draft", { ...path, body: { ...content, draft_revision: 0 } }),
    200,
    "a second draft",
  );
  noContent(await engineer.DELETE("/api/v1/trees/{id}/draft", path), "DELETE /trees/{id}/draft");
  const rolledBack = answered(
    await engineer.POST("/api/v1/trees/{id}/rollback", { ...path, body: { version: 1, change_note: "Back" } }),
    201,
    "POST /trees/{id}/rollback",
  );
  equal(rolledBack.description, tree.description, "version 1's content again");

  const history = answered(await engineer.GET("/api/v1/trees/{id}/history", path), 200, "GET /trees/{id}/history");
  equal(history[0]?.action, "rolled_back", "the newest entry");

  const exported = answered(await engineer.GET("/api/v1/trees/{id}/export", path), 200, "GET /trees/{id}/export");
  equal(exported.format, "tdt-tree", "the portable format");
  const format = answered(await anonymous.GET("/api/v1/schemas/tree.json"), 200, "GET /schemas/tree.json");
  check(typeof format === "object" && format !== null, "the format's JSON Schema");
  const imported = answered(await engineer.POST("/api/v1/trees/import", { body: exported }), 201, "POST /trees/import");
  equal(imported.status, "draft", "an imported tree's status");
  invalid(
    await engineer.POST("/api/v1/trees/import", { body: { ...exported, root_node_id: "nowhere" } }),
    ["body", "root_node_id"],
    "importing a broken tree",
  );

  noContent(await engineer.POST("/api/v1/trees/{id}/archive", path), "POST /trees/{id}/archive");
  refused(await technician.GET("/api/v1/trees/{id}", path), 404, "not_found", "an archived tree");
  noContent(await engineer.POST("/api/v1/trees/{id}/restore", path), "POST /trees/{id}/restore");
  answered(await technician.GET("/api/v1/trees/{id}", path), 200, "a restored tree");
}

/** One session through answer, continue, back (and a stale retry), note, complete and every export. */
async function sessions({ technician, engineer }: Accounts, tree: Schemas["Tree"]): Promise<void> {
  refused(
    await technician.POST("/api/v1/sessions", { body: { tree_id: crypto.randomUUID() } }),
    404,
    "not_found",
    "a session of an unknown tree",
  );
  const started = answered(
    await technician.POST("/api/v1/sessions", {
      body: { tree_id: tree.id, context: { ticket: `INC-${unique}`, device: "LaserJet 4" } },
    }),
    201,
    "POST /sessions",
  );
  equal(started.status, "in_progress", "a new session's status");
  equal(started.tree_version, tree.version, "the pinned version");
  equal(started.current_node.id, "power", "a session starts at the root");
  equal(started.context.ticket, `INC-${unique}`, "the session's context");

  const id = started.id;
  const path = { params: { path: { id } } };
  const step = (body: Schemas["StepOperation"]) => technician.PUT("/api/v1/sessions/{id}", { ...path, body });

  let session = answered(await step({ op: "answer", node_id: "power", option_id: "no" }), 200, "answer");
  equal(session.current_node.id, "plug", "after answering no");
  equal(session.current_node.type, "action", "the plug node's type");
  session = answered(await step({ op: "continue", node_id: "plug", note: "It was unplugged" }), 200, "continue");
  equal(session.current_node.id, "power2", "after the action");
  session = answered(await step({ op: "back" }), 200, "back");
  equal(session.current_node.id, "plug", "back one step");
  refused(
    await step({ op: "answer", node_id: "power", option_id: "no" }),
    409,
    "stale_step",
    "an answer to a node the session has left",
  );
  session = answered(await step({ op: "continue", node_id: "plug" }), 200, "continue again");
  session = answered(await step({ op: "answer", node_id: "power2", option_id: "yes" }), 200, "answer power2");
  invalid(
    await step({ op: "answer", node_id: "paper", option_id: "maybe" }),
    ["body", "option_id"],
    "an unknown option",
  );
  session = answered(await step({ op: "answer", node_id: "paper", option_id: "no" }), 200, "answer paper");
  session = answered(await step({ op: "continue", node_id: "refill" }), 200, "continue refill");
  const reached = session.current_node;
  check(reached.type === "solution", "the session reached a solution");
  equal(reached.outcome, "resolved", "the solution's outcome");
  session = answered(await step({ op: "note", notes: "Tray 2 was empty" }), 200, "note");
  equal(session.notes, "Tray 2 was empty", "the notes");

  const listed = await technician.GET("/api/v1/sessions", { params: { query: { status: "in_progress" } } });
  check(
    answered(listed, 200, "GET /sessions").some((item) => item.id === id),
    "the technician's sessions hold the new one",
  );
  check(totalCount(listed.response) >= 1, "X-Total-Count of sessions");
  const briefly = answered(
    await technician.GET("/api/v1/sessions/summaries", { params: { query: { status: "in_progress" } } }),
    200,
    "GET /sessions/summaries",
  ).find((item) => item.id === id);
  equal(briefly?.current_node_id, "refilled", "a summary names where the session stands");
  equal(briefly?.context.ticket, `INC-${unique}`, "a summary's context");
  const read = answered(await engineer.GET("/api/v1/sessions/{id}", path), 200, "GET /sessions/{id} as an engineer");
  equal(read.steps.map((item) => item.node_id).join(">"), "power>plug>power2>paper>refill>refilled", "the path");

  const completed = answered(
    await technician.POST("/api/v1/sessions/{id}/complete", path),
    200,
    "POST /sessions/{id}/complete",
  );
  equal(completed.status, "completed", "the completed status");
  equal(completed.outcome, "resolved", "the outcome defaults to the solution's");
  check(completed.completed_at !== null, "completed_at is set");
  refused(await technician.POST("/api/v1/sessions/{id}/complete", path), 409, "session_completed", "completing twice");
  refused(await step({ op: "back" }), 409, "session_completed", "a step after completion");

  await exports(technician, engineer, id, tree.title);
  await escalation(technician, tree);
}

/** The report in every format: the format from the query, or from the body. */
async function exports(technician: ApiClient, engineer: ApiClient, id: string, title: string): Promise<void> {
  const attachment = (response: Response, extension: string) =>
    check(
      new RegExp(`^attachment; filename="[^"]+\\.${extension}"`).test(
        response.headers.get("content-disposition") ?? "",
      ),
      `the ${extension} export is a download`,
    );

  // The JSON report is typed as its object (SessionReport), and read as JSON by default.
  const json = await technician.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id }, query: { format: "json" } },
  });
  const report = answered(json, 200, "export json");
  equal(report.session.id, id, "the JSON report's session");
  equal(report.session.tree_title, title, "the JSON report's tree title");
  equal(report.tree.id, report.session.tree_id, "the JSON report's tree");
  attachment(json.response, "json");

  // The format in the body. (`as const`: openapi-fetch 0.17 types `data` by `parseAs` only when the
  // body's literals keep their literal types; a plain `{ format: "markdown" }` drops `parseAs`'s.)
  const markdown = await engineer.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id } },
    body: { format: "markdown" } as const,
    parseAs: "text",
  });
  check(answered(markdown, 200, "export markdown").includes(title), "the Markdown report names the tree");
  attachment(markdown.response, "md");

  const csv = await technician.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id }, query: { format: "csv" } },
    parseAs: "text",
  });
  check(answered(csv, 200, "export csv").split("\n").length > 6, "the CSV report has a row per step");
  attachment(csv.response, "csv");

  const pdf = await technician.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id }, query: { format: "pdf" } },
    parseAs: "arrayBuffer",
  });
  const bytes = new Uint8Array(answered(pdf, 200, "export pdf"));
  equal(new TextDecoder().decode(bytes.slice(0, 5)), "%PDF-", "the PDF's magic");
  attachment(pdf.response, "pdf");
}

/** A session that ends at an escalating solution reports `escalated`. */
async function escalation(technician: ApiClient, tree: Schemas["Tree"]): Promise<void> {
  const started = answered(await technician.POST("/api/v1/sessions", { body: { tree_id: tree.id } }), 201, "start");
  const path = { params: { path: { id: started.id } } };
  const step = (body: Schemas["StepOperation"]) => technician.PUT("/api/v1/sessions/{id}", { ...path, body });
  answered(await step({ op: "answer", node_id: "power", option_id: "no" }), 200, "answer power");
  answered(await step({ op: "continue", node_id: "plug" }), 200, "continue plug");
  answered(await step({ op: "answer", node_id: "power2", option_id: "no" }), 200, "answer power2");
  const completed = answered(
    await technician.POST("/api/v1/sessions/{id}/complete", { ...path, body: { notes: "Sent to the workshop" } }),
    200,
    "complete at the repair solution",
  );
  equal(completed.outcome, "escalated", "an escalating solution's outcome");
}

async function logout(technicianTokens: Schemas["TokenPair"], engineer: ApiClient): Promise<void> {
  const technician = clientFor(technicianTokens.access_token);
  noContent(
    await technician.POST("/api/v1/auth/logout", { body: { refresh_token: technicianTokens.refresh_token } }),
    "POST /auth/logout",
  );
  refused(
    await anonymous.POST("/api/v1/auth/refresh", { body: { refresh_token: technicianTokens.refresh_token } }),
    401,
    "invalid_refresh_token",
    "refresh after logout",
  );
  noContent(await engineer.POST("/api/v1/auth/logout", { params: { query: { all: true } } }), "logout ?all=true");
}

/**
 * The routes of mailed links as far as a program without a mailbox can go: requests that mail
 * answer alike, a token never mailed is refused, an invitation is sent (identity.test.ts follows
 * the real mail through each of them).
 */
async function accountMail(admin: ApiClient, technician: ApiClient): Promise<void> {
  const address = { body: { email: `nobody-${unique}@example.com` } };
  const resent = answered(await anonymous.POST("/api/v1/auth/verify-email/resend", address), 202, "resend");
  equal(resent.detail, "verification_sent", "what a resend answers");
  const forgot = answered(await anonymous.POST("/api/v1/auth/password/forgot", address), 202, "password/forgot");
  equal(forgot.detail, "reset_sent", "what a forgotten password answers");
  const never = "a-token-never-mailed-to-anyone";
  refused(
    await anonymous.POST("/api/v1/auth/verify-email", { body: { token: never } }),
    400,
    "invalid_mail_token",
    "verifying with a token never mailed",
  );
  refused(
    await anonymous.POST("/api/v1/auth/password/reset", { body: { token: never, password: "a-new-password-2" } }),
    400,
    "invalid_mail_token",
    "resetting with a token never mailed",
  );
  refused(
    await anonymous.POST("/api/v1/auth/invites/accept", {
      body: { token: never, password: "a-new-password-2", full_name: "Nobody" },
    }),
    400,
    "invalid_mail_token",
    "accepting an invitation never sent",
  );
  const invite = answered(
    await admin.POST("/api/v1/auth/invites", { body: { email: `invitee-${unique}@example.com`, role: "engineer" } }),
    201,
    "POST /auth/invites",
  );
  equal(invite.role, "engineer", "the invited role");
  refused(
    await technician.POST("/api/v1/auth/invites", { body: { email: `x-${unique}@example.com`, role: "admin" } }),
    403,
    "forbidden",
    "a technician inviting",
  );
  refused(
    await technician.POST("/api/v1/auth/me/email", {
      body: { email: `moved-${unique}@example.com`, current_password: "not-the-password" },
    }),
    403,
    "wrong_password",
    "changing the email without the password",
  );
  const moving = answered(
    await technician.POST("/api/v1/auth/me/email", {
      body: { email: `moved-${unique}@example.com`, current_password: password },
    }),
    202,
    "POST /auth/me/email",
  );
  equal(moving.detail, "verification_sent", "a change of address waits for its link");
  refused(
    await technician.POST("/api/v1/auth/oidc/{provider}/link", {
      params: { path: { provider: "nowhere" } },
      body: { return_to: `${baseUrl}/account` },
    }),
    404,
    "not_found",
    "linking an unknown provider",
  );
}

/**
 * Single sign-on as far as a system without providers answers it (the SSO system tests drive the
 * whole flow against a real issuer), and a password change.
 */
async function singleSignOn(admin: ApiClient, adminId: string): Promise<void> {
  const providers = answered(await anonymous.GET("/api/v1/auth/providers"), 200, "GET /auth/providers");
  equal(providers.length, 0, "providers when none is configured");
  const provider = { path: { provider: "nowhere" } };
  refused(
    await anonymous.GET("/api/v1/auth/oidc/{provider}/authorize", {
      params: { ...provider, query: { return_to: `${baseUrl}/` } },
    }),
    404,
    "not_found",
    "authorize with an unknown provider",
  );
  refused(
    await anonymous.GET("/api/v1/auth/oidc/{provider}/callback", {
      params: { ...provider, query: { code: "c", state: "s" } },
    }),
    404,
    "not_found",
    "a callback of an unknown provider",
  );
  refused(
    await anonymous.POST("/api/v1/auth/oidc/{provider}/backchannel-logout", {
      params: provider,
      body: { logout_token: "a.b.c" },
      bodySerializer: (body) => new URLSearchParams(body).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
    404,
    "not_found",
    "a back-channel logout for an unknown provider",
  );
  refused(
    await anonymous.POST("/api/v1/auth/oidc/exchange", { body: { code: "never-issued" } }),
    401,
    "invalid_login_code",
    "exchanging a code never issued",
  );
  refused(
    await admin.DELETE("/api/v1/auth/users/{id}/providers/{provider}", {
      params: { path: { id: adminId, provider: "nowhere" } },
    }),
    404,
    "not_found",
    "unlinking a provider the user is not linked to",
  );

  const user = await register("password-change");
  const session = clientFor((await loginJson(user.email, password)).access_token);
  refused(
    await session.POST("/api/v1/auth/me/password", {
      body: { current_password: "not-the-password", new_password: "a-new-password-1" },
    }),
    403,
    "wrong_password",
    "changing a password without the current one",
  );
  noContent(
    await session.POST("/api/v1/auth/me/password", {
      body: { current_password: password, new_password: "a-new-password-1" },
    }),
    "POST /auth/me/password",
  );
  const me = answered(await session.GET("/api/v1/auth/me"), 200, "GET /me after a password change");
  equal(me.has_password, true, "has_password of a user who registered");
  equal(me.linked_providers.length, 0, "linked providers of a password user");
  await loginJson(user.email, "a-new-password-1");
}

/**
 * Webhooks, as an organization's admin manages them: the receiver is a closed loopback port (the
 * test systems list loopback in WEBHOOK_ALLOW_PRIVATE), so a delivery's attempts fail and wait.
 */
async function webhooks(admin: ApiClient, technician: ApiClient): Promise<void> {
  const url = "http://127.0.0.1:9/tdt-hooks";
  const made = answered(
    await admin.POST("/api/v1/webhooks", {
      body: { url, events: ["tdt.session.completed"], description: "every route" },
    }),
    201,
    "POST /webhooks",
  );
  check(made.secret?.startsWith("whsec_") === true, "the secret, shown once");
  invalid(
    await admin.POST("/api/v1/webhooks", { body: { url: "https://169.254.169.254/", events: ["tdt.tree.published"] } }),
    ["body", "url"],
    "a webhook to the metadata address",
  );
  refused(await technician.GET("/api/v1/webhooks"), 403, "forbidden", "a technician listing webhooks");
  const listed = answered(await admin.GET("/api/v1/webhooks"), 200, "GET /webhooks");
  check(
    listed.some((endpoint) => endpoint.id === made.id && endpoint.secret === undefined),
    "the list, without secrets",
  );
  const path = { params: { path: { id: made.id } } };
  equal(answered(await admin.GET("/api/v1/webhooks/{id}", path), 200, "GET a webhook").url, url, "its URL");
  const changed = answered(
    await admin.PATCH("/api/v1/webhooks/{id}", {
      ...path,
      body: { events: ["tdt.session.completed", "tdt.tree.published"] },
    }),
    200,
    "PATCH a webhook",
  );
  equal(changed.events.length, 2, "the events it now wants");
  equal(
    answered(await admin.GET("/api/v1/webhooks/{id}/deliveries", path), 200, "its delivery log").length,
    0,
    "no deliveries yet",
  );
  const ping = answered(await admin.POST("/api/v1/webhooks/{id}/ping", path), 202, "POST ping");
  equal(
    answered(
      await admin.POST("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
        params: { path: { id: made.id, delivery_id: ping.delivery_id } },
      }),
      202,
      "redeliver the ping",
    ).queued,
    1,
    "queued again",
  );
  equal(
    answered(
      await admin.POST("/api/v1/webhooks/{id}/redeliver", { ...path, body: { since: "2026-01-01T00:00:00.000Z" } }),
      202,
      "redeliver since",
    ).queued,
    1,
    "every delivery since",
  );
  const rotated = answered(await admin.POST("/api/v1/webhooks/{id}/rotate-secret", path), 200, "rotate the secret");
  check(rotated.secret.startsWith("whsec_") && rotated.secret !== made.secret, "a new secret");
  noContent(await admin.DELETE("/api/v1/webhooks/{id}", path), "DELETE a webhook");
  refused(await admin.GET("/api/v1/webhooks/{id}", path), 404, "not_found", "a deleted webhook");
}

/**
 * An API key as a machine holds one: made by the admin, used on a route its scope opens (with the
 * quota's headers) and refused on one it does not, then revoked.
 */
async function apiKeys(admin: ApiClient): Promise<void> {
  const made = answered(
    await admin.POST("/api/v1/api-keys", { body: { name: "every route", scopes: ["trees:read"], daily_quota: 100 } }),
    201,
    "POST /api-keys",
  );
  const key = made.key ?? "";
  check(key.startsWith("tdt_"), "the key, shown once");
  const machine = clientFor(key);
  const read = await machine.GET("/api/v1/trees");
  answered(read, 200, "GET /trees with the key");
  equal(read.response.headers.get("ratelimit-policy"), '"daily";q=100;w=86400', "the quota's policy");
  refused(await machine.GET("/api/v1/sessions"), 403, "insufficient_scope", "a route the key's scopes do not open");
  const listed = answered(await admin.GET("/api/v1/api-keys"), 200, "GET /api-keys");
  check(
    listed.some((entry) => entry.id === made.id && entry.used_today === 2 && entry.key === undefined),
    "the key listed with its use, without the key",
  );
  noContent(await admin.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: made.id } } }), "revoke the key");
  refused(await machine.GET("/api/v1/trees"), 401, "invalid_token", "a revoked key");
}

/** A PNG of one pixel, as a frontend would have it from a file input. */
const PIXEL_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

/**
 * An image for nodes to show: uploaded as a browser's FormData sends it (the same image again is
 * the same id), read whole, as 304 to the ETag kept, and in a range; a text file and a technician's
 * upload are refused.
 */
async function media(engineer: ApiClient, technician: ApiClient): Promise<void> {
  const form = (body: { file: Blob }) => {
    const data = new FormData();
    data.append("file", body.file, "pixel.png");
    return data;
  };
  const upload = (client: ApiClient, file: Blob) =>
    client.POST("/api/v1/media", { body: { file }, bodySerializer: form });
  const image = new Blob([PIXEL_PNG], { type: "image/png" });
  const made = answered(await upload(engineer, image), 201, "POST /media");
  equal(made.url, `/api/v1/media/${made.id}`, "where it is served");
  equal(`${made.content_type} ${made.width}x${made.height}`, "image/png 1x1", "what was stored");
  equal(answered(await upload(engineer, image), 201, "POST the same image").id, made.id, "the same image's id");
  refused(
    await upload(engineer, new Blob(["<svg onload=alert(1)>"], { type: "image/png" })),
    415,
    "unsupported_media",
    "a text file declared as a PNG",
  );
  refused(await upload(technician, image), 403, "forbidden", "a technician uploading");

  const path = { params: { path: { id: made.id } } };
  const read = await technician.GET("/api/v1/media/{id}", { ...path, parseAs: "arrayBuffer" });
  const bytes = Buffer.from(answered(read, 200, "GET an image"));
  equal(bytes.length, made.bytes, "the image's size");
  const etag = read.response.headers.get("etag") ?? "";
  equal(etag, `"${made.sha256}"`, "its ETag");
  const kept = await technician.GET("/api/v1/media/{id}", {
    params: { path: { id: made.id }, header: { "if-none-match": etag } },
    parseAs: "arrayBuffer",
  });
  equal(kept.response.status, 304, "the copy kept is current");
  const range = await technician.GET("/api/v1/media/{id}", {
    params: { path: { id: made.id }, header: { range: "bytes=0-7" } },
    parseAs: "arrayBuffer",
  });
  equal(range.response.status, 206, "a range");
  check(Buffer.from(range.data ?? new ArrayBuffer(0)).equals(bytes.subarray(0, 8)), "the range's bytes");
}

/**
 * A tree's translations: every text of its latest version listed beside its (empty) German
 * translation, one set, the summary counting it, a session in German once a version carries it;
 * an unknown text and a technician refused.
 */
async function translations(engineer: ApiClient, technician: ApiClient): Promise<void> {
  const treeId = answered(await engineer.POST("/api/v1/trees", { body: printerTree }), 201, "a tree to translate").id;
  const path = { params: { path: { id: treeId, locale: "de" } } };
  const listed = answered(
    await engineer.GET("/api/v1/trees/{id}/translations/{locale}", path),
    200,
    "GET /trees/{id}/translations/{locale}",
  );
  const first = listed.texts[0];
  check(first !== undefined && first.text === "", "every text listed, none translated yet");
  const saved = answered(
    await engineer.PUT("/api/v1/trees/{id}/translations/{locale}", {
      ...path,
      body: {
        texts: [{ node_id: first?.node_id ?? "", field: first?.field ?? "title", item_id: "", text: "Übersetzt" }],
      },
    }),
    200,
    "PUT /trees/{id}/translations/{locale}",
  );
  equal(saved.texts[0]?.text, "Übersetzt", "the translation stored");
  invalid(
    await engineer.PUT("/api/v1/trees/{id}/translations/{locale}", {
      ...path,
      body: { texts: [{ node_id: "nowhere", field: "title", item_id: "", text: "x" }] },
    }),
    ["body", "texts", 0],
    "a text the tree lacks",
  );
  const summary = answered(
    await engineer.GET("/api/v1/trees/{id}/translations", { params: { path: { id: treeId } } }),
    200,
    "GET /trees/{id}/translations",
  );
  equal(`${summary[0]?.locale} ${summary[0]?.translated}`, "de 1", "the summary");
  refused(await technician.GET("/api/v1/trees/{id}/translations/{locale}", path), 403, "forbidden", "a technician");
}

/** Every operation the running gateway documents, and which of them this run did not call. */
async function uncalledOperations(): Promise<OperationName[]> {
  const response = await fetch(`${baseUrl}/api/openapi.json`);
  check(response.ok, `GET /api/openapi.json answered ${response.status}`);
  const documented = operationsOf(await response.json());
  check(documented.length > 0, "the document lists operations");
  const called = coverage.called();
  return documented.filter((operation) => !called.has(operation));
}

try {
  await gatewayEndpoints();
  const everyone = await accounts();
  await accountMail(everyone.admin, everyone.technician);
  const renewed = await loginSessions(everyone.technicianTokens);
  await sessionPolicy(everyone.admin, everyone.technician);
  await organizations(everyone.admin, clientFor(renewed.access_token));
  const tree = await trees(everyone);
  await sessions(everyone, tree);
  await singleSignOn(everyone.admin, everyone.adminId);
  await authoring(everyone);
  await media(everyone.engineer, everyone.technician);
  await translations(everyone.engineer, everyone.technician);
  await webhooks(everyone.admin, everyone.technician);
  await apiKeys(everyone.admin);
  await logout(renewed, everyone.engineer);
  const uncalled = await uncalledOperations();
  if (uncalled.length > 0) {
    throw new Mismatch(`operations of the document this program never called:\n  ${uncalled.join("\n  ")}`);
  }
  console.log(`every route: ${coverage.called().size} operations called, ${checksPassed()} checks passed`);
} catch (error) {
  console.error(error instanceof Mismatch ? `every route: MISMATCH: ${error.message}` : error);
  process.exit(1);
}
