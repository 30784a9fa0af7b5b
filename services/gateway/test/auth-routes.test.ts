import { randomUUID } from "node:crypto";
import { AppError } from "@tdt/kit";
import type { LoginRequest, LogoutRequest, RegisterRequest } from "@tdt/proto/tdt/auth/v1/auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAuth, STRICT_POLICY, sampleUser } from "./support/fake-auth.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The auth routes of SPEC §4.1 against a fake auth service on a real gRPC server.
let fake: FakeAuth;
let gateway: TestGateway;
let technician: string;
let admin: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const USER_FIELDS = ["created_at", "email", "full_name", "id", "is_active", "role"];
const TOKEN_PAIR_FIELDS = ["access_token", "expires_in", "refresh_token", "token_type"];

beforeAll(async () => {
  fake = await FakeAuth.start();
  gateway = await startTestGateway(fake.port);
  technician = await fake.keys.accessToken({ role: "technician" });
  admin = await fake.keys.accessToken({ role: "admin" });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await gateway?.close();
  await fake?.stop();
});

describe("POST /api/v1/auth/register", () => {
  const body = { email: "new@example.com", password: "correct horse", full_name: "New Person" };

  it("answers 202 verification_sent and nothing else, whatever the service's answer carries", async () => {
    fake.answer("register", async (request) => ({
      detail: "verification_sent",
      // A leaky service would not get a user out: the route answers the detail only.
      user: { ...sampleUser({ email: request.email }), password_hash: "$argon2id$..." } as never,
    }));
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/register",
      headers: { "user-agent": "test-browser/1.0" },
      payload: body,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ detail: "verification_sent" });
    const [call] = fake.callsOf("register");
    expect(call?.request).toEqual<RegisterRequest>({
      ...body,
      client: { user_agent: "test-browser/1.0", ip: "127.0.0.1" },
    });
  });

  it("refuses a short password and a malformed email with 422 and where", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/register",
      payload: { ...body, email: "not-an-email", password: "short" },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "password"], type: "string_too_short" }),
        expect.objectContaining({ loc: ["body", "email"], type: "email_format" }),
      ]),
    );
    expect(fake.callsOf("register")).toHaveLength(0);
  });

  it("refuses unknown fields, an empty name and a password over 128 characters", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/register",
      payload: { ...body, full_name: "", password: "x".repeat(129), role: "admin" },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "full_name"], type: "string_too_short" }),
        expect.objectContaining({ loc: ["body", "password"], type: "string_too_long" }),
        expect.objectContaining({ loc: ["body", "role"], type: "extra_forbidden" }),
      ]),
    );
  });

  it("answers registration under invite or closed with 403 registration_closed", async () => {
    fake.answer("register", async () => {
      throw new AppError("registration_closed");
    });
    const response = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/register", payload: body });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "registration_closed" });
  });

  it("answers a rate limit with 429 and Retry-After", async () => {
    fake.answer("register", async () => {
      throw new AppError("too_many_attempts", { retryAfterSeconds: 30 });
    });
    const response = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/register", payload: body });
    expect(response.statusCode).toBe(429);
    expect(response.headers["retry-after"]).toBe("30");
    expect(response.json()).toEqual({ detail: "too_many_attempts" });
  });

  it("passes the service's own validation problems on as 422", async () => {
    fake.answer("register", async () => {
      throw AppError.invalid([{ loc: ["body", "password"], msg: "too common", type: "password_too_common" }]);
    });
    const response = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/register", payload: body });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ loc: ["body", "password"], msg: "too common", type: "password_too_common" }],
    });
  });
});

describe("logging in and refreshing", () => {
  it("logs in with the OAuth2 password form", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "curl/8" },
      payload: "grant_type=password&username=tech%40example.com&password=s3cret%20pass",
    });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(TOKEN_PAIR_FIELDS);
    expect(response.json()).toMatchObject({ token_type: "bearer", expires_in: 900 });
    expect(fake.callsOf("login")[0]?.request).toEqual<LoginRequest>({
      email: "tech@example.com",
      password: "s3cret pass",
      client: { user_agent: "curl/8", ip: "127.0.0.1" },
    });
  });

  it("reads only forms on the form login", async () => {
    const json = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { username: "tech@example.com", password: "s3cret pass" },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({ detail: "unsupported_content_type" });
    const missing = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "username=tech%40example.com",
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toEqual([{ loc: ["body", "password"], msg: "Field required", type: "missing" }]);
  });

  it("logs in with JSON", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/json",
      payload: { email: "tech@example.com", password: "s3cret pass" },
    });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(TOKEN_PAIR_FIELDS);
    expect(fake.callsOf("login")[0]?.request).toMatchObject({ email: "tech@example.com", password: "s3cret pass" });
  });

  it("answers wrong credentials with the service's 401 and WWW-Authenticate", async () => {
    fake.answer("login", async () => {
      throw new AppError("invalid_credentials");
    });
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/json",
      payload: { email: "tech@example.com", password: "wrong" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe("Bearer");
    expect(response.json()).toEqual({ detail: "invalid_credentials" });
  });

  it("refreshes a token pair", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/refresh",
      payload: { refresh_token: "refresh-abc" },
    });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(TOKEN_PAIR_FIELDS);
    expect(fake.callsOf("refresh")[0]?.request).toMatchObject({ refresh_token: "refresh-abc" });
  });

  it("requires the refresh token", async () => {
    const response = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/refresh", payload: {} });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual([
      { loc: ["body", "refresh_token"], msg: "Field required", type: "missing" },
    ]);
  });
});

