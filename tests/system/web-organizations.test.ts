/**
 * Organizations in the web app (issue 28), in headless Chromium against `npm start`'s demo
 * (DEMO_DATA: the Demo organization with the demo trees and an empty Sandbox): the admin switches
 * to the Sandbox and finds it empty, stays there across a reload, sets its session policy and adds
 * people; a technician of Demo alone sees neither a switcher nor the organization's page.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { collectPageProblems, launchBrowser, signInAtIssuerPage, type TestBrowser } from "@tdt/test-support/browser";
import { freePort } from "@tdt/test-support/ports";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuer, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";
import { ROOT } from "../../scripts/root.js";

let system: SystemWithAdmin;
let issuer: DevIssuer;
let browser: TestBrowser;
const ISSUER_SECRET = "sandbox-idp-secret";
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  // The Sandbox's own provider: its issuer knows the gateway's callback before the system starts.
  const [gatewayPort, issuerPort] = await Promise.all([freePort(), freePort()]);
  const app = `http://127.0.0.1:${gatewayPort}`;
  issuer = await startDevIssuer({
    port: issuerPort,
    clients: [
      {
        client_id: "tdt-sandbox",
        client_secret: ISSUER_SECRET,
        redirect_uris: [`${app}/api/v1/auth/oidc/sandbox-idp/callback`],
        post_logout_redirect_uris: [`${app}/`],
      },
    ],
  });
  system = await startSystemWithAdmin({ DEMO_DATA: "true", GATEWAY_PORT: String(gatewayPort), PUBLIC_URL: app });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await issuer?.stop();
});

async function openApp(): Promise<Page> {
  const page = collectPageProblems(await (await browser.context()).newPage(), pageProblems);
  await page.goto(`${system.system.url}/`);
  return page;
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
}

/** The trees listed (the empty list's one line, "No tree found.", is no tree). */
const treeRows = (page: Page) => page.$$eval("#tree-list li:not(.muted)", (rows) => rows.length);

