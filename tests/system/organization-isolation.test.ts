/**
 * Organizations are sealed from each other (issue 28): callers of organization B, of every role,
 * name organization A's trees (ids, words, categories, link targets, filters, exports) on every
 * trees route, and A itself (its settings, domains, limits, policy, members and single sign-on
 * provider) on every organization route, through the gateway, many times over; none answers with
 * A's data or changes A's settings, none with a 5xx.
 * And the wall under it: the trees service's own role, and its store called directly, see
 * nothing of A from a transaction of B, and nothing at all outside one.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_ORGANIZATION_ID, inOrganization } from "@tdt/kit";
import { claimsOf } from "@tdt/test-support/api";
import { connect } from "@tdt/test-support/database";
import { makeOrganization } from "@tdt/test-support/organizations";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TreeStore } from "../../services/trees/src/tree-store.js";

let running: SystemWithAdmin;
let authDb: Sql;
/** Organization A's (the default one's) trees, by what B's callers name them with. */
const a = {
  ids: [] as string[],
  sessions: [] as string[],
  technician: "",
  word: `zephyrquoll${Date.now().toString(36)}`,
  category: "",
  /** A's own single sign-on provider, under its domain (both carry A's word). */
  provider: "",
};
/** B's callers: an engineer (an author there) and a technician, with tokens acting in B. */
const b = { id: "", engineer: "", technician: "", admin: "", treeId: "" };

const node = (id: string, type: string, rest: Record<string, unknown> = {}) => ({
  id,
  type,
  title: id,
  body: "",
  ...rest,
});

function treeBody(
  title: string,
  category: string,
  nodes = [
    node("q", "question", { options: [{ id: "o", label: "Go", next: "s" }] }),
    node("s", "solution", { outcome: "resolved" }),
  ],
) {
  return {
    title,
    description: `About ${title}`,
    category,
    // A's trees carry A's word; what B writes never does (an echo of it would look like a leak).
    tags: category === a.category ? [a.word] : ["b-side"],
    status: "published",
    root_node_id: "q",
    nodes,
  };
}

beforeAll(async () => {
  running = await startSystemWithAdmin();
  const { client, admin } = running;
  authDb = connect(running.system.databases.auth.url);
  a.category = `Quollery ${a.word}`;
  // A's content: published trees with a word and a category no one else has, one with a draft.
  const engineerA = await client.engineer(admin);
  for (let i = 0; i < 3; i++) {
    const made = await client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: engineerA,
      json: treeBody(`${a.word} tree ${i}`, a.category),
    });
    expect(made.status).toBe(201);
    a.ids.push(made.body.id);
  }
  const draft = await client.call("PUT", `/api/v1/trees/${a.ids[0]}/draft`, {
    token: engineerA,
    json: { ...treeBody(`${a.word} draft`, a.category), draft_revision: 0 },
  });
  expect(draft.status).toBe(200);
  // A session on A's tree, so that analytics and sessions have A's rows too.
  const techA = await client.user("tech-a");
  a.technician = techA.id;
  for (const id of [a.ids[1], a.ids[2]]) {
    const started = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token: techA.tokens.access_token,
      json: { tree_id: id },
    });
    expect(started.status).toBe(201);
    a.sessions.push(started.body.id);
  }

  // A's own settings: a domain and a single sign-on provider, both carrying A's word.
  a.provider = `a-${a.word}`;
  const domains = await client.call("PUT", `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}/domains`, {
    token: admin,
    json: { domains: [`${a.word}.test`, "example.com"] },
  });
  expect(domains.status).toBe(200);
  const provider = await client.call("POST", `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}/sso-providers`, {
    token: admin,
    json: {
      provider_id: a.provider,
      name: `${a.word} SSO`,
      issuer: `https://${a.word}.test`,
      client_id: a.word,
      client_secret: "a-secret",
    },
  });
  expect(provider.status).toBe(201);

  // B: an engineer, a technician and an admin, members there only through the organization's admin.
  const engineerB = await client.user("eng-b");
  const techB = await client.user("tech-b");
  const adminB = await client.user("admin-b");
  const org = await makeOrganization(authDb, [
    { id: engineerB.id, role: "engineer" },
    { id: techB.id, role: "technician" },
    { id: adminB.id, role: "admin" },
  ]);
  b.id = org.id;
  const into = async (token: string) => {
    const switched = await client.call<{ access_token: string }>("POST", "/api/v1/auth/switch-organization", {
      token,
      json: { organization_id: org.id },
    });
    expect(switched.status).toBe(200);
    return switched.body.access_token;
  };
  b.engineer = await into(engineerB.tokens.access_token);
  b.technician = await into(techB.tokens.access_token);
  b.admin = await into(adminB.tokens.access_token);
  expect(claimsOf(b.engineer)).toMatchObject({ org: org.id, role: "engineer" });
  const own = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: b.engineer,
    json: treeBody("B's own tree", "B things"),
  });
  expect(own.status).toBe(201);
  b.treeId = own.body.id;
}, 120_000);

