/**
 * What a user of the deployed stack does, through one base URL (the gateway's published port
 * or the web container): log in, author a tree, run a session to an outcome, export its
 * report, and find the sign-in providers and the signing keys. Untyped calls by the API's own
 * paths (the test-support client, not the typed one generated from HEAD's document), so that an
 * older release's stack can be driven by the same code.
 */
import { type ApiResponse, api } from "@tdt/test-support/api";
import { expect } from "vitest";

/** The test-support client's call, positional, each request given 30 s. */
export function client(baseUrl: string) {
  const { call } = api(baseUrl);
  return <T = unknown>(method: string, path: string, token?: string, json?: unknown): Promise<ApiResponse<T>> =>
    call<T>(method, path, { token, json, signal: AbortSignal.timeout(30_000) });
}

/** A published tree of `actions` action nodes after one question, then a solution. */
export function walkableTree(actions: number) {
  const nodes: Array<Record<string, unknown>> = [
    {
      id: "start",
      type: "question",
      title: "Is the device on?",
      body: "",
      options: [
        { id: "yes", label: "Yes", next: "a1" },
        { id: "no", label: "No", next: "a1" },
      ],
    },
  ];
  for (let index = 1; index <= actions; index++) {
    nodes.push({
      id: `a${index}`,
      type: "action",
      title: `Step ${index}`,
      body: "",
      next: index === actions ? "fixed" : `a${index + 1}`,
    });
  }
  nodes.push({ id: "fixed", type: "solution", title: "Fixed", body: "", outcome: "resolved" });
  return {
    title: "Device does not start",
    category: "Deploy checks",
    status: "published",
    root_node_id: "start",
    nodes,
  };
}

export const ADMIN = { email: "admin@example.com", password: "correct-horse-battery-staple" };

export async function login(baseUrl: string, who = ADMIN): Promise<string> {
  const call = client(baseUrl);
  const answer = await call<{ access_token: string }>("POST", "/api/v1/auth/login/json", undefined, who);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.access_token;
}

/** The whole journey through `baseUrl`, each answer checked; returns what it made. */
export async function journey(baseUrl: string) {
  const call = client(baseUrl);
  const health = await call<{ status: string; version?: string }>("GET", "/health");
  expect(health.status).toBe(200);
  expect(health.body.status).toBe("ok");
  const ready = await call<{ status: string }>("GET", "/ready");
  expect(ready.status, JSON.stringify(ready.body)).toBe(200);
  expect(ready.body.status).toBe("ready");

  const token = await login(baseUrl);
  const tree = await call<{ id: string }>("POST", "/api/v1/trees", token, walkableTree(2));
  expect(tree.status, JSON.stringify(tree.body)).toBe(201);
  const session = await call<{ id: string; status: string }>("POST", "/api/v1/sessions", token, {
    tree_id: tree.body.id,
  });
  expect(session.status, JSON.stringify(session.body)).toBe(201);
  const id = session.body.id;
  for (const step of [
    { op: "answer", node_id: "start", option_id: "yes" },
    { op: "continue", node_id: "a1" },
    { op: "continue", node_id: "a2" },
  ]) {
    const stepped = await call("PUT", `/api/v1/sessions/${id}`, token, step);
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
  }
  const completed = await call<{ status: string; outcome: string }>(
    "POST",
    `/api/v1/sessions/${id}/complete`,
    token,
    {},
  );
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  expect(completed.body.status).toBe("completed");
  expect(completed.body.outcome).toBe("resolved");

  const markdown = await call<string>("POST", `/api/v1/sessions/${id}/export?format=markdown`, token);
  expect(markdown.status).toBe(200);
  expect(markdown.body).toContain("# Troubleshooting report: Device does not start");
  const pdf = await fetch(`${baseUrl}/api/v1/sessions/${id}/export?format=pdf`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  expect(pdf.status).toBe(200);
  expect(
    Buffer.from(await pdf.arrayBuffer())
      .subarray(0, 5)
      .toString(),
  ).toBe("%PDF-");

  // The trees service's projection of the session events (its durable consumer of
  // SESSION_EVENTS) counts the completed session.
  await expect
    .poll(
      async () =>
        (await call<{ sessions?: { completed: number } }>("GET", `/api/v1/trees/${tree.body.id}/analytics`, token)).body
          .sessions?.completed,
      { timeout: 20_000, interval: 250 },
    )
    .toBe(1);

  // A logout reaches the gateway as an auth event: the access token is refused at once after.
  const second = await login(baseUrl);
  expect((await call("POST", "/api/v1/auth/logout", second)).status).toBe(204);
  await expect
    .poll(async () => (await call("GET", "/api/v1/auth/me", second)).body, { timeout: 10_000, interval: 100 })
    .toEqual({ detail: "session_revoked" });

  const providers = await call<Array<{ id: string; name: string }>>("GET", "/api/v1/auth/providers");
  expect(providers.status).toBe(200);
  const keys = await call<{ keys: Array<{ kid: string }> }>("GET", "/.well-known/jwks.json");
  expect(keys.status).toBe(200);
  expect(keys.body.keys.length).toBeGreaterThan(0);
  return { token, treeId: tree.body.id, sessionId: id, version: health.body.version, providers: providers.body };
}