describe("the organization switcher and the organization's page", () => {
  it("switches the admin to the empty Sandbox, keeps them there across a reload, and back", async () => {
    const page = await openApp();
    await logIn(page, ADMIN.email, ADMIN.password);
    const switcher = await page.waitForSelector("#organization-switcher");
    const options = await switcher.$$eval("option", (items) =>
      items.map((item) => (item as unknown as { textContent: string }).textContent),
    );
    expect(options).toEqual(["Demo", "Sandbox"]);
    await page.locator("#tree-list", { hasText: "Printer" }).waitFor();
    expect(await treeRows(page)).toBeGreaterThan(0);
    await browser.screenshot(page, "web-organizations-demo");

    await page.selectOption("#organization-switcher", { label: "Sandbox" });
    await page.locator("#notice", { hasText: "Sandbox" }).waitFor();
    await page.locator("#tree-list", { hasText: "No tree found." }).waitFor();
    expect(await treeRows(page)).toBe(0);
    expect(
      await page.$eval("#organization-switcher", (select) => (select as unknown as { value: string }).value),
    ).not.toBe("");
    await browser.screenshot(page, "web-organizations-sandbox");

    // A reload logs back in from the cookie: the login it holds is the Sandbox's.
    await page.reload();
    await page.waitForSelector("#organization-switcher");
    const chosen = await page.$eval(
      "#organization-switcher",
      (select) =>
        (select as unknown as { selectedOptions: Array<{ textContent: string }> }).selectedOptions[0]?.textContent,
    );
    expect(chosen).toBe("Sandbox");

    await page.selectOption("#organization-switcher", { label: "Demo" });
    await page.locator("#tree-list", { hasText: "Printer" }).waitFor();
    expect(pageProblems).toEqual([]);
  });

  it("lets the admin set the organization's session policy and add people", async () => {
    const page = await openApp();
    await logIn(page, ADMIN.email, ADMIN.password);
    await page.selectOption("#organization-switcher", { label: "Sandbox" });
    await page.locator("#notice", { hasText: "Sandbox" }).waitFor();
    await page.click("a[href='#/organization']");
    await page.locator("#policy-now", { hasText: "Now: strict" }).waitFor();
    await page.selectOption("#policy-preset", "aal2");
    await page.click("#organization-policy button[type=submit]");
    await page.locator("#policy-now", { hasText: "Now: aal2" }).waitFor();
    const organizations = await system.client.call<{ organizations: Array<{ id: string; slug: string }> }>(
      "GET",
      "/api/v1/organizations",
      { token: system.admin },
    );
    const sandbox = organizations.body.organizations.find((org) => org.slug === "sandbox");
    const policy = await system.client.call("GET", `/api/v1/organizations/${sandbox?.id}/policy`, {
      token: system.admin,
    });
    expect(policy.body).toMatchObject({ preset: "aal2", idle_max_seconds: 1800 });
    const demo = organizations.body.organizations.find((org) => org.slug === "demo");
    const untouched = await system.client.call("GET", `/api/v1/organizations/${demo?.id}/policy`, {
      token: system.admin,
    });
    expect(untouched.body).toMatchObject({ preset: "strict" });

    // Someone with an account joins at once; a new address is invited.
    const existing = await system.client.register(system.client.uniqueEmail("joiner"));
    await page.fill("#member-email", existing.email);
    await page.selectOption("#member-role", "engineer");
    await page.click("#organization-member button[type=submit]");
    await page.locator("#notice", { hasText: `${existing.email} is now a member` }).waitFor();
    const invitee = system.client.uniqueEmail("invitee");
    const since = Date.now();
    await page.fill("#member-email", invitee);
    await page.click("#organization-member button[type=submit]");
    await page.locator("#notice", { hasText: `${invitee} is invited` }).waitFor();
    const mail = await system.system.mailbox?.waitFor(invitee, { since, subject: /invited/i });
    expect(mail).toBeDefined();
    await browser.screenshot(page, "web-organizations-settings");
    // The Users page lists the Sandbox's members: the admin and the one who joined.
    await page.click("a[href='#/users']");
    await page.locator("#users", { hasText: existing.email }).waitFor();
    // And out again: removed from the Sandbox (asked first), gone from its Users page.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click(`tr[data-user-id='${existing.id}'] .remove-member`);
    await page.locator("#notice", { hasText: "is no longer in Sandbox" }).waitFor();
    await expect.poll(() => page.$(`tr[data-user-id='${existing.id}']`)).toBeNull();
    const [membership] = await system.client
      .call<{ organizations: Array<{ slug: string }> }>("GET", "/api/v1/organizations", {
        token: (await system.client.login(existing.email, "correct-horse-battery")).access_token,
      })
      .then((answer) => answer.body.organizations);
    expect(membership?.slug).toBe("demo");
    expect(pageProblems).toEqual([]);
  });

  it("lets the admin say who may join and add the Sandbox's own single sign-on, which signs a newcomer in to it", async () => {
    const page = await openApp();
    await logIn(page, ADMIN.email, ADMIN.password);
    await page.selectOption("#organization-switcher", { label: "Sandbox" });
    await page.locator("#notice", { hasText: "Sandbox" }).waitFor();
    await page.click("a[href='#/organization']");
    await page.locator("#organization-seats", { hasText: "no limit" }).waitFor();
    await page.fill("#organization-domains", "Sandbox.test, example.com");
    await page.click("#organization-domains-form button[type=submit]");
    await page.locator("#notice", { hasText: "domains are saved" }).waitFor();
    expect(await page.inputValue("#organization-domains")).toBe("sandbox.test, example.com");
    await page.fill("#organization-max-members", "10");
    await page.click("#organization-limits-form button[type=submit]");
    await page.locator("#organization-seats", { hasText: "of at most 10" }).waitFor();

    await page.fill("#provider-id", "sandbox-idp");
    await page.fill("#provider-name", "Sandbox IdP");
    await page.fill("#provider-issuer", issuer.issuer);
    await page.fill("#provider-client-id", "tdt-sandbox");
    await page.fill("#provider-client-secret", ISSUER_SECRET);
    await page.selectOption("#provider-role", "engineer");
    await page.fill("#provider-domains", "sandbox.test");
    await page.click("#organization-provider-form button[type=submit]");
    await page.locator("#notice", { hasText: "/api/v1/auth/oidc/sandbox-idp/callback" }).waitFor();
    await page.locator("tr[data-provider='sandbox-idp']", { hasText: "Sandbox IdP" }).waitFor();
    expect(await page.inputValue("#provider-client-secret")).toBe("");
    await browser.screenshot(page, "web-organizations-sso-settings");

    // Signed out, a newcomer finds the Sandbox's single sign-on by its short name and joins it.
    await page.click("#logout");
    await page.waitForSelector("#login-form");
    await page.fill("#organization-slug", "sandbox");
    await page.click("#organization-sso button[type=submit]");
    const button = await page.waitForSelector("#organization-providers a.sso[data-provider='sandbox-idp']");
    expect(await button.textContent()).toBe("Sign in with Sandbox IdP");
    await button.click();
    await signInAtIssuerPage(page, issuer.issuer, "nia@sandbox.test");
    await page.waitForSelector("#logout");
    expect(await page.textContent("#who")).toBe("nia (engineer)");
    await page.locator("#tree-list", { hasText: "No tree found." }).waitFor();
    expect(await page.$("#organization-switcher")).toBeNull();
    await browser.screenshot(page, "web-organizations-sso-newcomer");

    // Signing out signs out at the Sandbox's provider too, which sends the browser back to the app.
    await page.click("#logout");
    await page.waitForURL((url) => url.href.startsWith(issuer.issuer));
    await page.click('button[name="logout"]');
    await page.waitForSelector("#login-form");
    // A name with no single sign-on says so.
    await page.fill("#organization-slug", "demo");
    await page.click("#organization-sso button[type=submit]");
    await page.locator("#organization-providers", { hasText: "No single sign-on" }).waitFor();
    expect(pageProblems).toEqual([]);
  });

  it("shows a technician of one organization neither a switcher nor the organization's page", async () => {
    const account = await system.client.register(system.client.uniqueEmail("tech"), "correct-horse-battery");
    const page = await openApp();
    await logIn(page, account.email, "correct-horse-battery");
    await page.locator("#tree-list", { hasText: "Printer" }).waitFor();
    expect(await page.$("#organization-switcher")).toBeNull();
    expect(await page.$("a[href='#/organization']")).toBeNull();
    await page.goto(`${system.system.url}/#/organization`);
    await page.locator("#tree-list", { hasText: "Printer" }).waitFor();
    expect(await page.$("#policy-preset")).toBeNull();
  });
});