afterAll(async () => {
  await authDb?.end();
  await running?.stop();
});

type Probe = { method: string; path: string; json?: unknown; token: string };

/** Every sessions route, as B's callers would name A's sessions (and A's trees and technician) in it. */
function sessionProbes(id: string): Probe[] {
  const reads = [
    `/api/v1/sessions/${id}`,
    "/api/v1/sessions",
    "/api/v1/sessions?all=true",
    `/api/v1/sessions?all=true&tree_id=${a.ids[1]}`,
    `/api/v1/sessions?user_id=${a.technician}`,
    "/api/v1/sessions?all=true&status=in_progress",
  ];
  const writes: Array<Omit<Probe, "token">> = [
    { method: "PUT", path: `/api/v1/sessions/${id}`, json: { op: "answer", node_id: "q", option_id: "o" } },
    { method: "PUT", path: `/api/v1/sessions/${id}`, json: { op: "back" } },
    { method: "POST", path: `/api/v1/sessions/${id}/complete`, json: { outcome: "resolved" } },
    { method: "POST", path: `/api/v1/sessions/${id}/export?format=json` },
    { method: "POST", path: `/api/v1/sessions/${id}/export?format=csv` },
  ];
  return [b.engineer, b.technician].flatMap((token) => [
    ...reads.map((path) => ({ method: "GET", path, token })),
    ...writes.map((write) => ({ ...write, token })),
  ]);
}

