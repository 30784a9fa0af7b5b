/**
 * "A 500 is a bug: never for anything a client can send." Random bodies, query strings and
 * path parameters at every route, as every kind of caller; nothing may answer 5xx (the
 * services are all up, so 503/504 would be bugs too), and every error is `{"detail": ...}`.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { api } from "../support/api.js";
import { type SystemWithAdmin, startSystemWithAdmin } from "../support/system.js";
import { printerTree } from "../support/trees.js";

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let tokens: Record<"admin" | "engineer" | "technician" | "anonymous", string | undefined>;
let ids: Record<"tree" | "session" | "user" | "sid", string>;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  client = running.client;
  const admin = running.admin;
  const engineer = await client.engineer(admin);
  const technician = await client.user("fuzzed");
  tokens = { admin, engineer, technician: technician.tokens.access_token, anonymous: undefined };
  const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  const session = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
    token: tokens.technician,
    json: { tree_id: tree.body.id },
  });
  const sessions = await client.call<{ sid: string }[]>("GET", "/api/v1/auth/sessions", { token: tokens.technician });
  ids = { tree: tree.body.id, session: session.body.id, user: technician.id, sid: sessions.body[0]?.sid ?? "" };
});

afterAll(async () => {
  await running?.stop();
});

const ROUTES: Array<[method: string, path: string]> = [
  ["POST", "/api/v1/auth/register"],
  ["POST", "/api/v1/auth/login/json"],
  ["POST", "/api/v1/auth/refresh"],
  ["GET", "/api/v1/auth/me"],
  ["GET", "/api/v1/auth/sessions"],
  ["DELETE", "/api/v1/auth/sessions/{sid}"],
  ["GET", "/api/v1/auth/users"],
  ["PATCH", "/api/v1/auth/users/{user}"],
  ["GET", "/api/v1/auth/session-policy"],
  ["PUT", "/api/v1/auth/session-policy"],
  ["GET", "/api/v1/trees"],
  ["GET", "/api/v1/trees/categories"],
  ["GET", "/api/v1/trees/search"],
  ["GET", "/api/v1/trees/{tree}"],
  ["GET", "/api/v1/trees/{tree}/versions"],
  ["POST", "/api/v1/trees"],
  ["PUT", "/api/v1/trees/{tree}"],
  ["GET", "/api/v1/sessions"],
  ["GET", "/api/v1/sessions/{session}"],
  ["POST", "/api/v1/sessions"],
  ["PUT", "/api/v1/sessions/{session}"],
  ["POST", "/api/v1/sessions/{session}/complete"],
  ["POST", "/api/v1/sessions/{session}/export"],
];

const pathValue = fc.oneof(
  fc.constantFrom("real"),
  fc.uuid(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("00000000-0000-0000-0000-000000000000", "..", "%00", "a/b", "null"),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
  fc.constantFrom("true", "-1", "1e9"),
);
const query = fc.dictionary(
  fc.constantFrom("skip", "limit", "q", "status", "category", "tag", "all", "user_id", "tree_id", "version", "format"),
  queryValue,
  { maxKeys: 3 },
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      op: fc.constantFrom("answer", "continue", "back", "note", "jump"),
      node_id: fc.constantFrom("power", "paper", "x"),
      option_id: fc.string({ maxLength: 5 }),
      email: fc.string({ maxLength: 30 }),
      password: fc.string({ maxLength: 30 }),
      preset: fc.constantFrom("custom", "strict", "weird"),
      idle_max_seconds: fc.integer(),
      version: fc.integer(),
      role: fc.string({ maxLength: 10 }),
      is_active: fc.boolean(),
      outcome: fc.string({ maxLength: 12 }),
      tree_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
      nodes: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      context: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
);

describe("anything a client can send", () => {
  it("never answers 5xx, and every error is {detail}", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom("admin", "engineer", "technician", "anonymous"),
        pathValue,
        query,
        body,
        async ([method, template], who, value, params, json) => {
          const path = template.replace(/\{(\w+)\}/g, (_match, name: keyof typeof ids) =>
            encodeURIComponent(value === "real" ? ids[name] : value),
          );
          const search = new URLSearchParams(params).toString();
          const response = await client.call(method, `${path}${search ? `?${search}` : ""}`, {
            token: tokens[who as keyof typeof tokens],
            ...(method === "GET" || method === "DELETE" ? {} : { json }),
          });
          expect(response.status, `${method} ${path}?${search} ${JSON.stringify(json)}`).toBeLessThan(500);
          if (response.status >= 400) expect(response.body).toHaveProperty("detail");
        },
      ),
      { numRuns: 1000 },
    );
  }, 120_000);
});
