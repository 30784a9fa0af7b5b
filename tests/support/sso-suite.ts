/**
 * Issue 14: single sign-on against a real OpenID Connect provider, run by two test files against
 * two shapes of provider (issue 24): oidc-provider on its defaults (the person's claims from
 * UserInfo) and one shaped like Keycloak's defaults (claims in the ID token, `sid`, back-channel
 * logout). The local issuer
 * (scripts/oidc-dev-issuer.ts, oidc-provider) runs on free ports; a browser made of plain HTTP
 * (oidc-browser.ts) goes authorize → the issuer's login and consent → callback → return_to with a
 * one-time code, which is exchanged through the gateway; then refresh, RP-initiated and
 * back-channel logout, and every failure the issue names.
 */
import { randomUUID } from "node:crypto";
import { claimsOf, type TokenPair } from "@tdt/test-support/api";
import type { connect } from "@tdt/test-support/database";
import { type EventLog, recordAuthEvents } from "@tdt/test-support/events";
import { HttpBrowser, signInAtIssuer, signOutAtIssuer } from "@tdt/test-support/oidc-browser";
import { freePort } from "@tdt/test-support/ports";
import { queryDatabase, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuer, type DevIssuerShape, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";

/** The whole single sign-on suite against issuers of this shape. */
export function ssoSuite(shape: DevIssuerShape): void {
  const RETURN_TO = "http://app.example.test/signed-in";
  const SECRET = "dev-client-secret-never-logged";
  const TRIALS = 5;

  let running: SystemWithAdmin;
  let gateway: string;
  let dev: DevIssuer;
  let strict: DevIssuer;
  let latePort: number;
  let late: DevIssuer | undefined;
  let events: EventLog;
  /** Every secret the tests saw travel: none may appear in any service's log. */
  const secrets = new Set<string>([SECRET]);

  const clientOf = (provider: string) => ({
    client_id: `tdt-${provider}`,
    client_secret: SECRET,
    redirect_uris: [`${gateway}/api/v1/auth/oidc/${provider}/callback`],
    post_logout_redirect_uris: [`${gateway}/`],
    backchannel_logout_uri: `${gateway}/api/v1/auth/oidc/${provider}/backchannel-logout`,
  });

  beforeAll(async () => {
    const [gatewayPort, devPort, strictPort, freeForLate] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    latePort = freeForLate;
    gateway = `http://127.0.0.1:${gatewayPort}`;
    dev = await startDevIssuer({ port: devPort, clients: [clientOf("dev")], shape });
    strict = await startDevIssuer({ port: strictPort, clients: [clientOf("strict")], shape });
    const provider = (id: string, issuer: string, extra: object = {}) => ({
      id,
      issuer,
      client_id: `tdt-${id}`,
      client_secret: SECRET,
      ...extra,
    });
    running = await startSystemWithAdmin({
      GATEWAY_PORT: String(gatewayPort),
      OIDC_RATE_LIMIT_PER_MINUTE: "1000000",
      PUBLIC_URL: gateway,
      OIDC_RETURN_ORIGINS: `${gateway},${new URL(RETURN_TO).origin}`,
      OIDC_PROVIDERS: JSON.stringify([
        provider("dev", dev.issuer, { name: "Dev issuer" }),
        provider("strict", strict.issuer, { allowed_domains: ["example.com"], default_role: "engineer" }),
        // Nothing listens there yet: auth starts anyway, and discovers it once it is up.
        provider("late", `http://127.0.0.1:${latePort}`),
      ]),
    });
    events = await recordAuthEvents(running.nats.as("gateway"));
  }, 120_000);

  afterAll(async () => {
    await events?.close();
    // The logs of the whole run: no secret, no 500.
    const lines = running ? running.system.logs.map(({ line }) => JSON.stringify(line)) : [];
    await running?.stop();
    await Promise.all([dev?.stop(), strict?.stop(), late?.stop()]);
    for (const secret of secrets) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(lines.filter((line) => line.includes('"status":500'))).toEqual([]);
  });

  const authorizeUrl = (provider: string, returnTo = RETURN_TO) =>
    `${gateway}/api/v1/auth/oidc/${provider}/authorize?return_to=${encodeURIComponent(returnTo)}`;
  const callbackPrefix = (provider: string) => `${gateway}/api/v1/auth/oidc/${provider}/callback`;

  /** Authorize through the gateway and sign in at the issuer: the callback URL the issuer sends the browser to. */
  async function toCallback(browser: HttpBrowser, login: string, provider = "dev"): Promise<URL> {
    const authorize = await browser.request(authorizeUrl(provider));
    expect(authorize.status).toBe(302);
    const location = authorize.headers.get("location") ?? "";
    secrets.add(new URL(location).searchParams.get("state") ?? "");
    const callback = await signInAtIssuer(browser, location, login, callbackPrefix(provider));
    secrets.add(callback.searchParams.get("code") ?? "");
    secrets.add(callback.searchParams.get("state") ?? "");
    return callback;
  }

  /** Where the callback sends the browser: return_to with `code` or `error`. */
  async function back(browser: HttpBrowser, callback: URL): Promise<URL> {
    const answer = await browser.request(callback);
    expect(answer.status, await answer.clone().text()).toBe(302);
    const location = new URL(answer.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(RETURN_TO);
    const code = location.searchParams.get("code");
    if (code) secrets.add(code);
    return location;
  }

  /** The page at return_to trades the code, from the browser that signed in (its binding cookie goes along). */
  async function exchange(browser: HttpBrowser, code: string, headers: Record<string, string> = {}) {
    const answer = await browser.request(`${gateway}/api/v1/auth/oidc/exchange`, { json: { code }, headers });
    return {
      status: answer.status,
      headers: answer.headers,
      body: (await answer.json()) as TokenPair & { detail?: string },
    };
  }

  /** A whole sign-in: the token pair, and the browser (signed in at the issuer too). */
  async function signIn(login: string, provider = "dev", browser = new HttpBrowser()) {
    const returned = await back(browser, await toCallback(browser, login, provider));
    const code = returned.searchParams.get("code");
    expect(code, returned.href).toBeTruthy();
    const tokens = await exchange(browser, code ?? "");
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    secrets.add(tokens.body.access_token);
    secrets.add(tokens.body.refresh_token);
    return { tokens: tokens.body, browser };
  }

  /** Signs in and expects to come back with this error code. */
  async function refusedSignIn(login: string, provider = "dev") {
    const browser = new HttpBrowser();
    return (await back(browser, await toCallback(browser, login, provider))).searchParams;
  }

  interface Me {
    id: string;
    email: string;
    role: string;
    has_password: boolean;
    linked_providers: Array<{ provider: string; email: string }>;
  }
  const me = (token: string) => running.client.call<Me & { detail?: string }>("GET", "/api/v1/auth/me", { token });
  const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const authDb = <T>(query: (sql: ReturnType<typeof connect>) => Promise<T>) =>
    queryDatabase(running.system.databases.auth.url, query);

  describe("single sign-on through the gateway", () => {
    it("lists the configured providers publicly", async () => {
      const listed = await running.client.call("GET", "/api/v1/auth/providers");
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        { id: "dev", name: "Dev issuer" },
        { id: "strict", name: "strict" },
        { id: "late", name: "late" },
      ]);
    });

    it("signs a new user in: authorize with PKCE, state and nonce, the issuer's login and consent, callback, exchange, refresh", async () => {
      const browser = new HttpBrowser();
      const authorize = await browser.request(authorizeUrl("dev"));
      expect(authorize.status).toBe(302);
      const toIssuer = new URL(authorize.headers.get("location") ?? "");
      expect(toIssuer.origin).toBe(dev.issuer);
      const params = Object.fromEntries(toIssuer.searchParams);
      expect(params).toMatchObject({
        client_id: "tdt-dev",
        response_type: "code",
        redirect_uri: callbackPrefix("dev"),
        scope: "openid email profile",
        code_challenge_method: "S256",
      });
      expect(params.state).toMatch(/^[\w-]{20,}$/);
      expect(params.nonce).toMatch(/^[\w-]{20,}$/);
      expect(params.code_challenge).toMatch(/^[\w-]{43}$/);
      const cookie = authorize.headers.getSetCookie().find((line) => line.startsWith("tdt_sso="));
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Path=\/api\/v1\/auth\/oidc/);

      const login = unique("ada");
      const callback = await signInAtIssuer(browser, toIssuer, login, callbackPrefix("dev"));
      secrets.add(callback.searchParams.get("code") ?? "");
      const returned = await back(browser, callback);
      // Only the one-time code travels back: no token in the URL.
      expect([...returned.searchParams.keys()]).toEqual(["code"]);
      const pair = await exchange(browser, returned.searchParams.get("code") ?? "");
      expect(pair.status).toBe(200);
      expect(pair.body.token_type).toBe("bearer");
      // The binding served its sign-in: the exchange clears it.
      expect(browser.cookieFor(`${gateway}/api/v1/auth/oidc/exchange`, "tdt_sso")).toBeUndefined();

      const account = await me(pair.body.access_token);
      expect(account.status).toBe(200);
      expect(account.body).toMatchObject({ email: login, role: "technician", has_password: false });
      expect(account.body.linked_providers).toEqual([{ provider: "dev", email: login, linked_at: expect.any(String) }]);
      // The login session follows the account's policy as a password login's does, and records its origin.
      const [session] = await authDb(
        (sql) => sql`
      select oidc_provider, oidc_sid, idle_max_seconds, abs_max_seconds from login_sessions
      where sid = ${String(claimsOf(pair.body.access_token).sid)}`,
      );
      expect(session).toMatchObject({ oidc_provider: "dev", idle_max_seconds: 259200, abs_max_seconds: 1209600 });
      expect(session?.oidc_sid).toEqual(expect.any(String));

      // No password yet: password login is refused like a wrong password.
      const byPassword = await running.client.call("POST", "/api/v1/auth/login/json", {
        json: { email: login, password: "any-password-at-all" },
      });
      expect(byPassword.status).toBe(401);
      expect(byPassword.body).toEqual({ detail: "invalid_credentials" });

      const refreshed = await running.client.call<TokenPair>("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: pair.body.refresh_token },
      });
      expect(refreshed.status).toBe(200);
      expect((await me(refreshed.body.access_token)).status).toBe(200);
      // Rotation and reuse as for any login: the old refresh token is spent.
      const reused = await running.client.call("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: pair.body.refresh_token },
      });
      expect(reused.status).toBe(401);
    });

    it("delivers the pair in cookie mode as login does", async () => {
      const browser = new HttpBrowser();
      const returned = await back(browser, await toCallback(browser, unique("cookie")));
      const pair = await exchange(browser, returned.searchParams.get("code") ?? "", { "x-token-transport": "cookie" });
      expect(pair.status).toBe(200);
      expect(pair.body.refresh_token).toBeUndefined();
    });

    it("ends the session when the provider signs the user out (back-channel logout): refused within a second", async () => {
      const { tokens, browser } = await signIn(unique("bea"));
      const sid = String(claimsOf(tokens.access_token).sid);
      expect((await running.client.call("GET", "/api/v1/trees", { token: tokens.access_token })).status).toBe(200);
      // The user signs out at the provider itself (another app's logout, say).
      const discovery = (await (await fetch(`${dev.issuer}/.well-known/openid-configuration`)).json()) as {
        end_session_endpoint: string;
      };
      await signOutAtIssuer(browser, `${discovery.end_session_endpoint}?client_id=tdt-dev`);
      await expect
        .poll(async () => (await running.client.call("GET", "/api/v1/trees", { token: tokens.access_token })).status, {
          timeout: 1000,
          interval: 50,
        })
        .toBe(401);
      const refresh = await running.client.call("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: tokens.refresh_token },
      });
      expect(refresh.status).toBe(401);
      await expect
        .poll(() =>
          events.events
            .filter((item) => "sid" in item.event && item.event.sid === sid)
            .map((item) => [item.subject, "reason" in item.event ? item.event.reason : ""]),
        )
        .toEqual([["auth.session.revoked", "sso_logout"]]);
    });

    it("answers the provider's end-session URL at logout for a session it started, and 204 for a password session", async () => {
      const { tokens, browser } = await signIn(unique("cy"));
      const loggedOut = await running.client.call<{ end_session_url: string }>("POST", "/api/v1/auth/logout", {
        token: tokens.access_token,
      });
      expect(loggedOut.status).toBe(200);
      const url = new URL(loggedOut.body.end_session_url);
      expect(url.origin).toBe(dev.issuer);
      expect(url.searchParams.get("client_id")).toBe("tdt-dev");
      expect(url.searchParams.get("post_logout_redirect_uri")).toBe(`${gateway}/`);
      expect((await me(tokens.access_token)).status).toBe(401);
      // The browser follows it: signed out at the provider, and back at the app.
      expect((await signOutAtIssuer(browser, url))?.href).toBe(`${gateway}/`);

      const user = await running.client.user("password-logout");
      const passwordLogout = await running.client.call("POST", "/api/v1/auth/logout", {
        token: user.tokens.access_token,
      });
      expect(passwordLogout.status).toBe(204);
    });

    it("finds the user by the provider's link the next time; links an existing user by email only through a provider that owns the domain", async () => {
      const login = unique("dee");
      const first = await signIn(login);
      const second = await signIn(login);
      expect(claimsOf(second.tokens.access_token).sub).toBe(claimsOf(first.tokens.access_token).sub);

      const registered = await running.client.register(unique("eli"));
      // A provider open to any domain does not get to claim an existing account by its email.
      expect(Object.fromEntries(await refusedSignIn(registered.email))).toEqual({
        error: "account_exists_link_required",
      });
      // Their /me, read and kept by the gateway before the link (once it follows the auth events,
      // a second read does not reach auth).
      const byPassword = await running.client.login(registered.email, registered.password);
      const getMeServed = () =>
        running.system.logs.filter(
          ({ service, line }) =>
            service === "auth" && line.msg === "rpc" && line.rpc === "/tdt.auth.v1.AuthService/GetMe",
        ).length;
      await expect
        .poll(async () => {
          expect((await me(byPassword.access_token)).body.linked_providers).toEqual([]);
          const before = getMeServed();
          await me(byPassword.access_token);
          return getMeServed() - before;
        })
        .toBe(0);
      // The provider restricted to example.com owns the (verified) address: it links.
      const linked = await signIn(registered.email, "strict");
      await expect
        .poll(async () => (await me(byPassword.access_token)).body.linked_providers.length, {
          timeout: 1000,
          interval: 50,
        })
        .toBe(1);
      expect(claimsOf(linked.tokens.access_token).sub).toBe(registered.id);
      const account = await me(linked.tokens.access_token);
      // The account keeps its role: the provider's default role is for the users it creates.
      expect(account.body).toMatchObject({ id: registered.id, has_password: true, role: "technician" });
      expect(account.body.linked_providers.map((link) => link.provider)).toEqual(["strict"]);
      // The password still works.
      await running.client.login(registered.email, registered.password);
      const links = await authDb(
        (sql) => sql`select count(*)::int as n from oidc_identities where user_id = ${registered.id}`,
      );
      expect(links).toEqual([{ n: 1 }]);
    });

    it("creates a user with the provider's default role, only for its allowed domains", async () => {
      const allowed = await signIn(unique("fay"), "strict");
      expect((await me(allowed.tokens.access_token)).body.role).toBe("engineer");
      const refused = await refusedSignIn(`gus-${randomUUID().slice(0, 8)}@other.test`, "strict");
      expect(Object.fromEntries(refused)).toEqual({ error: "domain_not_allowed" });
    });

    it("refuses an unverified email, a deactivated user and a provider's own refusal with a redirect and its code", async () => {
      expect(Object.fromEntries(await refusedSignIn(unique("hal+unverified")))).toEqual({
        error: "email_not_verified",
      });

      const login = unique("ivy");
      const { tokens } = await signIn(login);
      const id = String(claimsOf(tokens.access_token).sub);
      const deactivated = await running.client.call("PATCH", `/api/v1/auth/users/${id}`, {
        token: running.admin,
        json: { is_active: false },
      });
      expect(deactivated.status).toBe(200);
      expect(Object.fromEntries(await refusedSignIn(login))).toEqual({ error: "account_disabled" });

      // The provider sends the browser back with an error of its own (the user declined).
      const browser = new HttpBrowser();
      const authorize = await browser.request(authorizeUrl("dev"));
      const state = new URL(authorize.headers.get("location") ?? "").searchParams.get("state") ?? "";
      const declined = await back(
        browser,
        new URL(`${callbackPrefix("dev")}?error=access_denied&error_description=no&state=${state}`),
      );
      expect(Object.fromEntries(declined.searchParams)).toEqual({ error: "access_denied" });
    });

    it('takes email_verified as a yes only when true or "true", and says when the provider gives no email', async () => {
      const stringly = unique("sly+stringverified");
      const signedIn = await signIn(stringly);
      expect((await me(signedIn.tokens.access_token)).body).toMatchObject({ email: stringly });
      expect(Object.fromEntries(await refusedSignIn(unique("nia+noverified")))).toEqual({
        error: "email_not_verified",
      });
      expect(Object.fromEntries(await refusedSignIn(unique("noa+noemail")))).toEqual({ error: "email_missing" });
    });

    it("checks the iss response parameter the provider advertises (RFC 9207): a mixed-up or missing one is refused", async () => {
      const changes: Array<(url: URL) => void> = [
        (url) => url.searchParams.set("iss", "https://idp.evil.example"),
        (url) => url.searchParams.delete("iss"),
      ];
      for (const change of changes) {
        const browser = new HttpBrowser();
        const callback = await toCallback(browser, unique("mix"));
        expect(callback.searchParams.get("iss")).toBe(dev.issuer);
        const changed = new URL(callback);
        change(changed);
        expect(Object.fromEntries((await back(browser, changed)).searchParams)).toEqual({ error: "login_failed" });
      }
    });

    it("refuses a tampered code with login_failed, and a callback without its attempt with 400", async () => {
      const browser = new HttpBrowser();
      const callback = await toCallback(browser, unique("jo"));
      const tampered = new URL(callback);
      tampered.searchParams.set("code", "not-the-code");
      expect(Object.fromEntries((await back(browser, tampered)).searchParams)).toEqual({ error: "login_failed" });
      // The attempt was taken: the real callback now finds none.
      const again = await browser.request(callback);
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({ detail: "invalid_sso_state" });

      const unknownState = await browser.request(`${callbackPrefix("dev")}?code=x&state=${randomUUID()}`);
      expect(unknownState.status).toBe(400);
      const noState = await browser.request(`${callbackPrefix("dev")}?code=x`);
      expect(await noState.json()).toEqual({ detail: "invalid_sso_state" });
    });

    it("refuses a callback brought by another browser (login CSRF) without spending the attempt, and a replayed one", async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const victim = new HttpBrowser();
        const callback = await toCallback(victim, unique(`kim${trial}`));
        const stranger = await new HttpBrowser().request(callback);
        expect(stranger.status).toBe(400);
        expect(await stranger.json()).toEqual({ detail: "invalid_sso_state" });
        const returned = await back(victim, callback);
        expect(returned.searchParams.get("code")).toBeTruthy();
        const replayed = await victim.request(callback);
        expect(replayed.status).toBe(400);
      }
    });

    it("accepts return_to only on an allowed origin, and knows only configured providers", async () => {
      for (const returnTo of [
        "https://evil.example/steal",
        "javascript:alert(1)",
        "/relative",
        "http://app.example.test.evil.example/",
        "http://app.example.test:8080/",
        "https://app.example.test/",
      ]) {
        const answer = await running.client.call<{ detail: Array<{ loc: string[] }> }>(
          "GET",
          `/api/v1/auth/oidc/dev/authorize?return_to=${encodeURIComponent(returnTo)}`,
        );
        expect(answer.status, returnTo).toBe(422);
        expect(answer.body.detail.map((problem) => problem.loc)).toEqual([["query", "return_to"]]);
      }
      const userinfoTrick = await running.client.call(
        "GET",
        `/api/v1/auth/oidc/dev/authorize?return_to=${encodeURIComponent("http://user:pw@app.example.test/")}`,
      );
      expect(userinfoTrick.status).toBe(422);
      const missing = await running.client.call("GET", "/api/v1/auth/oidc/dev/authorize");
      expect(missing.status).toBe(422);
      const unknown = await running.client.call("GET", `/api/v1/auth/oidc/nowhere/authorize?return_to=${RETURN_TO}`);
      expect(unknown.status).toBe(404);
      const hostile = await running.client.call(
        "GET",
        `/api/v1/auth/oidc/${"x".repeat(300)}/authorize?return_to=${RETURN_TO}`,
      );
      expect(hostile.status).toBeGreaterThanOrEqual(400);
      expect(hostile.status).toBeLessThan(500);
    });

    it("trades a one-time code once: of racing exchanges exactly one wins, and an expired code is refused", async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const browser = new HttpBrowser();
        const code =
          (await back(browser, await toCallback(browser, unique(`lu${trial}`)))).searchParams.get("code") ?? "";
        const answers = await Promise.all(Array.from({ length: 10 }, () => exchange(browser, code)));
        const statuses = answers.map((answer) => answer.status).sort();
        expect(statuses).toEqual([200, ...Array(9).fill(401)]);
        expect(answers.filter((answer) => answer.status === 401).map((answer) => answer.body)).toEqual(
          Array(9).fill({ detail: "invalid_login_code" }),
        );
      }
      const browser = new HttpBrowser();
      const code = (await back(browser, await toCallback(browser, unique("max")))).searchParams.get("code") ?? "";
      await authDb(
        (sql) => sql`update oidc_login_codes set expires_at = now() - interval '1 second' where used_at is null`,
      );
      const expired = await exchange(browser, code);
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual({ detail: "invalid_login_code" });
    });

    it("makes one user and one link when the first sign-ins of an account race", async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const login = unique(`ned${trial}`);
        const browsers = Array.from({ length: 6 }, () => new HttpBrowser());
        const callbacks = await Promise.all(browsers.map((browser) => toCallback(browser, login)));
        const returned = await Promise.all(browsers.map((browser, index) => back(browser, callbacks[index] as URL)));
        expect(returned.map((url) => (url.searchParams.get("code") ? "code" : url.searchParams.get("error")))).toEqual(
          Array(6).fill("code"),
        );
        const rows = await authDb(
          (sql) => sql`
        select (select count(*)::int from users where lower(email) = lower(${login})) as users,
               (select count(*)::int from oidc_identities where lower(email) = lower(${login})) as links`,
        );
        expect(rows).toEqual([{ users: 1, links: 1 }]);
      }
    });

    it("lets an admin unlink a provider: the sessions it started end, and a technician may not", async () => {
      const login = unique("oz");
      const { tokens } = await signIn(login);
      const id = String(claimsOf(tokens.access_token).sub);
      const byTechnician = await running.client.call("DELETE", `/api/v1/auth/users/${id}/providers/dev`, {
        token: tokens.access_token,
      });
      expect(byTechnician.status).toBe(403);
      // Its only way in: unlinking it would lock the account out.
      const lockout = await running.client.call("DELETE", `/api/v1/auth/users/${id}/providers/dev`, {
        token: running.admin,
      });
      expect(lockout.status).toBe(409);
      expect(lockout.body).toEqual({ detail: "last_sign_in_method" });
      const password = await running.client.call("POST", "/api/v1/auth/me/password", {
        token: tokens.access_token,
        json: { new_password: "a-first-password" },
      });
      expect(password.status).toBe(204);
      const unlinked = await running.client.call("DELETE", `/api/v1/auth/users/${id}/providers/dev`, {
        token: running.admin,
      });
      expect(unlinked.status).toBe(204);
      expect((await me(tokens.access_token)).status).toBe(401);
      const refresh = await running.client.call("POST", "/api/v1/auth/refresh", {
        json: { refresh_token: tokens.refresh_token },
      });
      expect(refresh.status).toBe(401);
      const twice = await running.client.call("DELETE", `/api/v1/auth/users/${id}/providers/dev`, {
        token: running.admin,
      });
      expect(twice.status).toBe(404);
      // Signing in again does not link again by the email: the provider owns no domain.
      expect(Object.fromEntries(await refusedSignIn(login))).toEqual({ error: "account_exists_link_required" });
      await running.client.login(login, "a-first-password");
    });

    it("lets a user made by single sign-on set a first password soon after signing in, and then log in with it", async () => {
      const login = unique("pia");
      const { tokens } = await signIn(login);
      const set = await running.client.call("POST", "/api/v1/auth/me/password", {
        token: tokens.access_token,
        json: { new_password: "a-first-password" },
      });
      expect(set.status).toBe(204);
      expect((await me(tokens.access_token)).body.has_password).toBe(true);
      await running.client.login(login, "a-first-password");
      const withoutCurrent = await running.client.call("POST", "/api/v1/auth/me/password", {
        token: tokens.access_token,
        json: { new_password: "another-password" },
      });
      expect(withoutCurrent.status).toBe(403);
      expect(withoutCurrent.body).toEqual({ detail: "wrong_password" });

      // Long after signing in, a first password needs a fresh sign-in.
      const later = await signIn(unique("quin"));
      await authDb(
        (sql) => sql`update login_sessions set auth_time = auth_time - interval '11 minutes'
                   where sid = ${String(claimsOf(later.tokens.access_token).sid)}`,
      );
      const stale = await running.client.call("POST", "/api/v1/auth/me/password", {
        token: later.tokens.access_token,
        json: { new_password: "a-first-password" },
      });
      expect(stale.status).toBe(403);
      expect(stale.body).toEqual({ detail: "reauthentication_required" });
    });

    it("discovers a provider that was away at start once it is up", async () => {
      const away = await running.client.call("GET", `/api/v1/auth/oidc/late/authorize?return_to=${RETURN_TO}`);
      expect(away.status).toBe(503);
      expect(away.body).toEqual({ detail: "sso_provider_unavailable" });
      late = await startDevIssuer({ port: latePort, clients: [clientOf("late")], shape });
      await expect
        .poll(
          async () =>
            (await new HttpBrowser().request(`${gateway}/api/v1/auth/oidc/late/authorize?return_to=${RETURN_TO}`))
              .status,
          { timeout: 10_000, interval: 250 },
        )
        .toBe(302);
      await signIn(unique("rex"), "late");

      // The provider restarts while a browser is at it (new keys, its codes forgotten): that sign-in
      // comes back refused, not a 500, and the next one works against what is discovered again.
      for (let trial = 0; trial < 3; trial++) {
        const browser = new HttpBrowser();
        const callback = await toCallback(browser, unique(`sue${trial}`), "late");
        await late.stop();
        late = await startDevIssuer({ port: latePort, clients: [clientOf("late")], shape });
        expect(Object.fromEntries((await back(browser, callback)).searchParams)).toEqual({ error: "login_failed" });
        await signIn(unique(`tom${trial}`), "late");
      }
    });
  });

  describe("back-channel logout tokens", () => {
    const logoutUrl = "/api/v1/auth/oidc/dev/backchannel-logout";
    const post = (logout_token: string, provider = "dev") =>
      running.client.call("POST", `/api/v1/auth/oidc/${provider}/backchannel-logout`, { form: { logout_token } });

    /** A logout token signed with `key` (default: the issuer's own), with these claims over the usual ones. */
    async function logoutToken(claims: Record<string, unknown>, key?: { jwk: JWK } | { other: true }) {
      const signing =
        key && "other" in key
          ? (await generateKeyPair("RS256")).privateKey
          : await importJWK(key?.jwk ?? dev.signingKey, "RS256");
      const base = {
        iss: dev.issuer,
        aud: "tdt-dev",
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      };
      const payload = Object.fromEntries(
        Object.entries({ ...base, ...claims }).filter(([, value]) => value !== undefined),
      );
      return new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", typ: "logout+jwt", kid: dev.signingKey.kid as string })
        .sign(signing);
    }

    async function providerSession() {
      const { tokens } = await signIn(unique("sam"));
      const sid = String(claimsOf(tokens.access_token).sid);
      const [row] = await authDb((sql) => sql`select oidc_sid from login_sessions where sid = ${sid}`);
      return { tokens, sid, providerSid: String(row?.oidc_sid) };
    }

    it("ends the session a valid token names by sid, once: a replay is 400", async () => {
      const { tokens, providerSid } = await providerSession();
      const token = await logoutToken({ sid: providerSid });
      const ended = await post(token);
      expect(ended.status).toBe(200);
      expect(ended.headers.get("cache-control")).toBe("no-store");
      expect((await me(tokens.access_token)).status).toBe(401);
      const replay = await post(token);
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual({ detail: "invalid_logout_token" });
    });

    it("ends every session of the account a token names by sub alone", async () => {
      const login = unique("tia");
      const first = await signIn(login);
      const second = await signIn(login);
      const sub = await authDb(
        (sql) =>
          sql`select subject from oidc_identities where user_id = ${String(claimsOf(first.tokens.access_token).sub)}`,
      );
      const ended = await post(await logoutToken({ sub: sub[0]?.subject }));
      expect(ended.status).toBe(200);
      expect((await me(first.tokens.access_token)).status).toBe(401);
      expect((await me(second.tokens.access_token)).status).toBe(401);
    });

    it("refuses forged, misaddressed or malformed tokens with 400 and ends nothing", async () => {
      const { tokens, providerSid } = await providerSession();
      const sid = { sid: providerSid };
      const refused = [
        await logoutToken(sid, { other: true }),
        await logoutToken({ ...sid, aud: "someone-else" }),
        await logoutToken({ ...sid, iss: "https://issuer.example" }),
        await logoutToken({ ...sid, nonce: "n" }),
        await logoutToken({ ...sid, events: undefined }),
        await logoutToken({ ...sid, events: { "http://schemas.openid.net/event/backchannel-logout": "yes" } }),
        await logoutToken({ sid: undefined }),
        await logoutToken({ ...sid, iat: Math.floor(Date.now() / 1000) - 3600 }),
        await logoutToken({ ...sid, jti: undefined }),
        "not.a.jwt",
        "",
      ];
      for (const token of refused) {
        const answer = await post(token);
        expect(answer.status, token).toBeGreaterThanOrEqual(400);
        expect(answer.status, token).toBeLessThan(500);
      }
      expect((await post(refused[0] as string)).body).toEqual({ detail: "invalid_logout_token" });
      const huge = await post("x".repeat(20_000));
      expect(huge.status).toBe(422);
      const unknownProvider = await post(await logoutToken(sid), "nowhere");
      expect(unknownProvider.status).toBe(404);
      const json = await running.client.call("POST", logoutUrl, { json: { logout_token: "x" } });
      expect(json.status).toBe(400);
      expect((await me(tokens.access_token)).status).toBe(200);
    });
  });
}