/** Every trees route, as B's callers would name A's trees in it. */
function probes(id: string): Probe[] {
  const reads = [
    `/api/v1/trees/${id}`,
    `/api/v1/trees/${id}?version=1`,
    `/api/v1/trees/${id}/versions`,
    `/api/v1/trees/${id}/draft`,
    `/api/v1/trees/${id}/history`,
    `/api/v1/trees/${id}/settings`,
    `/api/v1/trees/${id}/diff?from=1&to=draft`,
    `/api/v1/trees/${id}/export`,
    `/api/v1/trees/${id}/analytics`,
    `/api/v1/trees?q=${a.word}`,
    `/api/v1/trees?category=${encodeURIComponent(a.category)}`,
    `/api/v1/trees?tag=${a.word}`,
    "/api/v1/trees?archived=true",
    "/api/v1/trees",
    "/api/v1/trees/categories",
    `/api/v1/trees/search?q=${a.word}`,
    // A misspelling: a correction must not spell A's word.
    `/api/v1/trees/search?q=${a.word.slice(0, -1)}x`,
    `/api/v1/trees/search?q=${a.word.slice(0, 6)}`,
  ];
  const writes: Array<Omit<Probe, "token">> = [
    { method: "PUT", path: `/api/v1/trees/${id}`, json: { ...treeBody("taken", "x"), version: 1 } },
    { method: "PUT", path: `/api/v1/trees/${id}/draft`, json: { ...treeBody("taken", "x"), draft_revision: 0 } },
    { method: "DELETE", path: `/api/v1/trees/${id}/draft` },
    { method: "POST", path: `/api/v1/trees/${id}/publish`, json: { draft_revision: 1 } },
    { method: "POST", path: `/api/v1/trees/${id}/rollback`, json: { version: 1 } },
    { method: "POST", path: `/api/v1/trees/${id}/reviews`, json: { draft_revision: 1, decision: "approved" } },
    { method: "PATCH", path: `/api/v1/trees/${id}/settings`, json: { review_required: true } },
    { method: "POST", path: `/api/v1/trees/${id}/archive` },
    { method: "POST", path: `/api/v1/trees/${id}/restore` },
    { method: "DELETE", path: `/api/v1/trees/${id}` },
    // A link into A from B's new tree, and a session on A's tree.
    {
      method: "POST",
      path: "/api/v1/trees",
      json: treeBody("Link into A", "x", [
        node("q", "question", { options: [{ id: "o", label: "Go", next: "l" }] }),
        node("l", "link", { tree_id: id, next: "s" }),
        node("s", "solution", { outcome: "resolved" }),
      ]),
    },
    { method: "POST", path: "/api/v1/sessions", json: { tree_id: id } },
  ];
  return [b.engineer, b.technician].flatMap((token) => [
    ...reads.map((path) => ({ method: "GET", path, token })),
    ...writes.map((write) => ({ ...write, token })),
  ]);
}

/** Every organization route, as B's callers (its admin too) would name organization A and its settings in it. */
function organizationProbes(): Probe[] {
  const A = `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}`;
  const reads = [
    A,
    `${A}/policy`,
    `${A}/sso-providers`,
    "/api/v1/organizations",
    "/api/v1/auth/users",
    `/api/v1/auth/users/${a.technician}/sessions`,
  ];
  const provider = { name: "taken", issuer: "https://evil.test", client_id: "x", client_secret: "y" };
  const writes: Array<Omit<Probe, "token">> = [
    { method: "PUT", path: `${A}/domains`, json: { domains: ["evil.test"] } },
    { method: "PUT", path: `${A}/limits`, json: { max_members: 1 } },
    { method: "PUT", path: `${A}/policy`, json: { preset: "aal2" } },
    { method: "POST", path: `${A}/members`, json: { email: "evil@evil.test", role: "admin" } },
    { method: "DELETE", path: `${A}/members/${a.technician}` },
    { method: "POST", path: `${A}/sso-providers`, json: { ...provider, provider_id: "evil-sso" } },
    { method: "PUT", path: `${A}/sso-providers/${a.provider}`, json: provider },
    { method: "DELETE", path: `${A}/sso-providers/${a.provider}` },
    // B's own organization's routes naming A's provider, and A's technician.
    { method: "PUT", path: `/api/v1/organizations/${b.id}/sso-providers/${a.provider}`, json: provider },
    { method: "DELETE", path: `/api/v1/organizations/${b.id}/sso-providers/${a.provider}` },
    { method: "DELETE", path: `/api/v1/organizations/${b.id}/members/${a.technician}` },
    { method: "PATCH", path: `/api/v1/auth/users/${a.technician}`, json: { role: "admin" } },
  ];
  return [b.engineer, b.technician, b.admin].flatMap((token) => [
    ...reads.map((path) => ({ method: "GET", path, token })),
    ...writes.map((write) => ({ ...write, token })),
  ]);
}

