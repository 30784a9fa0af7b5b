/**
 * API keys for machines (issue 29) through the gateway: an organization's admin makes a key, a
 * program sends it as `Authorization: Bearer tdt_…`, and it acts within its scopes, up to its daily
 * quota, with the IETF RateLimit headers on every answer; a revoked key is refused at its next
 * request.
 */

import type { Schemas } from "@tdt/api-client";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** An API key as the gateway answers it (the generated client's type). */
type ApiKeyBody = Schemas["ApiKey"];

let running: SystemWithAdmin;
let admin: string;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ admin } = running);
  const engineer = await running.client.engineer(admin);
  const tree = await running.client.call("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  expect(tree.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

async function makeKey(scopes: string[], dailyQuota = 1000): Promise<ApiKeyBody & { key: string }> {
  const made = await running.client.call<ApiKeyBody>("POST", "/api/v1/api-keys", {
    token: admin,
    json: { name: `machine ${scopes.join(" ")}`, scopes, daily_quota: dailyQuota },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  expect(made.body.key).toMatch(/^tdt_[A-Za-z0-9_-]{43}$/);
  return made.body as ApiKeyBody & { key: string };
}

/** A request with a key: its status, body and rate-limit headers. */
async function withKey(key: string, method: string, path: string, json?: unknown) {
  const response = await fetch(`${running.system.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(json ? { "content-type": "application/json" } : {}) },
    ...(json ? { body: JSON.stringify(json) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    policy: response.headers.get("ratelimit-policy"),
    limit: response.headers.get("ratelimit"),
    retryAfter: response.headers.get("retry-after"),
  };
}

describe("API keys", () => {
  it("are an admin's to make, shown once, listed without the key; a technician gets 403", async () => {
    const key = await makeKey(["trees:read"]);
    const listed = await running.client.call<ApiKeyBody[]>("GET", "/api/v1/api-keys", { token: admin });
    expect(listed.status).toBe(200);
    const mine = listed.body.find((entry) => entry.id === key.id);
    expect(mine).toMatchObject({ scopes: ["trees:read"], daily_quota: 1000, used_today: 0 });
    expect(mine).not.toHaveProperty("key");
    const { tokens } = await running.client.user();
    const asTechnician = await running.client.call("POST", "/api/v1/api-keys", {
      token: tokens.access_token,
      json: { name: "mine", scopes: ["trees:read"], daily_quota: 10 },
    });
    expect(asTechnician.status).toBe(403);
    const badScope = await running.client.call("POST", "/api/v1/api-keys", {
      token: admin,
      json: { name: "bad", scopes: ["everything"], daily_quota: 10 },
    });
    expect(badScope.status).toBe(422);
  });

  it("act within their scopes: a route the scopes do not open is 403 insufficient_scope", async () => {
    const key = await makeKey(["trees:read"]);
    const read = await withKey(key.key, "GET", "/api/v1/trees");
    expect(read.status).toBe(200);
    for (const [method, path, json] of [
      ["POST", "/api/v1/trees", printerTree()],
      ["GET", "/api/v1/sessions", undefined],
      ["GET", "/api/v1/auth/me", undefined],
      ["GET", "/api/v1/api-keys", undefined],
      ["GET", "/api/v1/webhooks", undefined],
    ] as const) {
      const refused = await withKey(key.key, method, path, json);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body).toEqual({ detail: "insufficient_scope" });
    }
    const manager = await makeKey(["webhooks:manage", "sessions:read"]);
    expect((await withKey(manager.key, "GET", "/api/v1/webhooks")).status).toBe(200);
    expect((await withKey(manager.key, "GET", "/api/v1/sessions")).status).toBe(200);
    const listed = await running.client.call<ApiKeyBody[]>("GET", "/api/v1/api-keys", { token: admin });
    expect(listed.body.find((entry) => entry.id === key.id)?.last_used_at).toEqual(expect.any(String));
  });

  it("refuse a key nobody made, and one that is not a key, with 401", async () => {
    const made = await makeKey(["trees:read"]);
    const forged = `tdt_${"A".repeat(43)}`;
    expect((await withKey(forged, "GET", "/api/v1/trees")).status).toBe(401);
    expect((await withKey(`${made.key}x`, "GET", "/api/v1/trees")).status).toBe(401);
    expect((await withKey("tdt_", "GET", "/api/v1/trees")).status).toBe(401);
  });

  it("count a daily quota with the RateLimit headers, then answer 429 with Retry-After", async () => {
    const key = await makeKey(["trees:read"], 3);
    const answers = [];
    for (let index = 0; index < 4; index += 1) answers.push(await withKey(key.key, "GET", "/api/v1/trees"));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    for (const answer of answers) expect(answer.policy).toBe('"daily";q=3;w=86400');
    const remaining = answers.map((answer) => /r=(\d+)/.exec(answer.limit ?? "")?.[1]);
    expect(remaining).toEqual(["2", "1", "0", "0"]);
    const resetIn = Number(/t=(\d+)/.exec(answers[0]?.limit ?? "")?.[1]);
    expect(resetIn).toBeGreaterThan(0);
    expect(resetIn).toBeLessThanOrEqual(86_400);
    expect(answers[3]?.body).toEqual({ detail: "rate_limited" });
    expect(Number(answers[3]?.retryAfter)).toBeGreaterThan(0);
  });

  it("let exactly the quota through when 60 requests race for 25, 3 rounds", async () => {
    for (let round = 0; round < 3; round += 1) {
      const key = await makeKey(["trees:read"], 25);
      const statuses = await Promise.all(
        Array.from({ length: 60 }, () => withKey(key.key, "GET", "/api/v1/trees").then((answer) => answer.status)),
      );
      const counts: Record<number, number> = {};
      for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
      expect(counts).toEqual({ 200: 25, 429: 35 });
    }
  }, 60_000);

  it("stop working at the next request once revoked", async () => {
    const key = await makeKey(["trees:read"]);
    expect((await withKey(key.key, "GET", "/api/v1/trees")).status).toBe(200);
    const revoked = await running.client.call("DELETE", `/api/v1/api-keys/${key.id}`, { token: admin });
    expect(revoked.status).toBe(204);
    const after = await withKey(key.key, "GET", "/api/v1/trees");
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ detail: "invalid_token" });
    expect((await running.client.call("DELETE", `/api/v1/api-keys/${key.id}`, { token: admin })).status).toBe(404);
    const listed = await running.client.call<ApiKeyBody[]>("GET", "/api/v1/api-keys", { token: admin });
    expect(listed.body.some((entry) => entry.id === key.id)).toBe(false);
  });
});
