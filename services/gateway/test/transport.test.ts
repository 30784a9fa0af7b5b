import { request as httpsRequest } from "node:https";
import { verifierFromAuthService } from "@tdt/kit";
import type {
  BeginOidcLoginRequest,
  ExchangeOidcCodeRequest,
  LoginRequest,
  RefreshRequest,
} from "@tdt/proto/tdt/auth/v1/auth";
import { type Certificates, makeCertificates } from "@tdt/test-support/certificates";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeDownstream, connectDownstream } from "../src/api/downstream.js";
import { buildGateway } from "../src/app.js";
import { API_METHODS, API_REQUEST_HEADERS, PREFLIGHT_MAX_AGE_SECONDS } from "../src/edge/cors-policy.js";
import { FakeAuth } from "./support/fake-auth.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The gateway as a browser sees it: CORS, security headers per transport, the refresh-token
// cookie mode, multipart login and bodies without a Content-Type. Against a fake auth service.
const APP = "http://app.example.test:5173";
const OTHER = "http://elsewhere.example.test";

let fake: FakeAuth;
let gateway: TestGateway;
let proxied: TestGateway;
let open: TestGateway;
let technician: string;

beforeAll(async () => {
  fake = await FakeAuth.start();
  [gateway, proxied, open] = await Promise.all([
    startTestGateway(fake.port, { corsOrigins: [APP] }),
    startTestGateway(fake.port, { corsOrigins: [APP], trustProxy: true }),
    startTestGateway(fake.port, { corsOrigins: ["*", APP] }),
  ]);
  technician = await fake.keys.accessToken({ role: "technician" });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await Promise.all([gateway, proxied, open].map((each) => each?.close()));
  await fake?.stop();
});

const preflight = (app: FastifyInstance, origin: string, method: string) =>
  app.inject({
    method: "OPTIONS",
    url: "/api/v1/sessions/8a7d4c1e-0000-4000-8000-000000000001/steps",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": API_REQUEST_HEADERS.join(","),
    },
  });

