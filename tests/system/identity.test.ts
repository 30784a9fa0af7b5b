/**
 * Issue 23, "Identity is proven, never asserted": each attack the issue tells, run end to end
 * through the gateway against the real services, a real SMTP server and real OpenID providers
 * (local dev issuers, one per provider), and shown closed. Each test says what the code before
 * the issue did instead. The system runs REGISTRATION=open, the worst case for pre-hijacking:
 * an address anyone registers can sign in at once. identity-mail.test.ts holds the mail flows.
 *
 * Providers: `dev` has no allowed_domains (any verified email); `corp` owns corp.example; `home`
 * owns example.com, the domain of the first admin (tests/support/system.ts ADMIN).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { claimsOf, type TokenPair } from "@tdt/test-support/api";
import { type EventLog, recordAuthEvents } from "@tdt/test-support/events";
import { CLIENT_SECRET, type SystemWithProviders, startSystemWithProviders } from "@tdt/test-support/identity-system";
import { secretsInLogs, serverErrorsInLogs } from "@tdt/test-support/log-secrets";
import { mailLinks } from "@tdt/test-support/mail-links";
import { HttpBrowser } from "@tdt/test-support/oidc-browser";
import { BINDING_COOKIE, type SsoJourney, ssoJourney } from "@tdt/test-support/sso-journey";
import { ADMIN, queryDatabase } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TRIALS = 6;
const RUN = randomUUID().slice(0, 8);
const CLI = fileURLToPath(new URL("../../services/auth/dist/cli.js", import.meta.url));

let system: SystemWithProviders;
let gateway: string;
let journey: SsoJourney;
let mail: ReturnType<typeof mailLinks>;
let events: EventLog;

beforeAll(async () => {
  system = await startSystemWithProviders(
    [
      { id: "dev" },
      { id: "corp", allowed_domains: ["corp.example"] },
      { id: "home", allowed_domains: ["example.com"] },
    ],
    { REGISTRATION: "open" },
  );
  gateway = system.gateway;
  journey = ssoJourney(gateway);
  journey.keep(CLIENT_SECRET);
  journey.keep(system.running.admin);
  const mailbox = system.running.system.mailbox;
  if (!mailbox) throw new Error("the system has no mailbox");
  mail = mailLinks(mailbox, journey.secrets);
  events = await recordAuthEvents(system.running.nats.as("gateway"));
}, 120_000);

afterAll(async () => {
  await events?.close();
  const logs = system ? system.running.system.logs : [];
  await system?.stop();
  // Shutdown lines included: still no secret, and no 500.
  expect(secretsInLogs(logs, journey?.secrets ?? [])).toEqual([]);
  expect(serverErrorsInLogs(logs)).toEqual([]);
});

interface Me {
  id: string;
  email: string;
  role: string;
  email_verified: boolean;
  has_password: boolean;
  linked_providers: Array<{ provider: string; email: string }>;
}

const call = <T = unknown>(...args: Parameters<SystemWithProviders["running"]["client"]["call"]>) =>
  system.running.client.call<T>(...args);
const me = (token: string) => call<Me & { detail?: string }>("GET", "/api/v1/auth/me", { token });
const authDb = <T>(query: Parameters<typeof queryDatabase<T>>[1]) =>
  queryDatabase(system.running.system.databases.auth.url, query);
const linksOf = (userId: string) =>
  authDb(
    (sql) => sql<{ provider_id: string }[]>`select provider_id from oidc_identities where user_id = ${userId}`,
  ).then((rows) => rows.map((row) => row.provider_id).sort());
const loginJson = (email: string, password: string) =>
  call<TokenPair & { detail?: string }>("POST", "/api/v1/auth/login/json", { json: { email, password } });
async function login(email: string, password: string): Promise<TokenPair> {
  const answer = await loginJson(email, password);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  journey.keep(answer.body.access_token);
  journey.keep(answer.body.refresh_token);
  return answer.body;
}
const subOf = (tokens: TokenPair) => String(claimsOf(tokens.access_token).sub);
const sidOf = (tokens: TokenPair) => String(claimsOf(tokens.access_token).sid);
const revocations = (sids: string[]) =>
  events.events
    .filter((item) => item.subject === "auth.session.revoked" && "sid" in item.event && sids.includes(item.event.sid))
    .map((item) => ("reason" in item.event ? item.event.reason : ""));
/** Waits until the token is refused everywhere the gateway checks it. */
const refusedWithin = (token: string, timeout: number) =>
  expect.poll(async () => (await me(token)).status, { timeout, interval: 50 }).toBe(401);