describe("the caller's own account and sessions", () => {
  it("answers /me with the user, passing the request id and the bearer token downstream", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { ...bearer(technician), "x-request-id": "req-me-1" },
    });
    expect(response.statusCode).toBe(200);
    // The user, and how they sign in.
    expect(Object.keys(response.json()).sort()).toEqual(
      [
        ...USER_FIELDS,
        "email_verified",
        "has_password",
        "linked_providers",
        "organization",
        "is_platform_admin",
      ].sort(),
    );
    expect(fake.callsOf("getMe")).toEqual([
      expect.objectContaining({ requestId: "req-me-1", accessToken: technician }),
    ]);
  });

  it("logs out with no body, an empty JSON body, or a refresh token, and ?all=true", async () => {
    const none = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/logout", headers: bearer(technician) });
    expect(none.statusCode).toBe(204);
    expect(none.body).toBe("");
    const empty = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: { ...bearer(technician), "content-type": "application/json" },
      payload: "",
    });
    expect(empty.statusCode).toBe(204);
    const all = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout?all=true",
      headers: bearer(technician),
      payload: { refresh_token: "refresh-xyz" },
    });
    expect(all.statusCode).toBe(204);
    expect(fake.callsOf("logout").map((call) => call.request)).toEqual<LogoutRequest[]>([
      { all: false, refresh_token: "" },
      { all: false, refresh_token: "" },
      { all: true, refresh_token: "refresh-xyz" },
    ]);
    expect(fake.callsOf("logout").every((call) => call.accessToken === technician)).toBe(true);
  });

  it("still refuses malformed JSON and unknown fields on logout", async () => {
    const malformed = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: { ...bearer(technician), "content-type": "application/json" },
      payload: "{",
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toEqual({ detail: "malformed_json" });
    const extra = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: bearer(technician),
      payload: { token: "x" },
    });
    expect(extra.statusCode).toBe(422);
    expect(extra.json().detail).toEqual([expect.objectContaining({ loc: ["body", "token"], type: "extra_forbidden" })]);
    const notBoolean = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout?all=maybe",
      headers: bearer(technician),
    });
    expect(notBoolean.statusCode).toBe(422);
    expect(notBoolean.json().detail).toEqual([
      expect.objectContaining({ loc: ["query", "all"], type: "boolean_type" }),
    ]);
    expect(fake.callsOf("logout")).toHaveLength(0);
  });

  it("lists the caller's login sessions", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/sessions",
      headers: bearer(technician),
    });
    expect(response.statusCode).toBe(200);
    const sessions = response.json() as Record<string, unknown>[];
    expect(sessions).toHaveLength(1);
    expect(Object.keys(sessions[0] ?? {}).sort()).toEqual([
      "absolute_expires_at",
      "created_at",
      "current",
      "idle_expires_at",
      "ip",
      "last_used_at",
      "sid",
      "user_agent",
    ]);
  });

  it("revokes one session by sid, and refuses a sid that is not a uuid", async () => {
    const sid = randomUUID();
    const done = await gateway.app.inject({
      method: "DELETE",
      url: `/api/v1/auth/sessions/${sid}`,
      headers: bearer(technician),
    });
    expect(done.statusCode).toBe(204);
    expect(fake.callsOf("revokeLoginSession")[0]?.request).toEqual({ sid });

    const bad = await gateway.app.inject({
      method: "DELETE",
      url: "/api/v1/auth/sessions/not-a-uuid",
      headers: bearer(technician),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toEqual([expect.objectContaining({ loc: ["path", "sid"], type: "uuid_format" })]);
  });

  it("answers 404 for a session the service does not show the caller", async () => {
    fake.answer("revokeLoginSession", async () => {
      throw new AppError("not_found");
    });
    const response = await gateway.app.inject({
      method: "DELETE",
      url: `/api/v1/auth/sessions/${randomUUID()}`,
      headers: bearer(technician),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: "not_found" });
  });
});