const list = (header: unknown) =>
  String(header ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

describe("CORS", () => {
  it("lets a listed origin send every method and header the API uses, with credentials, cached", async () => {
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      const response = await preflight(gateway.app, APP, method);
      expect(response.statusCode, method).toBe(204);
      expect(response.headers["access-control-allow-origin"]).toBe(APP);
      expect(response.headers["access-control-allow-credentials"]).toBe("true");
      expect(list(response.headers["access-control-allow-methods"])).toContain(method.toLowerCase());
      expect(list(response.headers["access-control-allow-headers"])).toEqual(
        expect.arrayContaining([...API_REQUEST_HEADERS]),
      );
      expect(response.headers["access-control-max-age"]).toBe(String(PREFLIGHT_MAX_AGE_SECONDS));
    }
    expect(list((await preflight(gateway.app, APP, "PUT")).headers["access-control-allow-methods"])).toEqual(
      [...API_METHODS].map((method) => method.toLowerCase()),
    );
  });

  it("answers a listed origin's request with its origin, credentials and the headers a page may read", async () => {
    const response = await gateway.app.inject({ method: "GET", url: "/health", headers: { origin: APP } });
    expect(response.headers["access-control-allow-origin"]).toBe(APP);
    expect(response.headers["access-control-allow-credentials"]).toBe("true");
    expect(list(response.headers["access-control-expose-headers"])).toEqual(
      expect.arrayContaining(["x-request-id", "x-total-count", "retry-after", "content-disposition"]),
    );
    expect(list(response.headers.vary)).toContain("origin");
  });

  it("gives an unlisted origin nothing to read, and no preflight", async () => {
    const response = await gateway.app.inject({ method: "GET", url: "/health", headers: { origin: OTHER } });
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
    const answer = await preflight(gateway.app, OTHER, "PUT");
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect(answer.headers["access-control-allow-methods"]).toBeUndefined();
  });

  it("answers a preflight, and gives an early error its CORS headers, while the service is down", async () => {
    // No sessions service listens behind these gateways: once it is known down, routes answer 503 at once.
    await expect
      .poll(async () => (await gateway.app.inject({ method: "GET", url: "/api/v1/sessions" })).statusCode, {
        timeout: 20_000,
      })
      .toBe(503);
    const down = await gateway.app.inject({ method: "GET", url: "/api/v1/sessions", headers: { origin: APP } });
    expect(down.statusCode).toBe(503);
    expect(down.headers["access-control-allow-origin"]).toBe(APP);
    const answer = await preflight(gateway.app, APP, "PUT");
    expect(answer.statusCode).toBe(204);
    expect(answer.headers["access-control-allow-origin"]).toBe(APP);
  });

  it('under "*" lets any origin read answers but never with credentials; listed origins keep them', async () => {
    const any = await open.app.inject({ method: "GET", url: "/health", headers: { origin: OTHER } });
    expect(any.headers["access-control-allow-origin"]).toBe("*");
    expect(any.headers["access-control-allow-credentials"]).toBeUndefined();
    const anyPreflight = await preflight(open.app, OTHER, "DELETE");
    expect(anyPreflight.headers["access-control-allow-origin"]).toBe("*");
    expect(anyPreflight.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(list(anyPreflight.headers["access-control-allow-methods"])).toContain("delete");
    const listed = await open.app.inject({ method: "GET", url: "/health", headers: { origin: APP } });
    expect(listed.headers["access-control-allow-origin"]).toBe(APP);
    expect(listed.headers["access-control-allow-credentials"]).toBe("true");
  });
});

describe("security headers follow the transport", () => {
  const upgrades = (csp: unknown) => String(csp).includes("upgrade-insecure-requests");

  it("over plain HTTP: no HSTS, no upgrade, even when a client claims https without a trusted proxy", async () => {
    for (const headers of [{}, { "x-forwarded-proto": "https" }]) {
      const response = await gateway.app.inject({ method: "GET", url: "/api/docs", headers });
      expect(response.headers["strict-transport-security"]).toBeUndefined();
      expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(upgrades(response.headers["content-security-policy"])).toBe(false);
    }
  });

  it("behind a trusted proxy: HSTS and upgrade only when the proxy says https", async () => {
    const tls = await proxied.app.inject({ method: "GET", url: "/health", headers: { "x-forwarded-proto": "https" } });
    expect(tls.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(upgrades(tls.headers["content-security-policy"])).toBe(true);
    const plain = await proxied.app.inject({ method: "GET", url: "/health", headers: { "x-forwarded-proto": "http" } });
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    expect(upgrades(plain.headers["content-security-policy"])).toBe(false);
  });

  describe("listening on https itself (GATEWAY_TLS_CERT_FILE, GATEWAY_TLS_KEY_FILE)", () => {
    let certificates: Certificates;
    let app: FastifyInstance;
    let port: number;

    beforeAll(async () => {
      certificates = await makeCertificates(["gateway"]);
      const { cert, key } = certificates.tls("gateway");
      const downstream = connectDownstream({
        authAddress: `127.0.0.1:${fake.port}`,
        treesAddress: "127.0.0.1:1",
        sessionsAddress: "127.0.0.1:1",
        hooksAddress: "127.0.0.1:1",
        grpcDeadlineMs: 2_000,
      });
      const log = testLogger("gateway");
      const verifier = verifierFromAuthService({ auth: downstream.auth, log });
      app = await buildGateway({ log, downstream, verifier, corsOrigins: [], https: { cert, key } });
      app.addHook("onClose", async () => closeDownstream(downstream));
      port = await freePort();
      await app.listen({ port, host: "127.0.0.1" });
    });

    afterAll(async () => {
      await app?.close();
      await certificates?.dispose();
    });

    /** A request over real TLS, trusting the test CA. */
    const overTls = (path: string, method = "GET", body?: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
        const request = httpsRequest(
          { host: "127.0.0.1", port, path, method, ca: certificates.tls("gateway").ca, headers },
          (response) => {
            response.resume();
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
          },
        );
        request.on("error", reject);
        request.end(body);
      });

    it("sends HSTS and the upgrade", async () => {
      const response = await overTls("/api/docs");
      expect(response.status).toBe(200);
      expect(response.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
      expect(upgrades(response.headers["content-security-policy"])).toBe(true);
    });

    it("marks the refresh cookie Secure", async () => {
      const response = await overTls(
        "/api/v1/auth/login/json",
        "POST",
        JSON.stringify({ email: "tech@example.com", password: "x" }),
        { "content-type": "application/json", "x-token-transport": "cookie" },
      );
      expect(response.status).toBe(200);
      const cookies = [response.headers["set-cookie"] ?? []].flat();
      expect(cookies).toHaveLength(2);
      for (const cookie of cookies) expect(cookie).toMatch(/; Secure(;|$)/);
    });
  });
});

/** The `Set-Cookie` lines of an answer, each as its name, value and attributes. */
function setCookies(header: string | string[] | undefined) {
  return [header ?? []].flat().map((line) => {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const [name, value] = pair.split("=");
    return { name, value, attributes: attributes.map((attribute) => attribute.toLowerCase()), line };
  });
}

describe("the refresh-token cookie mode", () => {
  const cookieMode = { "x-token-transport": "cookie" };
  const login = (app: FastifyInstance, headers: Record<string, string> = cookieMode) =>
    app.inject({
      method: "POST",
      url: "/api/v1/auth/login/json",
      headers,
      payload: { email: "tech@example.com", password: "pw" },
    });

  it("sets the refresh token as two path-scoped HttpOnly SameSite=Strict cookies, not Secure over plain HTTP", async () => {
    const response = await login(gateway.app);
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    const cookies = setCookies(response.headers["set-cookie"]);
    expect(cookies.map((cookie) => cookie.name)).toEqual(["tdt_refresh", "tdt_refresh"]);
    expect(cookies.map((cookie) => cookie.attributes.find((a) => a.startsWith("path=")))).toEqual([
      "path=/api/v1/auth/refresh",
      "path=/api/v1/auth/logout",
    ]);
    for (const cookie of cookies) {
      expect(cookie.value).toMatch(/^refresh-/);
      expect(cookie.attributes).toEqual(expect.arrayContaining(["httponly", "samesite=strict"]));
      expect(cookie.attributes).not.toContain("secure");
    }
  });

  it("marks the cookies Secure behind a trusted proxy that ended TLS", async () => {
    const response = await login(proxied.app, { ...cookieMode, "x-forwarded-proto": "https" });
    for (const cookie of setCookies(response.headers["set-cookie"])) expect(cookie.attributes).toContain("secure");
  });

  it("logs in by the OAuth2 form in cookie mode too", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      headers: { ...cookieMode, "content-type": "application/x-www-form-urlencoded" },
      payload: "username=tech%40example.com&password=pw",
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().refresh_token).toBeUndefined();
    expect(setCookies(response.headers["set-cookie"])).toHaveLength(2);
  });

  it("refreshes from the cookie with no body or {}, and replaces the cookies", async () => {
    for (const payload of [undefined, {}]) {
      const response = await gateway.app.inject({
        method: "POST",
        url: "/api/v1/auth/refresh",
        headers: { ...cookieMode, cookie: "tdt_refresh=refresh-from-cookie" },
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().refresh_token).toBeUndefined();
      expect(setCookies(response.headers["set-cookie"])).toHaveLength(2);
    }
    expect(fake.callsOf("refresh").map((call) => (call.request as RefreshRequest).refresh_token)).toEqual([
      "refresh-from-cookie",
      "refresh-from-cookie",
    ]);
  });

  it("answers a cookie-mode refresh without a cookie with 401 invalid_refresh_token", async () => {
    const response = await gateway.app.inject({ method: "POST", url: "/api/v1/auth/refresh", headers: cookieMode });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: "invalid_refresh_token" });
    expect(fake.callsOf("refresh")).toHaveLength(0);
  });

  it("refuses the cookie sent without the header (403 token_transport_header_required)", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/refresh",
      headers: { cookie: "tdt_refresh=refresh-from-cookie" },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "token_transport_header_required" });
    expect(fake.callsOf("refresh")).toHaveLength(0);
  });

  it("refuses a cookie-mode request from a foreign Origin (403 origin_not_allowed), and takes its own and listed ones", async () => {
    for (const url of ["/api/v1/auth/login/json", "/api/v1/auth/refresh", "/api/v1/auth/logout"]) {
      const response = await gateway.app.inject({
        method: "POST",
        url,
        headers: { ...cookieMode, origin: OTHER, cookie: "tdt_refresh=r", authorization: `Bearer ${technician}` },
        payload: { email: "tech@example.com", password: "pw" },
      });
      expect(response.statusCode, url).toBe(403);
      expect(response.json()).toEqual({ detail: "origin_not_allowed" });
    }
    // "*" lists nobody for cookie mode.
    const underStar = await login(open.app, { ...cookieMode, origin: OTHER });
    expect(underStar.statusCode).toBe(403);
    expect(fake.callsOf("login")).toHaveLength(0);

    // inject's Host is localhost:80.
    expect((await login(gateway.app, { ...cookieMode, origin: "http://localhost:80" })).statusCode).toBe(200);
    expect((await login(gateway.app, { ...cookieMode, origin: APP })).statusCode).toBe(200);
  });

  it("logs out with the cookie's refresh token and clears both cookies", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: { ...cookieMode, authorization: `Bearer ${technician}`, cookie: "tdt_refresh=refresh-to-end" },
    });
    expect(response.statusCode).toBe(204);
    expect(fake.callsOf("logout")[0]?.request).toEqual({ all: false, refresh_token: "refresh-to-end" });
    const cleared = setCookies(response.headers["set-cookie"]);
    expect(cleared.map((cookie) => [cookie.value, cookie.attributes.find((a) => a.startsWith("path="))])).toEqual([
      ["", "path=/api/v1/auth/refresh"],
      ["", "path=/api/v1/auth/logout"],
    ]);
    for (const cookie of cleared) expect(cookie.attributes).toContain("max-age=0");
  });

  it("leaves the JSON mode as it was: the pair in the body, no cookie, no origin check", async () => {
    const response = await login(gateway.app, { origin: OTHER });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    expect(response.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses an unknown token transport with 422", async () => {
    const response = await login(gateway.app, { "x-token-transport": "smoke-signals" });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0]).toMatchObject({ loc: ["header", "x-token-transport"], type: "enum" });
  });
});

