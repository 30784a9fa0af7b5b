import { gzipSync } from "node:zlib";
import { MAX_NESTING_DEPTH, verifierFromAuthService } from "@tdt/kit";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDownstream, connectDownstream, type Downstream } from "../src/api/downstream.js";
import { BODY_LIMIT_BYTES, buildGateway } from "../src/app.js";

// Downstream addresses where nothing listens: the shell's own behaviour, without services.
let app: FastifyInstance;
let downstream: Downstream;

beforeAll(async () => {
  const [a, t, s] = await Promise.all([freePort(), freePort(), freePort()]);
  downstream = connectDownstream({
    authAddress: `127.0.0.1:${a}`,
    treesAddress: `127.0.0.1:${t}`,
    sessionsAddress: `127.0.0.1:${s}`,
    hooksAddress: `127.0.0.1:${s}`,
    grpcDeadlineMs: 500,
  });
  const log = testLogger("gateway");
  const verifier = verifierFromAuthService({ auth: downstream.auth, log });
  app = await buildGateway({ log, downstream, verifier, corsOrigins: ["https://app.example.com"] });
  // A route with a schema, to see validation failures in the SPEC §3 shape.
  app.post(
    "/api/v1/echo",
    {
      schema: {
        body: {
          type: "object",
          required: ["email", "items"],
          additionalProperties: false,
          properties: {
            email: { type: "string", minLength: 3 },
            items: { type: "array", items: { type: "object", properties: { next: { type: "string" } } } },
          },
        },
      },
    },
    async (request) => request.body,
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
  closeDownstream(downstream);
});

describe("gateway shell", () => {
  it("answers /health while downstream services are down", async () => {
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", version: "dev" });
  });

  it("is not ready while no downstream service is SERVING", async () => {
    const response = await app.inject({ method: "GET", url: "/ready" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      detail: "service_unavailable",
      status: "unavailable",
      services: { auth: "NOT_SERVING", trees: "NOT_SERVING", sessions: "NOT_SERVING", hooks: "NOT_SERVING" },
    });
  });

  it("answers a route whose service is known down with 503 service_unavailable, without waiting", async () => {
    await app.inject({ method: "GET", url: "/ready" });
    const started = performance.now();
    const response = await app.inject({ method: "GET", url: "/api/v1/trees/?limit=1" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ detail: "service_unavailable" });
    // The gRPC deadline here is 500 ms.
    expect(performance.now() - started).toBeLessThan(250);
  });

  it("honours an incoming X-Request-Id and creates one otherwise", async () => {
    const given = await app.inject({ method: "GET", url: "/health", headers: { "x-request-id": "abc-123" } });
    expect(given.headers["x-request-id"]).toBe("abc-123");
    const created = await app.inject({ method: "GET", url: "/health" });
    expect(created.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const junk = await app.inject({ method: "GET", url: "/health", headers: { "x-request-id": "a b\u0001c" } });
    expect(junk.headers["x-request-id"]).not.toBe("a b\u0001c");
  });

  it("answers an unknown route with 404 not_found as JSON", async () => {
    const response = await app.inject({ method: "GET", url: "/api/v1/nope" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: "not_found" });
  });

  it("answers malformed JSON with 400 malformed_json", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      headers: { "content-type": "application/json" },
      payload: '{"email": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "malformed_json" });
  });

  it("answers a content type it does not read with 400", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      headers: { "content-type": "application/xml" },
      payload: "<a/>",
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "unsupported_content_type" });
  });

  it("answers a body over 2 MB with 413", async () => {
    const payload = JSON.stringify({ email: "x".repeat(BODY_LIMIT_BYTES), items: [] });
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      headers: { "content-type": "application/json" },
      payload,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ detail: "request_too_large" });
  });

  it("refuses JSON nested past the limit with 400 json_too_deep, before anything walks it", async () => {
    const post = (payload: string) =>
      app.inject({ method: "POST", url: "/api/v1/echo", headers: { "content-type": "application/json" }, payload });
    const arrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    // A million arrays fit in 2 MB; a million objects do not (413), 300,000 do.
    const deep = [65, 20_000, 1_000_000].map(arrays).concat([65, 20_000, 300_000].map(objects));
    for (const payload of deep) {
      const response = await post(payload);
      expect(response.statusCode, `${payload.length} bytes`).toBe(400);
      expect(response.json()).toEqual({ detail: "json_too_deep" });
    }
    expect((await post(objects(1_000_000))).json()).toEqual({ detail: "request_too_large" });
    // Brackets inside strings are text, not nesting; and the limit itself is accepted.
    const quoted = await post(JSON.stringify({ email: "[".repeat(5_000), items: [] }));
    expect(quoted.statusCode).toBe(200);
    const atLimit = await post(`{"email":"abc","items":[{"next":"x","deep":${arrays(MAX_NESTING_DEPTH - 3)}}]}`);
    expect(atLimit.statusCode).toBe(200);
  });

  it("refuses a NUL character in an object key at that key, and prototype keys as malformed", async () => {
    const nulKey = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      headers: { "content-type": "application/json" },
      payload: '{"email":"abc","items":[{"ne\\u0000xt":"x"}]}',
    });
    expect(nulKey.statusCode).toBe(422);
    expect(nulKey.json().detail).toEqual([
      { loc: ["body", "items", 0, "ne\u0000xt"], msg: "The NUL character is not allowed in a key", type: "key_nul" },
    ]);
    const proto = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      headers: { "content-type": "application/json" },
      payload: '{"email":"abc","items":[],"__proto__":{"admin":true}}',
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.json()).toEqual({ detail: "malformed_json" });
  });

  it("reads bodies as UTF-8 JSON whatever else they claim, and answers what it cannot read with 400", async () => {
    const body = JSON.stringify({ email: "abc", items: [] });
    const json = { "content-type": "application/json" };
    const post = (headers: Record<string, string>, payload: Buffer) =>
      app.inject({ method: "POST", url: "/api/v1/echo", headers, payload });
    const utf16 = await post({ "content-type": "application/json; charset=utf-16" }, Buffer.from(body, "utf16le"));
    expect([utf16.statusCode, utf16.json()]).toEqual([400, { detail: "malformed_json" }]);
    // No decompression: gzip bytes are not JSON.
    const gzip = await post({ ...json, "content-encoding": "gzip" }, gzipSync(body));
    expect([gzip.statusCode, gzip.json()]).toEqual([400, { detail: "malformed_json" }]);
    // Bytes that are not UTF-8 read as U+FFFD; a byte-order mark is skipped (RFC 8259 §8.1 allows either).
    const invalid = await post(
      json,
      Buffer.from([...Buffer.from('{"email":"a'), 0xff, 0xfe, ...Buffer.from('","items":[]}')]),
    );
    expect([invalid.statusCode, invalid.json()]).toEqual([200, { email: "a\ufffd\ufffd", items: [] }]);
    const bom = await post(json, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    expect(bom.statusCode).toBe(200);
  });

  it("answers a URL the router cannot read with a {detail} too", async () => {
    const malformed = await app.inject({ method: "GET", url: "/api/v1/trees/%E0%A4%A" });
    expect([malformed.statusCode, malformed.json()]).toEqual([400, { detail: "malformed_url" }]);
    const long = await app.inject({ method: "GET", url: `/api/v1/trees/${"x".repeat(5_000)}` });
    expect([long.statusCode, long.json()]).toEqual([414, { detail: "uri_too_long" }]);
  });

  it("answers headers past Node's 16 KB limit with 431 {detail}, over a real socket", async () => {
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const response = await fetch(`${address}/health`, { headers: { "x-big": "a".repeat(20_000) } });
    expect([response.status, await response.json()]).toEqual([431, { detail: "request_header_too_large" }]);
  });

  it("reports every validation problem with loc, msg and type", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/echo",
      payload: { email: "x", items: [{ next: 5 }], extra: true },
    });
    expect(response.statusCode).toBe(422);
    const detail = response.json().detail as { loc: unknown[]; type: string }[];
    expect(detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "email"], type: "string_too_short" }),
        expect.objectContaining({ loc: ["body", "items", 0, "next"], type: "string_type" }),
        expect.objectContaining({ loc: ["body", "extra"], type: "extra_forbidden" }),
      ]),
    );
    const missing = await app.inject({ method: "POST", url: "/api/v1/echo", payload: {} });
    expect(missing.json().detail).toEqual(
      expect.arrayContaining([{ loc: ["body", "email"], msg: "Field required", type: "missing" }]),
    );
  });

  it("serves OpenAPI 3.1, Swagger UI and a ReDoc page", async () => {
    const spec = await app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe("3.1.0");
    expect(Object.keys(spec.json().paths)).toEqual(expect.arrayContaining(["/health", "/ready"]));

    const ui = await app.inject({ method: "GET", url: "/api/docs/" });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers["content-type"]).toContain("text/html");

    const redoc = await app.inject({ method: "GET", url: "/api/redoc" });
    expect(redoc.statusCode).toBe(200);
    expect(redoc.body).toContain('spec-url="/api/openapi.json"');
    const bundle = await app.inject({ method: "GET", url: "/api/redoc/redoc.standalone.js" });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });

  it("sends security headers and CORS for configured origins only", async () => {
    const allowed = await app.inject({ method: "GET", url: "/health", headers: { origin: "https://app.example.com" } });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(allowed.headers["x-content-type-options"]).toBe("nosniff");
    expect(allowed.headers["x-frame-options"]).toBe("SAMEORIGIN");
    const foreign = await app.inject({ method: "GET", url: "/health", headers: { origin: "https://evil.example" } });
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("paths", () => {
  it("treats a final slash as the same path", async () => {
    for (const url of ["/health/", "/api/redoc/", "/api/docs/"]) {
      expect((await app.inject({ method: "GET", url })).statusCode, url).toBe(200);
    }
  });
});
