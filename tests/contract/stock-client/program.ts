/**
 * What a frontend team writes against TDT with the tools it already uses: `openapi-typescript`
 * on its default options turns clients/api/openapi.json into ./schema.ts, `openapi-fetch` calls
 * it. ../stock-client.test.ts compiles this file (strict, never run) in an empty folder outside
 * the repository, with those two packages installed there and nothing of the repository's.
 *
 * Every route that takes a body is called with one, typed as the contract types it: what a
 * caller may leave out is left out, nothing the service sets is sent, and nothing is cast. The
 * `@ts-expect-error` lines are what the contract must refuse; an error they no longer meet fails
 * the compile too. In the repository ./schema.ts stands in with the package's own types, so the
 * repository's type-check of tests/ reads this file as well.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
const client = createClient<paths>({ baseUrl: "https://tdt.example.com" });
const cookieMode = { "x-token-transport": "cookie" } as const;

/** The data of a successful answer, or a throw: what a frontend's one error path does. */
function answered<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`HTTP ${result.response.status}`);
  return result.data;
}

/** Registration, mailed links, invitations, passwords and a change of address. */
export async function accounts(admin: typeof client): Promise<Schemas["MailSent"]> {
  const sent = answered(
    await client.POST("/api/v1/auth/register", {
      body: { email: "ada@example.com", password: "correct horse battery", full_name: "Ada Lovelace" },
    }),
  );
  await client.POST("/api/v1/auth/verify-email", { body: { token: "mailed-token" } });
  await client.POST("/api/v1/auth/verify-email/resend", { body: { email: "ada@example.com" } });
  await client.POST("/api/v1/auth/password/forgot", { body: { email: "ada@example.com" } });
  await client.POST("/api/v1/auth/password/reset", { body: { token: "mailed-token", password: "battery staple" } });
  const invite = answered(
    await admin.POST("/api/v1/auth/invites", { body: { email: "bo@example.com", role: "engineer" } }),
  );
  const expires: string = invite.expires_at;
  await client.POST("/api/v1/auth/invites/accept", {
    body: { token: "mailed-token", password: "correct horse battery", full_name: `Bo (until ${expires})` },
  });
  await admin.POST("/api/v1/auth/me/password", { body: { new_password: "battery staple horse" } });
  await admin.POST("/api/v1/auth/me/password", {
    body: { current_password: "battery staple horse", new_password: "horse battery staple" },
  });
  await admin.POST("/api/v1/auth/me/email", {
    body: { email: "ada.lovelace@example.com", current_password: "horse battery staple" },
  });
  return sent;
}