/** A multipart body as a browser's FormData sends it. */
function multipart(parts: Array<{ name: string; value: string; filename?: string }>) {
  const boundary = "----tdt-test-boundary";
  const body = parts
    .map(
      (part) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"` +
        (part.filename ? `; filename="${part.filename}"\r\nContent-Type: text/plain` : "") +
        `\r\n\r\n${part.value}\r\n`,
    )
    .join("");
  return {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: `${body}--${boundary}--\r\n`,
  };
}

describe("login by multipart form (FormData)", () => {
  const post = (form: ReturnType<typeof multipart>) =>
    gateway.app.inject({ method: "POST", url: "/api/v1/auth/login", ...form });

  it("logs in with the form's fields", async () => {
    const response = await post(
      multipart([
        { name: "username", value: "tech@example.com" },
        { name: "password", value: "correct horse" },
        { name: "grant_type", value: "password" },
      ]),
    );
    expect(response.statusCode).toBe(200);
    expect(fake.callsOf("login")[0]?.request).toMatchObject<Partial<LoginRequest>>({
      email: "tech@example.com",
      password: "correct horse",
    });
  });

  it("refuses a file part with 400 form_file_not_accepted", async () => {
    const response = await post(
      multipart([
        { name: "username", value: "tech@example.com" },
        { name: "password", value: "pw", filename: "password.txt" },
      ]),
    );
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "form_file_not_accepted" });
  });

  it("refuses an oversize field or too many fields with 413 form_too_large", async () => {
    const long = await post(multipart([{ name: "password", value: "x".repeat(20_000) }]));
    expect(long.statusCode).toBe(413);
    expect(long.json()).toEqual({ detail: "form_too_large" });
    const many = await post(multipart(Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: "v" }))));
    expect(many.statusCode).toBe(413);
    expect(many.json()).toEqual({ detail: "form_too_large" });
    expect(fake.callsOf("login")).toHaveLength(0);
  });

  it("judges the fields by the form's schema (a password past 1024 characters, a missing field)", async () => {
    const response = await post(multipart([{ name: "username", value: "tech@example.com" }]));
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual([{ loc: ["body", "password"], msg: "Field required", type: "missing" }]);
  });

  it("still refuses JSON on the form route", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { username: "tech@example.com", password: "pw" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "unsupported_content_type" });
  });
});

