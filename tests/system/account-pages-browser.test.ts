/**
 * Issue 23 as a person meets it in the web app (headless Chromium, the whole system, a real SMTP
 * server): sign up and confirm the address from the mail; forget the password and choose a new
 * one from the mail; be invited by an admin and accept; on the account page move to a new
 * address and link a single sign-on provider (the local issuer), then sign in with it. Every
 * mailed link is opened in the browser as it came (PUBLIC_URL is this system's address).
 * Screenshots: test-results/screenshots/account-*.png.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import type { Mailbox, ReceivedMail } from "@tdt/test-support/mailbox";
import { freePort } from "@tdt/test-support/ports";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuer, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";
import { ROOT } from "../../scripts/root.js";

const PASSWORD = "correct-horse-battery";
let system: SystemWithAdmin;
let mailbox: Mailbox;
let issuer: DevIssuer;
let browser: TestBrowser;
let app: string;
/** What went wrong inside the pages: uncaught errors, and anything the page's CSP refused. */
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  const [gatewayPort, issuerPort] = await Promise.all([freePort(), freePort()]);
  app = `http://127.0.0.1:${gatewayPort}`;
  const secret = "account-pages-secret";
  issuer = await startDevIssuer({
    port: issuerPort,
    clients: [
      {
        client_id: "tdt-web",
        client_secret: secret,
        redirect_uris: [`${app}/api/v1/auth/oidc/corp/callback`],
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
  if (!system.system.mailbox) throw new Error("the system has no mailbox");
  mailbox = system.system.mailbox;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await issuer?.stop();
});

/** A new page of its own browser context (its own cookies: another person, or another device). */
async function openApp(url = `${app}/`): Promise<Page> {
  const page = await (await browser.context()).newPage();
  page.on("pageerror", (error) => pageProblems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) pageProblems.push(message.text());
  });
  await page.goto(url);
  return page;
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.waitForSelector("#login-form");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#login-form button[type=submit]");
}

async function loggedInAs(page: Page, who: string): Promise<void> {
  await page.waitForSelector("#logout");
  expect(await page.textContent("#who")).toBe(who);
}

/** At the local issuer's pages: the login (any password), then consent when it asks. */
async function signInAtIssuer(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(issuer.issuer));
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any password");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  if (await page.$('input[name="prompt"][value="consent"]')) {
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
}

/** The one link of a mail to a page of the app, checked to point at this system. */
function linkTo(mail: ReceivedMail, path: string): string {
  const links = mail.links.filter((link) => new URL(link).pathname === path);
  expect(links, mail.text).toHaveLength(1);
  const [link = ""] = links;
  expect(new URL(link).origin).toBe(app);
  return link;
}

/** Opening a mailed link: its token is out of the address bar at once, the page at its hash route. */
async function openMailedLink(page: Page, link: string, path: string): Promise<void> {
  await page.goto(link);
  await expect.poll(() => page.url()).toBe(`${app}/#${path}`);
}

const formError = (page: Page) => page.textContent("form .form-error");