/** Logins (JSON and the OAuth2 form), refresh in both token modes, the SSO code's exchange, logout. */
export async function tokens(): Promise<string> {
  const pair = answered(
    await client.POST("/api/v1/auth/login/json", { body: { email: "ada@example.com", password: "secret-enough" } }),
  );
  await client.POST("/api/v1/auth/login", {
    body: { username: "ada@example.com", password: "secret-enough", grant_type: "password" },
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const renewed = answered(
    await client.POST("/api/v1/auth/refresh", {
      params: { header: { "idempotency-key": "refresh-1" } },
      body: { refresh_token: pair.refresh_token ?? "" },
    }),
  );
  // Cookie mode: the refresh token stays in the HttpOnly cookie, so there is no body at all.
  const fromCookie = answered(
    await client.POST("/api/v1/auth/refresh", { params: { header: cookieMode }, credentials: "include" }),
  );
  const fromCode = answered(
    await client.POST("/api/v1/auth/oidc/exchange", {
      params: { header: cookieMode },
      body: { code: "one-time-code" },
      credentials: "include",
    }),
  );
  const { data: logout } = await client.POST("/api/v1/auth/logout", { body: { refresh_token: "a-refresh-token" } });
  const endSession: string | undefined = logout?.end_session_url;
  await client.POST("/api/v1/auth/logout", { params: { query: { all: true }, header: cookieMode } });
  return [renewed.access_token, fromCookie.access_token, fromCode.access_token, endSession].join();
}

/** An admin's routes with a body: a user's role, the session policy, a provider's link and back channel. */
export async function administration(admin: typeof client, userId: string): Promise<number> {
  const user = answered(
    await admin.PATCH("/api/v1/auth/users/{id}", { params: { path: { id: userId } }, body: { role: "engineer" } }),
  );
  await admin.PATCH("/api/v1/auth/users/{id}", { params: { path: { id: userId } }, body: { is_active: false } });
  await admin.PUT("/api/v1/auth/session-policy", { body: { preset: "standard" } });
  const policy = answered(
    await admin.PUT("/api/v1/auth/session-policy", {
      body: { preset: "custom", idle_max_seconds: 3_600, abs_max_seconds: 86_400, reuse_grace_seconds: 5 },
    }),
  );
  // @ts-expect-error a custom policy names its three limits
  await admin.PUT("/api/v1/auth/session-policy", { body: { preset: "custom" } });
  const link = answered(
    await admin.POST("/api/v1/auth/oidc/{provider}/link", {
      params: { path: { provider: "corporate" } },
      body: { return_to: "https://tdt.example.com/account" },
    }),
  );
  await client.POST("/api/v1/auth/oidc/{provider}/backchannel-logout", {
    params: { path: { provider: "corporate" } },
    body: { logout_token: "a.b.c" },
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  return user.role.length + policy.idle_max_seconds + link.authorize_url.length;
}

/** A tree as an author writes it: what the service defaults (description, tags, status, change note, bodies) left out. */
const printer: Schemas["TreeInput"] = {
  title: "Printer does not print",
  category: "Printers",
  root_node_id: "power",
  nodes: [
    {
      id: "power",
      type: "question",
      title: "Is the power light on?",
      options: [
        { id: "yes", label: "Yes", next: "done" },
        { id: "no", label: "No", next: "plug" },
      ],
    },
    { id: "plug", type: "action", title: "Plug it in", next: "done" },
    { id: "network", type: "link", title: "Run the network check", tree_id: "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6" },
    { id: "done", type: "solution", title: "Printing again", outcome: "resolved" },
  ],
};

/** Create, replace from the version read (a document read back, edited), and what the contract refuses. */
export async function trees(engineer: typeof client): Promise<Schemas["Tree"]> {
  const created = answered(await engineer.POST("/api/v1/trees", { body: printer }));
  const replaced = answered(
    await engineer.PUT("/api/v1/trees/{id}", {
      params: { path: { id: created.id } },
      body: { ...printer, title: "Printer prints nothing", version: created.version },
    }),
  );
  const read = answered(await engineer.GET("/api/v1/trees/{id}", { params: { path: { id: replaced.id } } }));
  // A document read back is sent again as it is, with a change note: the service ignores what it set.
  const edited = answered(
    await engineer.PUT("/api/v1/trees/{id}", {
      params: { path: { id: read.id } },
      body: { ...read, change_note: "Wording" },
    }),
  );
  // @ts-expect-error a replacement names the version it was edited from
  await engineer.PUT("/api/v1/trees/{id}", { params: { path: { id: read.id } }, body: printer });
  // @ts-expect-error the service sets a tree's id, author and dates: an author does not write them
  const withServiceFields: Schemas["TreeInput"] = { ...printer, id: read.id, created_by: read.created_by };
  // @ts-expect-error an action names the node that follows, not answers
  const actionWithOptions: Schemas["NodeInput"] = { id: "a", type: "action", title: "A", options: [] };
  // Lists page with the service's defaults when `skip` and `limit` are left out.
  const summaries = answered(await engineer.GET("/api/v1/trees"));
  return summaries.length > withServiceFields.nodes.length + actionWithOptions.id.length ? edited : created;
}

/**
 * Authoring beside the live tree: a draft saved from a draft read back, reviewed, published; a
 * rollback; settings; a portable tree out and back in. What the contract refuses, refused.
 */
export async function authoring(engineer: typeof client, treeId: string): Promise<number> {
  const path = { params: { path: { id: treeId } } };
  const draft = answered(await engineer.GET("/api/v1/trees/{id}/draft", path));
  // A draft read back is saved again as it is: the service ignores what it set.
  const saved = answered(await engineer.PUT("/api/v1/trees/{id}/draft", { ...path, body: draft }));
  // An unfinished draft may leave out all but the revision it was edited from.
  await engineer.PUT("/api/v1/trees/{id}/draft", { ...path, body: { draft_revision: saved.draft_revision } });
  // @ts-expect-error a save names the draft revision it was edited from
  await engineer.PUT("/api/v1/trees/{id}/draft", { ...path, body: { title: "Untracked edit" } });
  await engineer.PATCH("/api/v1/trees/{id}/settings", { ...path, body: { review_required: true } });
  const review = answered(
    await engineer.POST("/api/v1/trees/{id}/reviews", {
      ...path,
      body: { draft_revision: saved.draft_revision, decision: "approve", comment: "Fine" },
    }),
  );
  // @ts-expect-error a review is an approval or a request for changes, nothing else
  await engineer.POST("/api/v1/trees/{id}/reviews", { ...path, body: { draft_revision: 1, decision: "maybe" } });
  const published = answered(
    await engineer.POST("/api/v1/trees/{id}/publish", {
      ...path,
      body: { draft_revision: review.draft_revision, change_note: "Reviewed" },
    }),
  );
  const rolledBack = answered(await engineer.POST("/api/v1/trees/{id}/rollback", { ...path, body: { version: 1 } }));
  const portable = answered(await engineer.GET("/api/v1/trees/{id}/export", path));
  const imported = answered(await engineer.POST("/api/v1/trees/import", { body: portable }));
  const history = answered(await engineer.GET("/api/v1/trees/{id}/history", path));
  return published.version + rolledBack.version + imported.version + history.length;
}

/** A session from start to report: every step kind, completion, and each report format as what it is. */
export async function sessions(technician: typeof client, treeId: string): Promise<Blob> {
  const started = answered(
    await technician.POST("/api/v1/sessions", { body: { tree_id: treeId, context: { ticket: "INC-1" } } }),
  );
  const path = { params: { path: { id: started.id } } };
  const step = (body: Schemas["StepOperation"]) => technician.PUT("/api/v1/sessions/{id}", { ...path, body });
  await step({ op: "answer", node_id: "power", option_id: "no", note: "Dark" });
  await step({ op: "continue", node_id: "plug" });
  await step({ op: "back" });
  await step({ op: "note", notes: "Second floor" });
  // @ts-expect-error an answer names the option chosen
  await step({ op: "answer", node_id: "power" });
  await technician.POST("/api/v1/sessions/{id}/complete", path);
  const completed = answered(
    await technician.POST("/api/v1/sessions/{id}/complete", {
      ...path,
      body: { outcome: "escalated", notes: "Sent on" },
    }),
  );
  const outcome: string | null = completed.outcome;

  // The format in the body: the JSON report, an object (the other formats are read below, by the query).
  const json = answered(await technician.POST("/api/v1/sessions/{id}/export", { ...path, body: { format: "json" } }));
  // Stock openapi-fetch reads any of the media types the export documents: the JSON report is the object.
  const report = typeof json === "object" && "session" in json ? JSON.stringify(json.session) : "";
  const download = (format: "csv" | "markdown" | "pdf") => ({
    params: { path: { id: started.id }, query: { format } },
  });
  const csv: string = answered(
    await technician.POST("/api/v1/sessions/{id}/export", { ...download("csv"), parseAs: "text" }),
  );
  const markdown: string = answered(
    await technician.POST("/api/v1/sessions/{id}/export", { ...download("markdown"), parseAs: "text" }),
  );
  const pdf: Blob = answered(
    await technician.POST("/api/v1/sessions/{id}/export", { ...download("pdf"), parseAs: "blob" }),
  );
  const bytes: ArrayBuffer = answered(
    await technician.POST("/api/v1/sessions/{id}/export", { ...download("pdf"), parseAs: "arrayBuffer" }),
  );
  return new Blob([report, csv, markdown, outcome ?? "", pdf, bytes]);
}

/** Organizations: making one, switching into it, its policy and its people. */
export async function organizations(admin: typeof client): Promise<number> {
  const made = answered(await admin.POST("/api/v1/organizations", { body: { name: "Acme Support", slug: "acme" } }));
  const tokens = answered(
    await admin.POST("/api/v1/auth/switch-organization", {
      body: { organization_id: made.id },
      headers: cookieMode,
    }),
  );
  const policy = answered(
    await admin.PUT("/api/v1/organizations/{id}/policy", {
      params: { path: { id: made.id } },
      body: { preset: "custom", idle_max_seconds: 1_800, abs_max_seconds: 43_200, reuse_grace_seconds: 0 },
    }),
  );
  const member = answered(
    await admin.POST("/api/v1/organizations/{id}/members", {
      params: { path: { id: made.id } },
      body: { email: "bo@example.com", role: "engineer" },
    }),
  );
  const status: "member" | "invited" = member.status;
  const path = { params: { path: { id: made.id } } };
  const domains = answered(
    await admin.PUT("/api/v1/organizations/{id}/domains", { ...path, body: { domains: ["acme.com"] } }),
  );
  const limits = answered(
    await admin.PUT("/api/v1/organizations/{id}/limits", { ...path, body: { max_members: null } }),
  );
  const seats: number | null | undefined = limits.limits.max_members;
  const provider = answered(
    await admin.POST("/api/v1/organizations/{id}/sso-providers", {
      ...path,
      body: {
        provider_id: "acme-okta",
        name: "Acme Okta",
        issuer: "https://acme.okta.com",
        client_id: "tdt",
        client_secret: "s3cret",
        allowed_domains: ["acme.com"],
      },
    }),
  );
  const replaced = answered(
    await admin.PUT("/api/v1/organizations/{id}/sso-providers/{provider_id}", {
      params: { path: { id: made.id, provider_id: provider.id } },
      body: { name: "Acme", issuer: provider.issuer, client_id: provider.client_id, default_role: "engineer" },
    }),
  );
  return (
    tokens.expires_in +
    policy.idle_max_seconds +
    status.length +
    domains.domains.length +
    (seats ?? 0) +
    replaced.callback_url.length
  );
}

export async function webhooks(admin: typeof client): Promise<number> {
  const made = answered(
    await admin.POST("/api/v1/webhooks", {
      body: { url: "https://tickets.example.com/tdt", events: ["tdt.session.completed", "tdt.tree.published"] },
    }),
  );
  // Only the answer to its creation carries the secret: optional in the type.
  const secret: string | undefined = made.secret;
  const path = { params: { path: { id: made.id } } };
  const changed = answered(await admin.PATCH("/api/v1/webhooks/{id}", { ...path, body: { enabled: false } }));
  const again = answered(
    await admin.POST("/api/v1/webhooks/{id}/redeliver", { ...path, body: { since: "2026-12-01T00:00:00.000Z" } }),
  );
  const log = answered(
    await admin.GET("/api/v1/webhooks/{id}/deliveries", { ...path, params: { ...path.params, query: { limit: 10 } } }),
  );
  const state: "pending" | "delivered" | "failed" | undefined = log[0]?.state;
  return (secret?.length ?? 0) + Number(changed.enabled) + again.queued + (state?.length ?? 0);
}

type Upload = paths["/api/v1/media"]["post"]["requestBody"]["content"]["multipart/form-data"];

/**
 * An image upload, its file as the contract types it (a Blob in the package's types, a string on
 * stock defaults: FormData takes either), sent as FormData; the image read back as a Blob.
 */
export async function media(engineer: typeof client, file: Upload["file"]): Promise<number> {
  const made = answered(
    await engineer.POST("/api/v1/media", {
      body: { file },
      bodySerializer: (body) => {
        const form = new FormData();
        form.append("file", body.file);
        return form;
      },
    }),
  );
  const image = answered(
    await engineer.GET("/api/v1/media/{id}", {
      params: { path: { id: made.id }, header: { range: "bytes=0-1023" } },
      parseAs: "blob",
    }),
  );
  const size: number = image.size;
  return made.bytes + made.width * made.height + size;
}

/** A tree's texts translated into German: each text named by its node, field and item. */
export async function translate(engineer: typeof client, treeId: string): Promise<number> {
  const path = { params: { path: { id: treeId, locale: "de" } } };
  const listed = answered(await engineer.GET("/api/v1/trees/{id}/translations/{locale}", path));
  const field: "title" | "body" | "option_label" | "field_label" = listed.texts[0]?.field ?? "title";
  const saved = answered(
    await engineer.PUT("/api/v1/trees/{id}/translations/{locale}", {
      ...path,
      body: { texts: [{ node_id: listed.texts[0]?.node_id ?? "", field, item_id: "", text: "Übersetzt" }] },
    }),
  );
  const outdated: boolean | undefined = saved.texts[0]?.outdated;
  return saved.texts.length + Number(outdated ?? false);
}

export async function apiKeys(admin: typeof client): Promise<number> {
  const made = answered(
    await admin.POST("/api/v1/api-keys", {
      body: { name: "Ticketing sync", scopes: ["sessions:read", "reports:read"], daily_quota: 10_000 },
    }),
  );
  // The key itself is in the answer to its creation only: optional in the type.
  const key: string | undefined = made.key;
  const listed = answered(await admin.GET("/api/v1/api-keys"));
  const used: number = listed[0]?.used_today ?? 0;
  return (key?.length ?? 0) + used + made.daily_quota;
}
