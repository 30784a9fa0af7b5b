/**
 * The web app in two languages (issue 30), in headless Chromium: a browser that asks for German
 * gets the login page and the trees in German; the switcher in the header changes the screen to
 * English in place (no reload), and the choice outlives a reload; counts take each language's
 * plural forms. The catalogs themselves are checked in services/web/test/i18n-catalogs.test.ts.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { collectPageProblems, launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { chainTree } from "@tdt/test-support/trees";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

let system: SystemWithAdmin;
let browser: TestBrowser;
let organizationId: string;
/** Trees of one node and of three: "1 node" and "3 nodes" on the list. */
const trees: Record<"one" | "three", string> = { one: "", three: "" };
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  system = await startSystemWithAdmin();
  browser = await launchBrowser();
  const { client, admin } = system;
  for (const [name, count] of [
    ["one", 1],
    ["three", 3],
  ] as const) {
    const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: admin,
      json: chainTree(count, { title: `Chain of ${count} ${Date.now().toString(36)}`, status: "published" }),
    });
    expect(created.status).toBe(201);
    trees[name] = created.body.id;
  }
  const me = await client.call<{ organization: { id: string } }>("GET", "/api/v1/auth/me", { token: admin });
  organizationId = me.body.organization.id;
});

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

/** A page of a browser whose languages are `locale`'s (navigator.languages, Accept-Language). */
async function pageIn(locale: string): Promise<Page> {
  const context = await browser.browser.newContext({ locale });
  return collectPageProblems(await context.newPage(), pageProblems);
}