describe("organization B's callers naming organization A's trees", () => {
  it("get none of A's data and no 5xx, over 10,000 requests on every trees, sessions and organization route", async () => {
    const { client } = running;
    const all = [
      ...[...a.ids, randomUUID()].flatMap(probes),
      ...a.sessions.flatMap(sessionProbes),
      ...organizationProbes(),
    ];
    const target = 10_000;
    let sent = 0;
    let leaks = 0;
    let serverErrors = 0;
    const statuses = new Map<number, number>();
    const leaked: string[] = [];
    const next = () => all[sent++ % all.length] as Probe;
    const worker = async () => {
      while (sent < target) {
        const probe = next();
        const response = await client.call(probe.method, probe.path, {
          token: probe.token,
          ...(probe.json === undefined ? {} : { json: probe.json }),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) serverErrors++;
        const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body ?? "");
        const named = [...a.ids, ...a.sessions, a.technician, a.provider];
        if (named.some((id) => text.includes(id) && !probe.path.includes(id)) || text.includes(a.word)) {
          leaks++;
          if (leaked.length < 5)
            leaked.push(`${probe.method} ${probe.path} → ${response.status} ${text.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(`isolation: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(sent).toBeGreaterThanOrEqual(target);
    expect(leaked).toEqual([]);
    expect(leaks).toBe(0);
    expect(serverErrors).toBe(0);
    // A's settings are as A left them.
    const settings = await client.call<{ domains: string[]; limits: { max_members: number | null } }>(
      "GET",
      `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}`,
      { token: running.admin },
    );
    expect(settings.body).toMatchObject({ domains: [`${a.word}.test`, "example.com"], limits: { max_members: null } });
    const providers = await client.call<Array<{ id: string; issuer: string }>>(
      "GET",
      `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}/sso-providers`,
      { token: running.admin },
    );
    expect(providers.body).toEqual([expect.objectContaining({ id: a.provider, issuer: `https://${a.word}.test` })]);
    const policy = await client.call<{ preset: string }>(
      "GET",
      `/api/v1/organizations/${DEFAULT_ORGANIZATION_ID}/policy`,
      {
        token: running.admin,
      },
    );
    expect(policy.body.preset).not.toBe("aal2");
    // B's own tree is there for B, and A's are untouched for A.
    const own = await client.call("GET", `/api/v1/trees/${b.treeId}`, { token: b.engineer });
    expect(own.status).toBe(200);
    for (const id of a.ids) {
      const seen = await client.call<{ title: string }>("GET", `/api/v1/trees/${id}`, { token: running.admin });
      expect(seen.status).toBe(200);
      expect(seen.body.title).toContain(a.word);
    }
  }, 600_000);

  it("counts B's sessions in B's analytics: the events carry their organization to the projection", async () => {
    const { client } = running;
    const started = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token: b.technician,
      json: { tree_id: b.treeId },
    });
    expect(started.status).toBe(201);
    const step = await client.call("PUT", `/api/v1/sessions/${started.body.id}`, {
      token: b.technician,
      json: { op: "answer", node_id: "q", option_id: "o" },
    });
    expect(step.status).toBe(200);
    const done = await client.call("POST", `/api/v1/sessions/${started.body.id}/complete`, {
      token: b.technician,
      json: { outcome: "resolved" },
    });
    expect(done.status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            await client.call<{ sessions: { started: number; completed: number } }>(
              "GET",
              `/api/v1/trees/${b.treeId}/analytics`,
              { token: b.engineer },
            )
          ).body.sessions,
        { timeout: 10_000, interval: 100 },
      )
      .toMatchObject({ started: 1, completed: 1 });
    // A's engineer sees B's session nowhere, and A's own sessions where they were.
    const listed = await client.call<unknown[]>("GET", "/api/v1/sessions?all=true&limit=100", { token: running.admin });
    expect(JSON.stringify(listed.body)).not.toContain(started.body.id);
    expect(JSON.stringify(listed.body)).toContain(a.sessions[0]);
  });

  it("an id of A answers as an unknown one: 404 not_found, never 403", async () => {
    const { client } = running;
    for (const path of [`/api/v1/trees/${a.ids[0]}`, `/api/v1/trees/${a.ids[0]}/draft`]) {
      const response = await client.call("GET", path, { token: b.engineer });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ detail: "not_found" });
    }
  });
});