/** Registers under REGISTRATION=open (the account may sign in at once): 202 as for any address. */
async function registerOpen(email: string, password: string) {
  const answer = await call("POST", "/api/v1/auth/register", { json: { email, password, full_name: "Someone" } });
  expect(answer).toMatchObject({ status: 202, body: { detail: "verification_sent" } });
}

/** An account made by an admin's invitation: the accepted mail proves its address. */
async function invited(email: string, role: string, password = "invited-password-1") {
  const since = Date.now();
  const invite = await call("POST", "/api/v1/auth/invites", { token: system.running.admin, json: { email, role } });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const { token } = await mail.tokenFrom(email, { since, subject: /invited/i, page: "accept-invite" });
  const accepted = await call<{ id: string }>("POST", "/api/v1/auth/invites/accept", {
    json: { token, password, full_name: "Invited" },
  });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
  return { id: accepted.body.id, password };
}

describe("issue 23: identity is proven, never asserted (REGISTRATION=open)", () => {
  it("pre-hijacking: an address registered by an attacker never receives its owner's single sign-on, and a reset by mail throws the attacker out", async () => {
    // Before issue 23, the victim's first sign-in with a verified email was linked to whatever
    // account had that email: the attacker's pre-registered account, with the attacker's password
    // still working beside the victim's provider (and there was no reset by mail to take it back).
    const victim = `victim-${RUN}@corp.example`;
    const attackerPassword = "attacker-password-1";
    await registerOpen(victim, attackerPassword);
    const attacker = [await login(victim, attackerPassword), await login(victim, attackerPassword)];
    const accountId = subOf(attacker[0] as TokenPair);
    expect((await me(attacker[0]?.access_token ?? "")).body).toMatchObject({ email: victim, email_verified: false });

    // The victim's first sign-in: at a provider open to any domain, and at one that owns corp.example
    // (whose trust rule still needs the account's address proven, and it is not).
    for (const provider of ["dev", "corp"]) {
      expect((await journey.attempt(` ${victim.toUpperCase()} `, provider)).params, provider).toEqual({
        error: "account_exists_link_required",
      });
    }
    expect(await linksOf(accountId)).toEqual([]);
    for (const tokens of attacker) {
      expect((await me(tokens.access_token)).body).toMatchObject({ id: accountId, linked_providers: [] });
    }

    // Recovery: the victim asks for a reset; the mail reaches only them.
    const since = Date.now();
    const forgot = await call("POST", "/api/v1/auth/password/forgot", { json: { email: victim } });
    expect(forgot).toMatchObject({ status: 202, body: { detail: "reset_sent" } });
    const { token } = await mail.tokenFrom(victim, { since, subject: /reset/i, page: "reset-password" });
    const victimPassword = "victims-own-password";
    const reset = await call("POST", "/api/v1/auth/password/reset", { json: { token, password: victimPassword } });
    expect(reset.status, JSON.stringify(reset.body)).toBe(204);
    for (const tokens of attacker) {
      await refusedWithin(tokens.access_token, 1000);
      const refresh = await call("POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } });
      expect(refresh.status).toBe(401);
    }
    await expect.poll(() => revocations(attacker.map(sidOf))).toEqual(["password_reset", "password_reset"]);
    expect(await loginJson(victim, attackerPassword)).toMatchObject({
      status: 401,
      body: { detail: "invalid_credentials" },
    });

    // The victim, signed in, links the provider; from then on it signs them in to this account.
    const own = await login(victim, victimPassword);
    expect((await me(own.access_token)).body).toMatchObject({ id: accountId, email_verified: true });
    const browser = new HttpBrowser();
    expect((await journey.link(browser, own.access_token, "dev", victim)).params).toEqual({ linked: "dev" });
    expect(await linksOf(accountId)).toEqual(["dev"]);
    expect(subOf((await journey.signIn(victim, "dev", browser)).tokens)).toBe(accountId);
    // The reset proved the address: the provider that owns corp.example now links by email.
    expect(subOf((await journey.signIn(victim, "corp")).tokens)).toBe(accountId);
    expect(await linksOf(accountId)).toEqual(["corp", "dev"]);
  });

  it("pre-hijacking through a provider that owns no domain: the account it made has no proven address, so the domain's own provider does not link by email", async () => {
    // Before issue 23 the corp sign-in below was linked to the account by its email alone. Now the
    // trust rule needs the account's address proven; a provider restricted to no domain may say
    // email_verified for any address (this attacker's provider says it for corp.example), so its
    // word may make an account but proves nothing (migration 0006: proven is "a provider that owns
    // the domain vouched for it").
    const prey = `prey-${RUN}@corp.example`;
    const attacker = await journey.signIn(prey, "dev");
    const accountId = subOf(attacker.tokens);
    expect((await journey.attempt(prey, "corp")).params).toEqual({ error: "account_exists_link_required" });
    expect(await linksOf(accountId)).toEqual(["dev"]);
    expect((await me(attacker.tokens.access_token)).body).toMatchObject({ email: prey, email_verified: false });
  });

  it("pre-hijacking through a provider that owns no domain: a reset by mail evicts the provider link whoever held the address made", async () => {
    // resetPassword's own rule (accounts.ts): "whoever knew the old password, or pre-registered the
    // address, is out". An attacker who pre-registered the address by a provider that owns no
    // domain kept the link: their next sign-in there landed in the account the victim had reset.
    const prey = `prey2-${RUN}@corp.example`;
    const attacker = await journey.signIn(prey, "dev");
    const accountId = subOf(attacker.tokens);
    const since = Date.now();
    await call("POST", "/api/v1/auth/password/forgot", { json: { email: prey } });
    const { token } = await mail.tokenFrom(prey, { since, subject: /reset/i, page: "reset-password" });
    expect(
      (await call("POST", "/api/v1/auth/password/reset", { json: { token, password: "prey-own-password" } })).status,
    ).toBe(204);
    await refusedWithin(attacker.tokens.access_token, 1000);
    const victim = await login(prey, "prey-own-password");
    expect(subOf(victim)).toBe(accountId);
    const again = await journey.attempt(prey, "dev");
    expect(again.params).toEqual({ error: "account_exists_link_required" });
    expect(await linksOf(accountId)).toEqual([]);
  });

  it("takeover by assertion: a provider's word for an admin's address (any spelling) signs no one in to the admin", async () => {
    // Before issue 23, a sign-in whose provider said email_verified for " ADMIN@example.com " was
    // linked to the admin (trimmed, compared case-blind) and handed admin tokens: whoever could
    // make an account with that address at any configured provider became admin.
    const adminId = subOf(await login(ADMIN.email, ADMIN.password));
    // A second admin whose address is proven (invitations prove it), so that only the admin rule refuses it.
    const boss = `boss-${RUN}@example.com`;
    const bossId = (await invited(boss, "admin")).id;
    expect((await me((await login(boss, "invited-password-1")).access_token)).body).toMatchObject({
      role: "admin",
      email_verified: true,
    });
    const outcomes: string[] = [];
    for (const [login, userId] of [
      [` ${ADMIN.email.toUpperCase()} `, adminId],
      [`\t${boss.toUpperCase()}`, bossId],
    ] as const) {
      for (const provider of ["dev", "home"]) {
        const { params } = await journey.attempt(login, provider);
        outcomes.push(`${provider} ${params.error ?? (params.code ? "code" : "?")}`);
        expect(await linksOf(userId)).toEqual([]);
      }
    }
    expect(outcomes).toEqual([
      "dev account_exists_link_required",
      "home account_exists_link_required",
      "dev account_exists_link_required",
      "home account_exists_link_required",
    ]);

    // An admin of another organization (a technician in this one) is an admin too: never linked by email.
    const orgBoss = `orgboss-${RUN}@example.com`;
    const orgBossId = (await invited(orgBoss, "technician")).id;
    await authDb(
      (sql) => sql`
        with org as (insert into organizations (name, slug) values ('Boss org', ${`boss-${RUN}`}) returning id)
        insert into memberships (org_id, user_id, role) select id, ${orgBossId}, 'admin' from org`,
    );
    expect((await journey.attempt(orgBoss, "home")).params).toEqual({ error: "account_exists_link_required" });
    expect(await linksOf(orgBossId)).toEqual([]);

    // The control: `home` does link a proven non-admin address of its domain by email (any spelling).
    const tech = `tech-${RUN}@example.com`;
    const techId = (await invited(tech, "technician")).id;
    expect(subOf((await journey.signIn(`  ${tech.toUpperCase()}`, "home")).tokens)).toBe(techId);
    // And `dev`, owning no domain, does not, even for that proven address.
    const other = await journey.attempt(tech, "dev");
    expect(other.params).toEqual({ error: "account_exists_link_required" });

    // One address, one account: a decomposed spelling (NFD) of an address that has an account is that
    // address. Before issue 23 it was compared byte for byte and made a second, look-alike account.
    const composed = `zoë-${RUN}@example.com`.normalize("NFC");
    const zoe = await journey.signIn(composed, "home");
    expect((await journey.attempt(composed.normalize("NFD"), "dev")).params).toEqual({
      error: "account_exists_link_required",
    });
    const accounts = await authDb(
      (sql) => sql`select id from users where lower(normalize(email, NFC)) = ${composed.toLowerCase()}`,
    );
    expect(accounts.map((row) => row.id)).toEqual([subOf(zoe.tokens)]);
  });

  it("login CSRF: the attacker's one-time code is refused in the victim's browser (with or without a binding of its own), and stays the attacker's", async () => {
    // Before issue 23 a one-time code was good in any browser: the attacker sent the victim to
    // return_to?code=<the attacker's code>, the page exchanged it, and the victim worked signed in
    // as the attacker (their notes and reports landing in the attacker's account).
    const tally: Record<string, number> = {};
    const count = (key: string) => {
      tally[key] = (tally[key] ?? 0) + 1;
    };
    for (let trial = 0; trial < TRIALS; trial++) {
      const attacker = new HttpBrowser();
      const { params } = await journey.attempt(`mallory-${RUN}-${trial}@evil.example`, "dev", attacker);
      const code = params.code ?? "";
      const victim = new HttpBrowser();
      // Half the victims have started a sign-in of their own: their browser holds its binding.
      if (trial % 2 === 1) await journey.authorize(victim, "dev");
      await (await victim.request(`${journey.returnTo}?code=${encodeURIComponent(code)}`)).arrayBuffer();
      const inVictim = await journey.exchange(victim, code);
      count(`victim ${inVictim.status} ${inVictim.body.detail ?? "tokens"}`);
      // Refused without being spent: the attacker's own browser may still trade it (it signs in only the attacker).
      const inAttacker = await journey.exchange(attacker, code);
      count(`attacker ${inAttacker.status}`);
    }
    expect(tally).toEqual({ "victim 401 invalid_login_code": TRIALS, "attacker 200": TRIALS });
  });

  it("binding fixation: a planted tdt_sso is replaced, never adopted, so no sign-in finishes in another browser", async () => {
    const oidcPath = "/api/v1/auth/oidc";
    const plant = (browser: HttpBrowser, value: string) => {
      const host = new URL(gateway).host;
      const jar = browser.cookies.get(host) ?? new Map();
      browser.cookies.set(host, jar);
      jar.set(`${BINDING_COOKIE} ${oidcPath}`, { name: BINDING_COOKIE, value, path: oidcPath, expires: undefined });
    };
    const tally: Record<string, number> = {};
    const count = (key: string) => {
      tally[key] = (tally[key] ?? 0) + 1;
    };
    for (let trial = 0; trial < TRIALS; trial++) {
      const login = `eve-${RUN}-${trial}@evil.example`;

      // (a) Before issue 23 /authorize kept a well-formed binding the browser brought. The attacker
      // planted one value in their own browser and the victim's, started a sign-in with it, and sent
      // the victim the provider's callback: it finished there, and the victim was signed in as the attacker.
      const planted = randomUUID().replaceAll("-", "").padEnd(43, "A");
      journey.keep(planted);
      const attacker = new HttpBrowser();
      plant(attacker, planted);
      const victim = new HttpBrowser();
      plant(victim, planted);
      const started = await journey.authorize(attacker, "dev");
      count(started.binding && started.binding !== planted ? "minted anew" : `kept ${started.binding}`);
      const callback = await journey.atIssuer(attacker, started.location, login, "dev");
      const inVictim = await victim.request(callback);
      count(`callback in victim ${inVictim.status} ${((await inVictim.json()) as { detail?: string }).detail}`);

      // (b) A real binding the attacker got from their own sign-in, planted in the victim's browser:
      // the victim's next /authorize replaces it, and the attacker's code is refused there.
      const finished = await journey.back(attacker, await journey.toCallback(attacker, login, "dev"));
      const attackerBinding = journey.bindingOf(attacker) ?? "";
      const victim2 = new HttpBrowser();
      plant(victim2, attackerBinding);
      const reauthorized = await journey.authorize(victim2, "dev");
      count(reauthorized.binding !== attackerBinding ? "replaced" : "adopted");
      const exchanged = await journey.exchange(victim2, finished.params.code ?? "");
      count(`code after re-authorize ${exchanged.status} ${exchanged.body.detail ?? "tokens"}`);
    }
    expect(tally).toEqual({
      "minted anew": TRIALS,
      "callback in victim 400 invalid_sso_state": TRIALS,
      replaced: TRIALS,
      "code after re-authorize 401 invalid_login_code": TRIALS,
    });
  });

  it("links a provider only when the signed-in owner asks: identity conflicts, a session ended meanwhile, and unlinking the last way in are refused", async () => {
    // Before issue 23 there was no way to ask for a link (POST /link was 404): an account was
    // linked by whatever email a provider asserted, which is the hijack above.
    const unauthenticated = await call("POST", "/api/v1/auth/oidc/dev/link", { json: { return_to: journey.returnTo } });
    expect(unauthenticated.status).toBe(401);

    const ann = `ann-${RUN}@corp.example`;
    await registerOpen(ann, "ann-password-1");
    const annTokens = await login(ann, "ann-password-1");
    const annId = subOf(annTokens);
    // Her provider account may have another address: the link names the provider's account.
    const annAtDev = `ann-elsewhere-${RUN}@mail.example`;
    const annBrowser = new HttpBrowser();
    const begun = await journey.beginLink(annBrowser, annTokens.access_token, "dev");
    expect(begun.status).toBe(200);
    expect(begun.headers.get("cache-control")).toBe("no-store");
    expect(begun.headers.getSetCookie().some((line) => line.startsWith(`${BINDING_COOKIE}=`))).toBe(true);
    const linked = await journey.back(
      annBrowser,
      await journey.atIssuer(annBrowser, begun.body.authorize_url ?? "", annAtDev, "dev"),
    );
    expect(linked.params).toEqual({ linked: "dev" });
    expect(await linksOf(annId)).toEqual(["dev"]);
    await expect
      .poll(async () => (await me(annTokens.access_token)).body.linked_providers.map((link) => link.email))
      .toEqual([annAtDev]);
    expect(subOf((await journey.signIn(annAtDev, "dev")).tokens)).toBe(annId);
    // A second account at the same provider for Ann: one per provider.
    const second = await journey.link(
      new HttpBrowser(),
      annTokens.access_token,
      "dev",
      `ann-second-${RUN}@mail.example`,
    );
    expect(second.params).toEqual({ error: "identity_conflict" });

    // Bob links Ann's provider account to his: it is hers.
    const bob = `bob-${RUN}@corp.example`;
    await registerOpen(bob, "bob-password-1");
    const bobTokens = await login(bob, "bob-password-1");
    const stolen = await journey.link(new HttpBrowser(), bobTokens.access_token, "dev", annAtDev);
    expect(stolen.params).toEqual({ error: "identity_conflict" });
    expect(await linksOf(subOf(bobTokens))).toEqual([]);
    expect(subOf((await journey.signIn(annAtDev, "dev")).tokens)).toBe(annId);

    // Link CSRF: Bob asks to link, and sends Ann the provider's URL; Ann's browser, signed in at the
    // provider as herself, comes back without Bob's binding: nothing is linked, to Bob or anyone.
    const bobBrowser = new HttpBrowser();
    const lure = await journey.beginLink(bobBrowser, bobTokens.access_token, "dev");
    expect(lure.status).toBe(200);
    const annAtDevBrowser = new HttpBrowser();
    await journey.signIn(annAtDev, "dev", annAtDevBrowser);
    // With a binding of her own, from a sign-in she started.
    await journey.authorize(annAtDevBrowser, "dev");
    const lured = await journey.atIssuer(annAtDevBrowser, lure.body.authorize_url ?? "", annAtDev, "dev");
    const refused = await annAtDevBrowser.request(lured);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ detail: "invalid_sso_state" });
    expect(await linksOf(subOf(bobTokens))).toEqual([]);
    expect(await linksOf(annId)).toEqual(["dev"]);

    // Cleo's login session ends while her browser is at the provider (a stolen token's session
    // revoked, say): the link it asked for is not made.
    const cleo = `cleo-${RUN}@corp.example`;
    await registerOpen(cleo, "cleo-password-1");
    const cleoTokens = await login(cleo, "cleo-password-1");
    const cleoBrowser = new HttpBrowser();
    const asked = await journey.beginLink(cleoBrowser, cleoTokens.access_token, "dev");
    expect(asked.status).toBe(200);
    expect((await call("POST", "/api/v1/auth/logout", { token: cleoTokens.access_token })).status).toBe(204);
    const ended = await journey.back(
      cleoBrowser,
      await journey.atIssuer(cleoBrowser, asked.body.authorize_url ?? "", `cleo-at-dev-${RUN}@mail.example`, "dev"),
    );
    expect(ended.params).toEqual({ error: "link_session_ended" });
    expect(await linksOf(subOf(cleoTokens))).toEqual([]);

    // Unlinking: an account made by single sign-on has no other way in until it sets a password.
    const dora = await journey.signIn(`dora-${RUN}@mail.example`, "dev");
    const doraId = subOf(dora.tokens);
    const unlink = () => call("DELETE", `/api/v1/auth/users/${doraId}/providers/dev`, { token: system.running.admin });
    expect(await unlink()).toMatchObject({ status: 409, body: { detail: "last_sign_in_method" } });
    expect(await linksOf(doraId)).toEqual(["dev"]);
    const password = await call("POST", "/api/v1/auth/me/password", {
      token: dora.tokens.access_token,
      json: { new_password: "doras-first-password" },
    });
    expect(password.status).toBe(204);
    expect((await unlink()).status).toBe(204);
    expect(await linksOf(doraId)).toEqual([]);
  });

  it("create-admin --reset-existing removes the provider links whoever held the address made", async () => {
    // Before issue 23 a reset kept the account's provider links: the squatter's own provider
    // account still signed in to the account the operator had just made an admin.
    const address = `ops-${RUN}@corp.example`;
    await registerOpen(address, "squatter-password");
    const squatter = await login(address, "squatter-password");
    const accountId = subOf(squatter);
    const squatterAtDev = `squatter-${RUN}@evil.example`;
    expect((await journey.link(new HttpBrowser(), squatter.access_token, "dev", squatterAtDev)).params).toEqual({
      linked: "dev",
    });
    expect(subOf((await journey.signIn(squatterAtDev, "dev")).tokens)).toBe(accountId);

    const operatorPassword = "operator-password-1";
    const reset = await promisify(execFile)(
      process.execPath,
      [CLI, "create-admin", "--email", address, "--password", operatorPassword, "--reset-existing"],
      { env: { ...process.env, AUTH_DATABASE_URL: system.running.system.databases.auth.url } },
    );
    expect(reset.stdout).toContain("1 provider link(s) removed");
    expect(await linksOf(accountId)).toEqual([]);
    await refusedWithin(squatter.access_token, 3000);

    // The squatter's provider account now signs in to an account of its own, never the admin.
    const after = await journey.signIn(squatterAtDev, "dev");
    expect(subOf(after.tokens)).not.toBe(accountId);
    expect((await me(after.tokens.access_token)).body).toMatchObject({ email: squatterAtDev, role: "technician" });
    const operator = await login(address, operatorPassword);
    expect(claimsOf(operator.access_token)).toMatchObject({ sub: accountId, role: "admin" });
  });

  it("writes no secret that travelled in these tests to any log line, page requests with codes and tokens included", async () => {
    // Before issue 23 the web app's `/?code=…` and mailed `/verify-email?token=…` pages were logged
    // with their query as sent.
    const logs = system.running.system.logs;
    // Something to look for: states, codes, bindings, mail tokens, token pairs of every test above.
    expect(journey.secrets.size).toBeGreaterThan(100);
    expect(secretsInLogs(logs, journey.secrets)).toEqual([]);
    // The page requests were logged, with their secrets redacted.
    const urls = logs.filter(({ service }) => service === "gateway").map(({ line }) => String(line.url ?? ""));
    expect(urls).toContain("/?code=[redacted]");
    expect(urls).toContain("/reset-password?token=[redacted]");
    expect(urls).toContain("/accept-invite?token=[redacted]");
    expect(urls.filter((url) => url.startsWith("/api/v1/auth/oidc/dev/callback")).length).toBeGreaterThan(TRIALS);
    expect(urls.filter((url) => url.includes("/callback?"))).toEqual([]);
  });
});