describe("a request without a Content-Type", () => {
  it("is 400 unsupported_content_type where the route needs a body, with a body or without", async () => {
    for (const payload of [undefined, '{"email":"tech@example.com","password":"pw"}']) {
      const response = await gateway.app.inject({
        method: "POST",
        url: "/api/v1/auth/login/json",
        ...(payload === undefined ? {} : { payload }),
      });
      expect(response.statusCode, String(payload)).toBe(400);
      expect(response.json()).toEqual({ detail: "unsupported_content_type" });
    }
    expect(fake.callsOf("login")).toHaveLength(0);
  });

  it("is fine with no body at all where the body is optional (logout)", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: { authorization: `Bearer ${technician}` },
    });
    expect(response.statusCode).toBe(204);
  });
});

describe("the single sign-on binding cookie", () => {
  const authorize = "/api/v1/auth/oidc/example/authorize?return_to=http%3A%2F%2Flocalhost%3A8000%2F";
  const bindingOf = (setCookie: unknown) =>
    (Array.isArray(setCookie) ? setCookie : [String(setCookie ?? "")]).find((line) => line.includes("tdt_sso="));

  it("is __Host-tdt_sso (Secure, Path=/) when the request came over TLS, tdt_sso on the OIDC path otherwise", async () => {
    const tls = await proxied.app.inject({ method: "GET", url: authorize, headers: { "x-forwarded-proto": "https" } });
    expect(tls.statusCode).toBe(302);
    const hostCookie = bindingOf(tls.headers["set-cookie"]);
    expect(hostCookie).toMatch(/^__Host-tdt_sso=b{43};/);
    expect(hostCookie).toMatch(/; Path=\/;/);
    expect(hostCookie).toMatch(/; Secure/);
    expect(hostCookie).toMatch(/; HttpOnly/);
    expect(hostCookie).not.toMatch(/Domain=/i);

    const plain = await gateway.app.inject({ method: "GET", url: authorize });
    const pathCookie = bindingOf(plain.headers["set-cookie"]);
    expect(pathCookie).toMatch(/^tdt_sso=b{43};/);
    expect(pathCookie).toMatch(/; Path=\/api\/v1\/auth\/oidc;/);
    expect(pathCookie).not.toMatch(/Secure/);
  });

  it("is never taken from the browser by authorize, and the exchange reads only the cookie its transport sets", async () => {
    await gateway.app.inject({ method: "GET", url: authorize, headers: { cookie: "tdt_sso=planted-by-someone" } });
    expect((fake.callsOf("beginOidcLogin")[0]?.request as BeginOidcLoginRequest | undefined)?.binding).toBe("");

    const exchange = (app: FastifyInstance, headers: Record<string, string>) =>
      app.inject({ method: "POST", url: "/api/v1/auth/oidc/exchange", payload: { code: "c" }, headers });
    await exchange(proxied.app, { "x-forwarded-proto": "https", cookie: "tdt_sso=plain; __Host-tdt_sso=hosted" });
    await exchange(gateway.app, { cookie: "tdt_sso=plain; __Host-tdt_sso=hosted" });
    // Over TLS a plain-http page (or a sibling domain) could have set tdt_sso: only __Host- counts.
    expect(fake.callsOf("exchangeOidcCode").map((call) => (call.request as ExchangeOidcCodeRequest).binding)).toEqual([
      "hosted",
      "plain",
    ]);
  });
});
