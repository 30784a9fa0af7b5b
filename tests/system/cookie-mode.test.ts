/**
 * The refresh-token cookie mode end to end (docs/browser-apps.md): real services, the cookie
 * carried as a browser would (only to the path it is scoped to), and its CSRF refusals.
 */
import { type api, claimsOf } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let url: string;

beforeAll(async () => {
  running = await startSystemWithAdmin({ CORS_ORIGINS: "http://app.example.test" });
  ({ client } = running);
  url = running.system.url;
});

afterAll(async () => {
  await running?.stop();
});

const COOKIE_MODE = { "x-token-transport": "cookie" };

/** A browser's cookie jar, for one site: each cookie kept per path and sent only under it. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", value = ""] = pair.split("=");
      const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      const gone = attributes.some((a) => a.toLowerCase() === "max-age=0");
      if (gone) this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  headerFor(path: string): Record<string, string> {
    const sent = [...this.cookies.values()].filter((cookie) => path.startsWith(cookie.path));
    return sent.length === 0 ? {} : { cookie: sent.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ") };
  }

  valueAt(path: string): string | undefined {
    return [...this.cookies.values()].find((cookie) => cookie.path === path)?.value;
  }
}

/** A POST as a same-origin page in cookie mode would send it (fetch, credentials included). */
async function post(jar: CookieJar, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { ...jar.headerFor(path), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  jar.take(response);
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function loginByCookie(jar: CookieJar) {
  const account = await client.register();
  const login = await post(jar, "/api/v1/auth/login/json", {
    headers: { ...COOKIE_MODE, "content-type": "application/json" },
    body: JSON.stringify({ email: account.email, password: account.password }),
  });
  expect(login.status).toBe(200);
  return { account, access: login.body?.access_token as string, body: login.body };
}

const refresh = (jar: CookieJar, headers: Record<string, string> = COOKIE_MODE) =>
  post(jar, "/api/v1/auth/refresh", { headers });

describe("the cookie mode", () => {
  it("runs login → refresh → refresh → logout by cookie; the body never holds a refresh token", async () => {
    const jar = new CookieJar();
    const { access, body } = await loginByCookie(jar);
    expect(Object.keys(body ?? {}).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    const first = jar.valueAt("/api/v1/auth/refresh");
    expect(first).toBeTruthy();
    expect(jar.valueAt("/api/v1/auth/logout")).toBe(first);
    const sid = claimsOf(access).sid;

    const once = await refresh(jar);
    expect(once.status).toBe(200);
    expect(once.body?.refresh_token).toBeUndefined();
    const second = jar.valueAt("/api/v1/auth/refresh");
    expect(second).not.toBe(first);
    const twice = await refresh(jar);
    expect(twice.status).toBe(200);
    expect(jar.valueAt("/api/v1/auth/refresh")).not.toBe(second);
    const latestAccess = twice.body?.access_token as string;
    expect(claimsOf(latestAccess).sid).toBe(sid);
    expect((await client.call("GET", "/api/v1/auth/me", { token: latestAccess })).status).toBe(200);

    const consumed = jar.valueAt("/api/v1/auth/logout") as string;
    const logout = await post(jar, "/api/v1/auth/logout", {
      headers: { ...COOKIE_MODE, authorization: `Bearer ${latestAccess}` },
    });
    expect(logout.status).toBe(204);
    expect(jar.valueAt("/api/v1/auth/refresh")).toBeUndefined();
    expect(jar.valueAt("/api/v1/auth/logout")).toBeUndefined();
    // The cookie's token was consumed by the logout, and the login session is over.
    const replay = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: consumed } });
    expect(replay.status).toBe(401);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: latestAccess })).status, {
        timeout: 5000,
      })
      .toBe(401);
  });

  it("still detects reuse: a replayed cookie ends the login session, so the latest cookie dies too", async () => {
    const jar = new CookieJar();
    await loginByCookie(jar);
    const stolen = jar.valueAt("/api/v1/auth/refresh") as string;
    expect((await refresh(jar)).status).toBe(200);

    const thief = new CookieJar();
    const replay = await fetch(`${url}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { ...COOKIE_MODE, cookie: `tdt_refresh=${stolen}` },
    });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ detail: "invalid_refresh_token" });
    thief.take(replay);

    const owner = await refresh(jar);
    expect(owner.status).toBe(401);
    expect(owner.body).toEqual({ detail: "invalid_refresh_token" });
  });

  it("refuses the cookie without the header, and cookie mode from a foreign Origin, without consuming it", async () => {
    const jar = new CookieJar();
    await loginByCookie(jar);
    const before = jar.valueAt("/api/v1/auth/refresh");

    const noHeader = await refresh(jar, {});
    expect(noHeader).toEqual({ status: 403, body: { detail: "token_transport_header_required" } });
    const foreign = await refresh(jar, { ...COOKIE_MODE, origin: "http://attacker.example.test" });
    expect(foreign).toEqual({ status: 403, body: { detail: "origin_not_allowed" } });
    // A cross-site HTML form cannot send JSON or the header: its body is refused before anything.
    const form = await post(jar, "/api/v1/auth/refresh", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://attacker.example.test" },
      body: "refresh_token=x",
    });
    expect(form).toEqual({ status: 400, body: { detail: "unsupported_content_type" } });

    // Its own origin and a listed one pass; the token was untouched by the refusals.
    expect(jar.valueAt("/api/v1/auth/refresh")).toBe(before);
    expect((await refresh(jar, { ...COOKIE_MODE, origin: url })).status).toBe(200);
    expect((await refresh(jar, { ...COOKIE_MODE, origin: "http://app.example.test" })).status).toBe(200);
  });

  it("leaves the JSON mode unchanged", async () => {
    const { tokens } = await client.user();
    expect(Object.keys(tokens).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    const rotated = await client.call<Record<string, unknown>>("POST", "/api/v1/auth/refresh", {
      json: { refresh_token: tokens.refresh_token },
    });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    expect(rotated.headers.getSetCookie()).toEqual([]);
    const missing = await client.call("POST", "/api/v1/auth/refresh", { json: {} });
    expect(missing.status).toBe(422);
  });
});

describe("login as a browser's FormData sends it", () => {
  it("logs in by multipart, and refuses a file part", async () => {
    const account = await client.register();
    const form = new FormData();
    form.set("username", account.email);
    form.set("password", account.password);
    const response = await fetch(`${url}/api/v1/auth/login`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ token_type: "bearer", refresh_token: expect.any(String) });

    const withFile = new FormData();
    withFile.set("username", account.email);
    withFile.set("password", new Blob([account.password], { type: "text/plain" }), "password.txt");
    const refused = await fetch(`${url}/api/v1/auth/login`, { method: "POST", body: withFile });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ detail: "form_file_not_accepted" });
  });

  it("answers a body without a Content-Type with 400 unsupported_content_type", async () => {
    const account = await client.register();
    const blob = new Blob([JSON.stringify({ email: account.email, password: account.password })]);
    const response = await fetch(`${url}/api/v1/auth/login/json`, { method: "POST", body: blob });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "unsupported_content_type" });
  });
});