async function logIn(page: Page): Promise<void> {
  await page.fill("#email", ADMIN.email);
  await page.fill("#password", ADMIN.password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
const treeFacts = (page: Page, treeId: string) => text(page, `.tree-item[data-tree-id="${treeId}"] p.muted`);

describe("the web app's languages", () => {
  it("greets a German browser in German, on the login page and on the trees", async () => {
    const page = await pageIn("de-DE");
    await page.goto(`${system.system.url}/`);
    await page.waitForSelector("#login-form");
    expect(await page.getAttribute("html", "lang")).toBe("de");
    expect(await text(page, "#login-form h1")).toBe("Anmelden");
    expect(await text(page, "label[for=password]")).toBe("Passwort");
    expect(await text(page, "#forgot-password")).toBe("Passwort vergessen?");
    expect(await page.getAttribute("#language-switcher", "aria-label")).toBe("Sprache");
    expect(await page.$eval("#language-switcher", (select) => (select as unknown as { value: string }).value)).toBe(
      "de",
    );
    await browser.screenshot(page, "web-i18n-login-de");

    await logIn(page);
    await page.locator("#tree-list .tree-item").first().waitFor();
    expect(await text(page, "h1")).toBe("Bäume zur Fehlersuche");
    expect(await text(page, "#logout")).toBe("Abmelden");
    expect(await text(page, "#nav a[href='#/sessions']")).toBe("Meine Sitzungen");
    expect(await text(page, "#who")).toBe(`${await adminName()} (Administrator)`);
    expect(await page.getAttribute("#search", "placeholder")).toBe("Drucker, VPN, …");
    expect(await text(page, `.tree-item[data-tree-id="${trees.three}"] .actions a`)).toBe("Sitzung beginnen");
    await browser.screenshot(page, "web-i18n-trees-de");

    // Dates as German writes them: the admin's own login sessions on the Users page.
    await page.click("#nav a[href='#/users']");
    await page.click("#users tr:has-text('(Sie)') .show-sessions");
    const since = await text(page, ".login-sessions li");
    expect(since).toMatch(/^Seit \d{1,2}\.\d{1,2}\.\d{4}, \d{2}:\d{2}:\d{2}, zuletzt benutzt \d{1,2}\.\d{1,2}\.\d{4}/);
    expect(pageProblems).toEqual([]);
  });

  it("switches to English in place with the switcher, and keeps the choice across a reload", async () => {
    const page = await pageIn("de-DE");
    await page.goto(`${system.system.url}/`);
    await logIn(page);
    await page.locator("#tree-list .tree-item").first().waitFor();
    expect(await text(page, "h1")).toBe("Bäume zur Fehlersuche");
    // A mark on this page's window: a reload would take it away.
    await page.evaluate("window.notReloaded = true");

    await page.selectOption("#language-switcher", "en");
    await page.locator("h1", { hasText: "Troubleshooting trees" }).waitFor();
    expect(await page.evaluate("window.notReloaded")).toBe(true);
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await text(page, "#logout")).toBe("Log out");
    expect(await page.getAttribute("#language-switcher", "aria-label")).toBe("Language");
    // Focus stays on the switcher, drawn anew, for a keyboard user.
    expect(await page.evaluate("document.activeElement?.id")).toBe("language-switcher");

    await page.reload();
    await page.locator("#tree-list .tree-item").first().waitFor();
    expect(await text(page, "h1")).toBe("Troubleshooting trees");
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await page.$eval("#language-switcher", (select) => (select as unknown as { value: string }).value)).toBe(
      "en",
    );

    // And back, on the login page too (the switcher is on every screen).
    await page.click("#logout");
    await page.waitForSelector("#login-form");
    await page.selectOption("#language-switcher", "de");
    await page.locator("#login-form h1", { hasText: "Anmelden" }).waitFor();
    expect(pageProblems).toEqual([]);
  });

  it("counts in each language's plural forms", async () => {
    const page = await pageIn("en-US");
    await page.goto(`${system.system.url}/`);
    await logIn(page);
    await page.locator(`.tree-item[data-tree-id="${trees.one}"]`).waitFor();
    expect(await treeFacts(page, trees.one)).toBe("Generated · 1 node · version 1");
    expect(await treeFacts(page, trees.three)).toBe("Generated · 3 nodes · version 1");

    // The organization's seats: its members, and its open invitations before and after one more.
    const members = await memberCount();
    const seats = () => page.locator("#organization-seats").textContent();
    await page.click("#nav a[href='#/organization']");
    await expect.poll(seats).toBe(`${englishMembers(members)} and 0 open invitations, no limit.`);
    await page.selectOption("#language-switcher", "de");
    await expect.poll(seats).toBe(`${germanMembers(members)} und 0 offene Einladungen, ohne Grenze.`);

    const invited = await system.client.call("POST", `/api/v1/organizations/${organizationId}/members`, {
      token: system.admin,
      json: { email: system.client.uniqueEmail("invitee"), role: "technician" },
    });
    expect(invited.status).toBeLessThan(300);
    await page.reload();
    await expect.poll(seats).toBe(`${germanMembers(members)} und 1 offene Einladung, ohne Grenze.`);
    await page.selectOption("#language-switcher", "en");
    await expect.poll(seats).toBe(`${englishMembers(members)} and 1 open invitation, no limit.`);

    // The tree list counts nodes in German as well.
    await page.selectOption("#language-switcher", "de");
    await page.click("#nav a[href='#/trees']");
    await page.locator(`.tree-item[data-tree-id="${trees.one}"]`).waitFor();
    expect(await treeFacts(page, trees.one)).toBe("Generated · 1 Knoten · Version 1");
    expect(await treeFacts(page, trees.three)).toBe("Generated · 3 Knoten · Version 1");
    expect(pageProblems).toEqual([]);
  });
});

async function adminName(): Promise<string> {
  const me = await system.client.call<{ full_name: string }>("GET", "/api/v1/auth/me", { token: system.admin });
  return me.body.full_name;
}

async function memberCount(): Promise<number> {
  const settings = await system.client.call<{ members: number }>("GET", `/api/v1/organizations/${organizationId}`, {
    token: system.admin,
  });
  return settings.body.members;
}

const englishMembers = (count: number) => `${count} ${count === 1 ? "member" : "members"}`;
const germanMembers = (count: number) => `${count} ${count === 1 ? "Mitglied" : "Mitglieder"}`;
