/**
 * A real page on another origin runs a whole session through the gateway in headless Chromium:
 * plain fetch, credentials "include", the refresh token in the cookie mode. The app's origin is
 * http://127.0.0.1:<app port>, the gateway's http://127.0.0.1:<gateway port>: other origins of
 * the same site, as an app at app.example.com and an API at api.example.com would be (a
 * SameSite=Strict cookie is never sent across sites). And the negatives: a page on an unlisted
 * origin reads nothing, and a cross-site form cannot refresh.
 */
import { createServer, type Server } from "node:http";
import { launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { freePort } from "@tdt/test-support/ports";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let browser: TestBrowser;
const servers: Server[] = [];
let api: string;
let appOrigin: string;
let foreignOrigin: string;
let crossSiteOrigin: string;

/** A tiny static server: one HTML page at every path. */
async function servePage(html: string): Promise<number> {
  const port = await freePort();
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return port;
}

beforeAll(async () => {
  const blank = "<!doctype html><title>app</title><body>app</body>";
  const [appPort, foreignPort] = [await servePage(blank), await servePage(blank)];
  appOrigin = `http://127.0.0.1:${appPort}`;
  foreignOrigin = `http://127.0.0.1:${foreignPort}`;
  running = await startSystemWithAdmin({ CORS_ORIGINS: appOrigin });
  api = running.system.url;
  // Another site (evil.test) whose page posts a form to the gateway's refresh route.
  const formPort = await servePage(
    `<!doctype html><form method="post" action="${api}/api/v1/auth/refresh">` +
      `<input name="refresh_token" value="x"></form><script>document.forms[0].submit()</script>`,
  );
  crossSiteOrigin = `http://evil.test:${formPort}`;
  browser = await launchBrowser({ args: ["--host-resolver-rules=MAP evil.test 127.0.0.1"] });

  const engineer = await running.client.engineer(running.admin);
  const created = await running.client.call("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  for (const server of servers) server.close();
});

async function pageAt(origin: string, context?: Awaited<ReturnType<TestBrowser["context"]>>): Promise<Page> {
  const page = await (context ?? (await browser.context())).newPage();
  await page.goto(origin);
  return page;
}

describe("a page on a listed origin", () => {
  it("runs a whole session: login, refresh, search, start, answer, back, complete, export, PATCH, DELETE, logout", async () => {
    const technician = await running.client.register();
    // A second login session of the technician's, for the page to revoke with DELETE.
    await running.client.login(technician.email, technician.password);
    const target = await running.client.register();
    const page = await pageAt(appOrigin);

    const results = await page.evaluate(
      async ({ api, technician, admin, targetId }) => {
        const out: Record<string, unknown> = {};
        const cookieMode = { "x-token-transport": "cookie" };
        let access = "";
        const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
          const response = await fetch(`${api}${path}`, {
            method,
            credentials: "include",
            headers: {
              ...(access ? { authorization: `Bearer ${access}` } : {}),
              ...(body === undefined ? {} : { "content-type": "application/json" }),
              ...headers,
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const text = await response.text();
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {}
          return {
            status: response.status,
            body: json as Record<string, unknown> & unknown[],
            headers: response.headers,
          };
        };

        const login = await call("POST", "/api/v1/auth/login/json", technician, cookieMode);
        access = login.body.access_token as string;
        out.login = { status: login.status, keys: Object.keys(login.body).sort() };
        const refreshed = await call("POST", "/api/v1/auth/refresh", undefined, cookieMode);
        access = refreshed.body.access_token as string;
        out.refresh = { status: refreshed.status, hasRefreshToken: "refresh_token" in refreshed.body };
        const search = await call("GET", "/api/v1/trees/search?q=printer");
        out.search = {
          status: search.status,
          titles: (search.body as Array<{ title: string }>).map((tree) => tree.title),
        };
        const treeId = (search.body[0] as { id: string }).id;
        const started = await call("POST", "/api/v1/sessions", { tree_id: treeId });
        const id = started.body.id as string;
        out.start = { status: started.status, node: (started.body.current_node as { id: string }).id };
        const answered = await call("PUT", `/api/v1/sessions/${id}`, {
          op: "answer",
          node_id: "power",
          option_id: "yes",
        });
        out.answer = { status: answered.status, node: (answered.body.current_node as { id: string }).id };
        const back = await call("PUT", `/api/v1/sessions/${id}`, { op: "back" });
        out.back = { status: back.status, node: (back.body.current_node as { id: string }).id };
        await call("PUT", `/api/v1/sessions/${id}`, { op: "answer", node_id: "power", option_id: "yes" });
        const solved = await call("PUT", `/api/v1/sessions/${id}`, {
          op: "answer",
          node_id: "paper",
          option_id: "yes",
        });
        out.solved = (solved.body.current_node as { id: string }).id;
        const completed = await call("POST", `/api/v1/sessions/${id}/complete`);
        out.complete = { status: completed.status, state: completed.body.status, outcome: completed.body.outcome };
        const exported = await call("POST", `/api/v1/sessions/${id}/export?format=markdown`);
        out.export = {
          status: exported.status,
          disposition: exported.headers.get("content-disposition"),
          mentionsTree: String(exported.body).includes("Printer does not print"),
        };
        const sessions = await call("GET", "/api/v1/auth/sessions");
        const other = (sessions.body as Array<{ sid: string; current: boolean }>).find((entry) => !entry.current);
        const revoked = other ? await call("DELETE", `/api/v1/auth/sessions/${other.sid}`) : { status: 0 };
        out.delete = { status: revoked.status };
        const afterDelete = await call("GET", "/api/v1/auth/sessions");
        out.sessionsLeft = (afterDelete.body as unknown[]).length;
        const logout = await call("POST", "/api/v1/auth/logout", undefined, cookieMode);
        out.logout = { status: logout.status };
        const deadRefresh = await call("POST", "/api/v1/auth/refresh", undefined, cookieMode);
        out.refreshAfterLogout = { status: deadRefresh.status, detail: deadRefresh.body.detail };

        // An admin on the same page: PATCH a user's role.
        access = "";
        const adminLogin = await call("POST", "/api/v1/auth/login/json", admin, cookieMode);
        access = adminLogin.body.access_token as string;
        const patched = await call("PATCH", `/api/v1/auth/users/${targetId}`, { role: "engineer" });
        out.patch = { status: patched.status, role: patched.body.role };
        return out;
      },
      {
        api,
        technician: { email: technician.email, password: technician.password },
        admin: { email: ADMIN.email, password: ADMIN.password },
        targetId: target.id,
      },
    );
    await browser.screenshot(page, "cross-origin-app");

    expect(results).toEqual({
      login: { status: 200, keys: ["access_token", "expires_in", "token_type"] },
      refresh: { status: 200, hasRefreshToken: false },
      search: { status: 200, titles: ["Printer does not print"] },
      start: { status: 201, node: "power" },
      answer: { status: 200, node: "paper" },
      back: { status: 200, node: "power" },
      solved: "toner",
      complete: { status: 200, state: "completed", outcome: "resolved" },
      export: { status: 200, disposition: expect.stringContaining("attachment"), mentionsTree: true },
      delete: { status: 204 },
      sessionsLeft: 1,
      logout: { status: 204 },
      refreshAfterLogout: { status: 401, detail: "invalid_refresh_token" },
      patch: { status: 200, role: "engineer" },
    });
  });
});

describe("the negatives", () => {
  it("a page on an unlisted origin cannot read any answer", async () => {
    const technician = await running.client.register();
    const page = await pageAt(foreignOrigin);
    const results = await page.evaluate(
      async ({ api, technician }) => {
        const attempt = async (init: RequestInit & { path: string }) => {
          try {
            const response = await fetch(`${api}${init.path}`, { credentials: "include", ...init });
            return `read ${response.status}`;
          } catch (error) {
            return `blocked: ${(error as Error).name}`;
          }
        };
        return [
          await attempt({ path: "/health", method: "GET" }),
          await attempt({
            path: "/api/v1/auth/login/json",
            method: "POST",
            headers: { "content-type": "application/json", "x-token-transport": "cookie" },
            body: JSON.stringify(technician),
          }),
          await attempt({ path: "/api/v1/trees", method: "GET", headers: { authorization: "Bearer x" } }),
        ];
      },
      { api, technician: { email: technician.email, password: technician.password } },
    );
    expect(results).toEqual(["blocked: TypeError", "blocked: TypeError", "blocked: TypeError"]);
  });

  it("a cross-site form POST to /auth/refresh does not refresh, and the app's cookie still works", async () => {
    const technician = await running.client.register();
    const context = await browser.context();
    const app = await pageAt(appOrigin, context);
    const login = await app.evaluate(
      async ({ api, technician }) =>
        (
          await fetch(`${api}/api/v1/auth/login/json`, {
            method: "POST",
            credentials: "include",
            headers: { "content-type": "application/json", "x-token-transport": "cookie" },
            body: JSON.stringify(technician),
          })
        ).status,
      { api, technician: { email: technician.email, password: technician.password } },
    );
    expect(login).toBe(200);

    // The attacker's page submits its form; the browser lands on the gateway's answer.
    const attacker = await context.newPage();
    const answer = attacker.waitForResponse((response) => response.url().endsWith("/api/v1/auth/refresh"));
    await attacker.goto(crossSiteOrigin);
    const response = await answer;
    expect(response.status()).toBe(400);
    expect(await response.json()).toEqual({ detail: "unsupported_content_type" });
    expect(response.headers()["set-cookie"]).toBeUndefined();
    expect(response.request().headers().cookie).toBeUndefined();

    // The app's refresh token was neither sent nor consumed: the app refreshes as usual.
    const refresh = await app.evaluate(
      async ({ api }) =>
        (
          await fetch(`${api}/api/v1/auth/refresh`, {
            method: "POST",
            credentials: "include",
            headers: { "x-token-transport": "cookie" },
          })
        ).status,
      { api },
    );
    expect(refresh).toBe(200);
  });
});
