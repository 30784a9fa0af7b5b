/**
 * Issue 14 as a person meets it: the reference web app in headless Chromium, a real OpenID
 * Connect provider (the local issuer) behind its "Sign in with …" button. Sign in, reload, sign
 * out (at the provider too, which comes back to the app), and a refused sign-in shown on the
 * login screen. Screenshots: test-results/screenshots/sso-*.png.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { launchBrowser, signInAtIssuerPage, type TestBrowser } from "@tdt/test-support/browser";
import { freePort } from "@tdt/test-support/ports";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuer, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";
import { ROOT } from "../../scripts/root.js";

let system: SystemWithAdmin;
let issuer: DevIssuer;
let browser: TestBrowser;
let app: string;
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  const [gatewayPort, issuerPort] = await Promise.all([freePort(), freePort()]);
  app = `http://127.0.0.1:${gatewayPort}`;
  const secret = "browser-test-secret";
  issuer = await startDevIssuer({
    port: issuerPort,
    clients: [
      {
        client_id: "tdt-web",
        client_secret: secret,
        redirect_uris: [`${app}/api/v1/auth/oidc/corp/callback`],
        post_logout_redirect_uris: [`${app}/`],
        backchannel_logout_uri: `${app}/api/v1/auth/oidc/corp/backchannel-logout`,
      },
    ],
  });
  system = await startSystemWithAdmin({
    GATEWAY_PORT: String(gatewayPort),
    PUBLIC_URL: app,
    OIDC_PROVIDERS: JSON.stringify([
      { id: "corp", name: "Example Corp", issuer: issuer.issuer, client_id: "tdt-web", client_secret: secret },
    ]),
  });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await issuer?.stop();
  expect(pageProblems).toEqual([]);
});

async function openApp(): Promise<Page> {
  const page = await (await browser.context()).newPage();
  page.on("pageerror", (error) => pageProblems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) pageProblems.push(message.text());
  });
  await page.goto(`${app}/`);
  return page;
}

/** At the issuer's pages, signed in as `login`. */
const signInAtIssuer = (page: Page, login: string) => signInAtIssuerPage(page, issuer.issuer, login);

describe("single sign-on in the web app", () => {
  it("signs in with the provider's button, keeps the login over a reload, and signs out at the provider too", async () => {
    const page = await openApp();
    const button = await page.waitForSelector('a.sso[data-provider="corp"]');
    expect(await button.textContent()).toBe("Sign in with Example Corp");
    await browser.screenshot(page, "sso-login-screen");
    await button.click();
    await signInAtIssuer(page, "grace@example.com");
    await page.waitForSelector("#logout");
    expect(await page.textContent("#who")).toBe("grace (technician)");
    // The one-time code is gone from the address bar.
    expect(new URL(page.url()).search).toBe("");
    await browser.screenshot(page, "sso-signed-in");

    await page.reload();
    await page.waitForSelector("#logout");

    await page.click("#logout");
    // At the provider's sign-out page: confirm, and land back on the app's login screen.
    await page.waitForURL((url) => url.href.startsWith(issuer.issuer));
    await page.click('button[name="logout"]');
    await page.waitForURL(`${app}/`);
    await page.waitForSelector("#login-form");
    await browser.screenshot(page, "sso-signed-out");
    // Signed out at the provider: the next sign-in asks for a login again.
    await page.click('a.sso[data-provider="corp"]');
    await page.waitForSelector('input[name="login"]');
  });

  it("shows why a sign-in was refused", async () => {
    const page = await openApp();
    await (await page.waitForSelector('a.sso[data-provider="corp"]')).click();
    await signInAtIssuer(page, "hank+unverified@example.com");
    await page.waitForSelector("#login-form");
    await expect.poll(() => page.textContent("#notice")).toContain("did not confirm your email address");
    expect(new URL(page.url()).search).toBe("");
    await browser.screenshot(page, "sso-refused");
  });
});