// Each test walks several pages, mails and sometimes a provider: more than the default 30 s on a busy machine.
describe("accounts in the web app", { timeout: 90_000 }, () => {
  it("serves the app at the paths mailed links open, nowhere else new", async () => {
    for (const path of ["/verify-email", "/reset-password", "/accept-invite", "/forgot-password"]) {
      const page = await fetch(`${app}${path}?token=abc`);
      expect(page.status, path).toBe(200);
      expect(await page.text(), path).toContain('src="app.js"');
      expect(page.headers.get("content-security-policy"), path).toContain("script-src 'self'");
    }
    for (const path of ["/register", "/account", "/verify-email/x"]) {
      expect((await fetch(`${app}${path}`)).status, path).toBe(404);
    }
  });

  it("signs up, is told to confirm first, confirms from the mail and signs in; signing up again mails a reset link", async () => {
    const email = system.client.uniqueEmail("signup");
    const page = await openApp();
    await page.click("#register");
    await page.waitForSelector("#register-form");
    await page.fill("#full-name", "Sam Signup");
    await page.fill("#email", email);
    await page.fill("#password", PASSWORD);
    const signedUp = Date.now();
    await page.click("#register-form button[type=submit]");
    await page.waitForSelector("#mail-sent");
    expect(await page.textContent("#mail-sent h1")).toBe("Check your mail");
    expect(await page.textContent("#mail-sent")).toContain(`We sent a link to ${email}.`);
    await browser.screenshot(page, "account-check-your-mail");
    const first = await mailbox.waitFor(email, { since: signedUp, subject: /^Confirm your email address/ });

    // Not confirmed yet: the login says so, and sends the link again.
    await page.click("#sign-in");
    await logIn(page, email, PASSWORD);
    await expect.poll(() => formError(page)).toContain("[email_not_verified]");
    const resent = Date.now();
    await page.click("#login-form #resend");
    await expect.poll(() => page.textContent("#resend-status")).toBe(`We sent a new link to ${email}.`);
    const second = await mailbox.waitFor(email, { since: resent, subject: /^Confirm your email address/ });
    expect(mailbox.to(email)).toHaveLength(2);
    expect(linkTo(second, "/verify-email")).not.toBe(linkTo(first, "/verify-email"));

    await openMailedLink(page, linkTo(second, "/verify-email"), "/verify-email");
    await page.waitForSelector("#verified");
    expect(await page.textContent("#verified h1")).toBe("Your email address is confirmed");
    await browser.screenshot(page, "account-verified");
    // The token is gone: a reload has nothing to send again, and says where the link is.
    await page.reload();
    await page.waitForSelector("#no-token");
    await page.click("#sign-in");
    await logIn(page, email, PASSWORD);
    await loggedInAs(page, "Sam Signup (technician)");

    // The link works once.
    const other = await openApp();
    await openMailedLink(other, linkTo(second, "/verify-email"), "/verify-email");
    await other.waitForSelector("#link-failed");
    expect(await other.textContent("#link-failed")).toContain("[invalid_mail_token]");

    // Signing up with a taken address looks the same; the owner's mail leads to the reset page.
    await other.goto(`${app}/#/register`);
    await other.fill("#full-name", "Someone Else");
    await other.fill("#email", email.toUpperCase());
    await other.fill("#password", "another-password-1");
    const again = Date.now();
    await other.click("#register-form button[type=submit]");
    await other.waitForSelector("#mail-sent");
    expect(await other.textContent("#mail-sent")).toContain(`We sent a link to ${email.toUpperCase()}.`);
    const taken = await mailbox.waitFor(email, { since: again });
    expect(taken.subject).toBe("You already have a TDT account");
    await openMailedLink(other, linkTo(taken, "/forgot-password"), "/forgot-password");
    await other.waitForSelector("#forgot-form");
    expect(mailbox.to(email)).toHaveLength(3);
    expect(pageProblems).toEqual([]);
  });

  it("forgot password: the same answer for any address, the mailed link sets a new password, and it signs in", async () => {
    const account = await system.client.register(system.client.uniqueEmail("forgot"), PASSWORD, "Fay Forgetful");
    const page = await openApp();
    await page.click("#forgot-password");
    await page.waitForSelector("#forgot-form");

    const nobody = system.client.uniqueEmail("nobody");
    await page.fill("#email", nobody);
    await page.click("#forgot-form button[type=submit]");
    await page.waitForSelector("#mail-sent");
    const answer = "If an account has this address, a reset link is on its way to";
    expect(await page.textContent("#mail-sent")).toContain(`${answer} ${nobody}.`);

    await page.goto(`${app}/#/login`);
    await page.click("#forgot-password");
    await page.fill("#email", account.email);
    const asked = Date.now();
    await page.click("#forgot-form button[type=submit]");
    await page.waitForSelector("#mail-sent");
    expect(await page.textContent("#mail-sent")).toContain(`${answer} ${account.email}.`);
    await browser.screenshot(page, "account-reset-sent");
    const mail = await mailbox.waitFor(account.email, { since: asked });
    expect(mail.subject).toBe("Reset your TDT password");
    // Mails go out in the order asked: the unknown address's turn came first, and it got none.
    expect(mailbox.to(nobody)).toEqual([]);

    await openMailedLink(page, linkTo(mail, "/reset-password"), "/reset-password");
    await page.waitForSelector("#reset-form");
    // Too short: the field's problem is told, and the link still works.
    await page.fill("#new-password", "short");
    await page.click("#reset-form button[type=submit]");
    await expect.poll(() => formError(page)).toContain("[validation_error]");
    expect(await formError(page)).toMatch(/password: .*8/);
    await browser.screenshot(page, "account-reset-form");
    const newPassword = "a-brand-new-password";
    await page.fill("#new-password", newPassword);
    await page.click("#reset-form button[type=submit]");
    await page.waitForSelector("#password-changed");
    expect(await page.textContent("#password-changed")).toContain("Every login of your account has ended");

    await page.click("#sign-in");
    await logIn(page, account.email, PASSWORD);
    await expect.poll(() => formError(page)).toContain("[invalid_credentials]");
    await logIn(page, account.email, newPassword);
    await loggedInAs(page, "Fay Forgetful (technician)");
    expect(pageProblems).toEqual([]);
  });

  it("an admin invites someone from the account page; the invitee accepts from the mail and signs in with the role", async () => {
    const admin = await openApp();
    await logIn(admin, ADMIN.email, ADMIN.password);
    await admin.waitForSelector("#logout");
    await admin.click('#nav a[href="#/account"]');
    await admin.waitForSelector("#invite-form");
    expect(await admin.textContent("#account-details")).toContain(ADMIN.email);

    const invitee = system.client.uniqueEmail("invitee");
    await admin.fill("#invite-email", invitee);
    await admin.selectOption("#invite-role", "engineer");
    const invited = Date.now();
    await admin.click("#invite-form button[type=submit]");
    await expect.poll(() => admin.textContent("#invite-sent")).toContain(`Invitation sent to ${invitee} as engineer.`);
    await browser.screenshot(admin, "account-admin");
    // An address with an account cannot be invited.
    await admin.fill("#invite-email", ADMIN.email);
    await admin.click("#invite-form button[type=submit]");
    await expect.poll(() => admin.textContent("#invite-form .form-error")).toContain("[email_already_registered]");

    const mail = await mailbox.waitFor(invitee, { since: invited });
    expect(mail.subject).toBe("You are invited to TDT");
    expect(mailbox.to(invitee)).toHaveLength(1);
    const page = await openApp();
    await openMailedLink(page, linkTo(mail, "/accept-invite"), "/accept-invite");
    await page.waitForSelector("#accept-form");
    await page.fill("#full-name", "Ivy Invited");
    await page.fill("#password", PASSWORD);
    await browser.screenshot(page, "account-accept-invite");
    await page.click("#accept-form button[type=submit]");
    await page.waitForSelector("#invite-accepted");
    expect(await page.textContent("#invite-accepted h1")).toBe("Welcome, Ivy Invited");
    expect(await page.textContent("#invite-accepted")).toContain(`Your account ${invitee} is ready, as engineer.`);
    await page.click("#sign-in");
    await logIn(page, invitee, PASSWORD);
    await loggedInAs(page, "Ivy Invited (engineer)");
    expect(pageProblems).toEqual([]);
  });

  it("the account page moves to a new address and links a provider, which then signs in", async () => {
    const account = await system.client.register(system.client.uniqueEmail("mover"), PASSWORD, "Mo Mover");
    const page = await openApp();
    await logIn(page, account.email, PASSWORD);
    await page.waitForSelector("#logout");
    await page.click('#nav a[href="#/account"]');
    await page.waitForSelector("#account-details");
    expect(await page.textContent("#account-details")).toContain(`${account.email} confirmed`);
    // Not an admin: no invitations.
    expect(await page.locator("#invite-form").count()).toBe(0);
    expect(await page.textContent("#providers")).toContain("No provider is linked to your account yet.");

    // A new address: a link goes there, and the address changes when it is followed.
    const moved = system.client.uniqueEmail("moved");
    await page.fill("#new-email", moved);
    await page.fill("#current-password", "not-my-password");
    await page.click("#change-email-form button[type=submit]");
    await expect.poll(() => formError(page)).toContain("[wrong_password]");
    await page.fill("#current-password", PASSWORD);
    const asked = Date.now();
    await page.click("#change-email-form button[type=submit]");
    await expect
      .poll(() => page.textContent("#email-change-sent"))
      .toBe(`We sent a link to ${moved}. Your address changes when you open it; until then it stays ${account.email}.`);
    const mail = await mailbox.waitFor(moved, { since: asked });
    expect(mail.subject).toBe("Confirm your new email address for TDT");
    await openMailedLink(page, linkTo(mail, "/verify-email"), "/verify-email");
    await page.waitForSelector("#verified");
    // The move ended every login of the account, this tab's too.
    await expect.poll(() => page.locator("#logout").count()).toBe(0);
    expect(await page.textContent("#notice")).toBe("Your login ended. Please log in again.");
    await page.click("#sign-in");
    await logIn(page, account.email, PASSWORD);
    await expect.poll(() => formError(page)).toContain("[invalid_credentials]");
    await logIn(page, moved, PASSWORD);
    await loggedInAs(page, "Mo Mover (technician)");

    // Link the provider: off to it, and back on the account page with the link made.
    await page.click('#nav a[href="#/account"]');
    const link = page.locator('#providers button[data-provider="corp"]');
    expect(await link.textContent()).toBe("Link Example Corp");
    await link.click();
    await signInAtIssuer(page, "mo.at.corp@example.com");
    await page.waitForSelector("#linked");
    expect(page.url()).toBe(`${app}/#/account`);
    expect(await page.textContent("#linked")).toBe("Example Corp is linked: you can sign in with it now.");
    expect(await page.locator("#linked-providers li").allTextContents()).toEqual([
      expect.stringMatching(/^Example Corp as mo\.at\.corp@example\.com, since /),
    ]);
    expect(await page.locator("#providers button[data-provider]").count()).toBe(0);
    await browser.screenshot(page, "account-linked");

    // Signed out, the provider's button signs this account in (the provider remembers the browser).
    await page.click("#logout");
    await page.click('a.sso[data-provider="corp"]');
    await loggedInAs(page, "Mo Mover (technician)");
    expect(new URL(page.url()).search).toBe("");
    expect(pageProblems).toEqual([]);
  });

  it("a provider sign-in for an address whose account is not linked is refused, and the page says what to do", async () => {
    const account = await system.client.register(system.client.uniqueEmail("unlinked"), PASSWORD, "Una Unlinked");
    const page = await openApp();
    await (await page.waitForSelector('a.sso[data-provider="corp"]')).click();
    await signInAtIssuer(page, account.email);
    await page.waitForSelector("#login-form");
    expect(new URL(page.url()).search).toBe("");
    // Shown, not only written: the first screen keeps the notice.
    await page.waitForSelector("#notice", { state: "visible" });
    expect(await page.textContent("#notice")).toBe(
      "An account with your email address exists already. Sign in to it with your password (or reset the password by mail), then link the provider on your account page. [account_exists_link_required]",
    );
    await browser.screenshot(page, "account-link-required");
    expect(pageProblems).toEqual([]);
  });
});