describe("admin routes", () => {
  it("refuse a technician with 403 forbidden without asking the service", async () => {
    for (const [method, url, payload] of [
      ["GET", "/api/v1/auth/users", undefined],
      ["PATCH", `/api/v1/auth/users/${randomUUID()}`, { role: "engineer" }],
      ["GET", "/api/v1/auth/session-policy", undefined],
      ["PUT", "/api/v1/auth/session-policy", { preset: "standard" }],
    ] as const) {
      const response = await gateway.app.inject({
        method,
        url,
        headers: bearer(technician),
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toEqual({ detail: "forbidden" });
    }
    expect(fake.calls.filter((call) => call.method !== "getJwks")).toEqual([]);
  });

  it("list users as a plain array with X-Total-Count, paging with skip and limit", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/users?skip=1&limit=1",
      headers: bearer(admin),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-total-count"]).toBe("3");
    expect(response.json()).toEqual([expect.objectContaining({ email: "user1@example.com" })]);
    expect(fake.callsOf("listUsers")[0]).toMatchObject({ request: { skip: 1, limit: 1 }, accessToken: admin });

    const defaults = await gateway.app.inject({ method: "GET", url: "/api/v1/auth/users", headers: bearer(admin) });
    expect(defaults.statusCode).toBe(200);
    expect(fake.callsOf("listUsers")[1]?.request).toEqual({ skip: 0, limit: 50 });
  });

  it("refuse a limit outside 1..100 and a negative skip", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/users?skip=-1&limit=101",
      headers: bearer(admin),
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["query", "skip"], type: "greater_than_equal" }),
        expect.objectContaining({ loc: ["query", "limit"], type: "less_than_equal" }),
      ]),
    );
  });

  it("still let the service refuse what the gateway let through", async () => {
    fake.answer("listUsers", async () => {
      throw new AppError("forbidden");
    });
    const response = await gateway.app.inject({ method: "GET", url: "/api/v1/auth/users", headers: bearer(admin) });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "forbidden" });
  });

  it("change a user's role or active flag, needing at least one of them", async () => {
    const id = randomUUID();
    const response = await gateway.app.inject({
      method: "PATCH",
      url: `/api/v1/auth/users/${id}`,
      headers: bearer(admin),
      payload: { role: "engineer", is_active: false },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, role: "engineer", is_active: false });
    expect(fake.callsOf("updateUser")[0]?.request).toEqual({ id, role: "engineer", is_active: false });

    const empty = await gateway.app.inject({
      method: "PATCH",
      url: `/api/v1/auth/users/${id}`,
      headers: bearer(admin),
      payload: {},
    });
    expect(empty.statusCode).toBe(422);
    const badRole = await gateway.app.inject({
      method: "PATCH",
      url: `/api/v1/auth/users/${id}`,
      headers: bearer(admin),
      payload: { role: "superuser" },
    });
    expect(badRole.statusCode).toBe(422);
    expect(badRole.json().detail).toEqual([expect.objectContaining({ loc: ["body", "role"], type: "enum" })]);
    expect(fake.callsOf("updateUser")).toHaveLength(1);
  });

  it("read and set the session policy, by preset or custom limits", async () => {
    const read = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/session-policy",
      headers: bearer(admin),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(STRICT_POLICY);

    const preset = await gateway.app.inject({
      method: "PUT",
      url: "/api/v1/auth/session-policy",
      headers: bearer(admin),
      payload: { preset: "standard" },
    });
    expect(preset.statusCode).toBe(200);
    expect(preset.json()).toMatchObject({ preset: "standard" });

    const custom = { preset: "custom", idle_max_seconds: 600, abs_max_seconds: 3600, reuse_grace_seconds: 5 };
    const set = await gateway.app.inject({
      method: "PUT",
      url: "/api/v1/auth/session-policy",
      headers: bearer(admin),
      payload: custom,
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual(custom);
    expect(fake.callsOf("setSessionPolicy").map((call) => call.request)).toEqual([{ preset: "standard" }, custom]);
  });

  it("refuse a custom policy without its limits, an unknown preset, and limits on a named preset", async () => {
    const attempts: [object, { loc: unknown[]; type: string }[]][] = [
      [
        { preset: "custom", idle_max_seconds: 600 },
        [
          { loc: ["body", "abs_max_seconds"], type: "missing" },
          { loc: ["body", "reuse_grace_seconds"], type: "missing" },
        ],
      ],
      [{ preset: "forever" }, [{ loc: ["body", "preset"], type: "enum" }]],
      [{ preset: "strict", idle_max_seconds: 600 }, [{ loc: ["body", "idle_max_seconds"], type: "extra_forbidden" }]],
      [{}, [{ loc: ["body", "preset"], type: "missing" }]],
    ];
    for (const [payload, problems] of attempts) {
      const response = await gateway.app.inject({
        method: "PUT",
        url: "/api/v1/auth/session-policy",
        headers: bearer(admin),
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(422);
      expect(response.json().detail, JSON.stringify(payload)).toEqual(problems.map((p) => expect.objectContaining(p)));
    }
    expect(fake.callsOf("setSessionPolicy")).toHaveLength(0);
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("serves the public keys, cacheable for a minute, without private members", async () => {
    fake.answer("getJwks", async () => ({
      jwks_json: JSON.stringify({ keys: [{ ...fake.keys.jwks().keys[0], d: "PRIVATE" }] }),
    }));
    const response = await gateway.app.inject({ method: "GET", url: "/.well-known/jwks.json" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("public, max-age=60");
    expect(response.json()).toEqual(fake.keys.jwks());
    expect(response.body).not.toContain("PRIVATE");
  });
});

describe("the OpenAPI document", () => {
  it("lists every auth route with its shared schemas", async () => {
    const response = await gateway.app.inject({ method: "GET", url: "/api/openapi.json" });
    const spec = response.json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; tags?: string[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/login/json",
        "POST /api/v1/auth/refresh",
        "GET /api/v1/auth/me",
        "POST /api/v1/auth/logout",
        "GET /api/v1/auth/sessions",
        "DELETE /api/v1/auth/sessions/{sid}",
        "GET /api/v1/auth/users",
        "PATCH /api/v1/auth/users/{id}",
        "GET /api/v1/auth/session-policy",
        "PUT /api/v1/auth/session-policy",
        "GET /.well-known/jwks.json",
      ]),
    );
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(["User", "TokenPair", "LoginSession", "SessionPolicy", "ValidationError"]),
    );
    const me = spec.paths["/api/v1/auth/me"]?.get;
    expect(Object.keys(me?.responses ?? {})).toEqual(expect.arrayContaining(["200", "401", "503"]));
    // Each error status lists its detail codes as an enum, explained from the catalogue.
    type ErrorResponse = { description: string; content: { "application/json": { schema: object } } };
    const unauthorized = ((me?.responses ?? {}) as unknown as Record<string, ErrorResponse>)["401"];
    expect(unauthorized?.content["application/json"].schema).toMatchObject({
      properties: {
        detail: { type: "string", enum: ["invalid_token", "not_authenticated", "session_revoked", "token_expired"] },
      },
    });
    expect(unauthorized?.description).toContain("`token_expired`: The access token has expired");
    const refresh = (spec.paths["/api/v1/auth/refresh"]?.post?.responses ?? {}) as unknown as Record<
      string,
      ErrorResponse
    >;
    expect(refresh["401"]?.content["application/json"].schema).toMatchObject({
      properties: { detail: { enum: expect.arrayContaining(["invalid_refresh_token", "session_expired_idle"]) } },
    });
    expect(me?.tags).toEqual(["auth"]);
    type WithBody = { requestBody: { required: boolean; content: object } };
    const login = spec.paths["/api/v1/auth/login"]?.post as unknown as WithBody;
    // What an OAuth2 client sends, and what a browser's FormData sends.
    expect(Object.keys(login.requestBody.content)).toEqual([
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ]);
    const logout = spec.paths["/api/v1/auth/logout"]?.post as unknown as WithBody;
    expect(logout.requestBody.required).toBe(false);
    // Cookie mode sends no body to refresh.
    const refreshBody = spec.paths["/api/v1/auth/refresh"]?.post as unknown as WithBody;
    expect(refreshBody.requestBody.required).toBe(false);
  });
});

describe("the client address recorded for rate limits and login sessions", () => {
  const login = (app: TestGateway["app"]) =>
    app.inject({
      method: "POST",
      url: "/api/v1/auth/login/json",
      headers: { "x-forwarded-for": "203.0.113.7" },
      payload: { email: "tech@example.com", password: "s3cret pass" },
    });

  it("ignores X-Forwarded-For by default, so a client cannot pick its address", async () => {
    expect((await login(gateway.app)).statusCode).toBe(200);
    expect(fake.callsOf("login")[0]?.request).toMatchObject({ client: { ip: "127.0.0.1" } });
  });

  it("takes it from X-Forwarded-For behind a trusted proxy (TRUST_PROXY)", async () => {
    const proxied = await startTestGateway(fake.port, { trustProxy: true });
    try {
      expect((await login(proxied.app)).statusCode).toBe(200);
      expect(fake.callsOf("login")[0]?.request).toMatchObject({ client: { ip: "203.0.113.7" } });
    } finally {
      await proxied.close();
    }
  });
});