describe("the wall in the trees database", () => {
  /** The trees database as the service's own role sees it (trust authentication here). */
  const asService = () => {
    const url = new URL(running.system.databases.trees.url);
    url.username = "trees_app";
    return postgres(url.toString(), { max: 2, onnotice: () => {} });
  };

  it("shows the service's role no tenant row outside an organization's transaction, and only B's in B's", async () => {
    const sql = asService();
    try {
      for (const table of ["trees", "tree_versions", "tree_drafts", "tree_history", "search_words"]) {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`;
        expect(row?.n, table).toBe(0);
      }
      const seen = await inOrganization(sql, b.id, (tx) => tx<{ id: string }[]>`select id from trees`);
      expect(seen.map((row) => row.id)).toEqual([b.treeId]);
      const words = await inOrganization(
        sql,
        b.id,
        (tx) => tx`select 1 from search_words where word like ${`${a.word.slice(0, 8)}%`}`,
      );
      expect(words).toHaveLength(0);
      // Writing A's tree from B's transaction is refused by the database itself.
      await expect(
        inOrganization(
          sql,
          b.id,
          (tx) => tx`update trees set deleted_at = now() where id = ${a.ids[0] ?? ""} returning id`,
        ),
      ).resolves.toHaveLength(0);
      await expect(
        inOrganization(
          sql,
          b.id,
          (tx) =>
            tx`insert into trees (id, org_id, created_by, latest_version) values (${randomUUID()}, ${DEFAULT_ORGANIZATION_ID}, ${randomUUID()}, 1)`,
        ),
      ).rejects.toThrow(/row-level security/);
    } finally {
      await sql.end();
    }
  });

  it("shows the sessions service's role no session of A, in B's transaction or outside any", async () => {
    const url = new URL(running.system.databases.sessions.url);
    url.username = "sessions_app";
    const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
    try {
      for (const table of ["sessions", "tree_snapshots"]) {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`;
        expect(row?.n, table).toBe(0);
      }
      const inB = await inOrganization(
        sql,
        b.id,
        (tx) => tx`select id from sessions where id = any(${a.sessions}::uuid[])`,
      );
      expect(inB).toHaveLength(0);
      const inA = await inOrganization(
        sql,
        DEFAULT_ORGANIZATION_ID,
        (tx) => tx`select id from sessions where id = any(${a.sessions}::uuid[])`,
      );
      expect(inA).toHaveLength(a.sessions.length);
    } finally {
      await sql.end();
    }
  });

  it("gives the store, called directly with no filter of its own, nothing of A from B's transaction", async () => {
    const sql = asService();
    const announcer = {
      record: async () => ({ id: "", subject: "", payload: new Uint8Array() }),
      publish: async () => {},
    };
    try {
      const seen = await inOrganization(sql, b.id, async (tx) => {
        const store = new TreeStore(tx as unknown as Sql, announcer);
        return {
          get: await store.get("authors", a.ids[0] ?? ""),
          list: await store.list("authors", {}, { skip: 0, limit: 100 }),
          search: await store.search("authors", a.word, 20),
          missing: await store.missingTrees(a.ids),
        };
      });
      expect(seen.get).toBeUndefined();
      expect(seen.list.trees.map((tree) => tree.id)).toEqual([b.treeId]);
      expect(seen.search).toEqual([]);
      expect(seen.missing.sort()).toEqual([...a.ids].sort());
      // The same store in A's transaction finds A's tree: the wall, not the store, told them apart.
      const inA = await inOrganization(sql, DEFAULT_ORGANIZATION_ID, (tx) =>
        new TreeStore(tx as unknown as Sql, announcer).get("authors", a.ids[0] ?? ""),
      );
      expect(inA?.id).toBe(a.ids[0]);
    } finally {
      await sql.end();
    }
  });
});
