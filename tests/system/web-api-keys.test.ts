/**
 * API keys in the web app (issue 29), in headless Chromium against the whole system: the admin
 * makes a key on the organization's page (a key with no scope is told at the scopes), sees it
 * once, and a program's use of it (through the gateway, with the RateLimit headers; a route
 * outside its scope is 403) shows in the list after a reload; once Revoke is confirmed, the key's
 * next request is 401.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Schemas } from "@tdt/api-client";
import { collectPageProblems, launchBrowser, signedIn, type TestBrowser } from "@tdt/test-support/browser";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

/** An API key as the gateway answers it (the generated client's type). */
type ApiKeyBody = Schemas["ApiKey"];

let system: SystemWithAdmin;
let browser: TestBrowser;
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  system = await startSystemWithAdmin();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

const apiKeys = async () =>
  (await system.client.call<ApiKeyBody[]>("GET", "/api/v1/api-keys", { token: system.admin })).body;

/** A program's request with the key: its status, body and rate-limit headers. */
async function withKey(key: string, path: string) {
  const response = await fetch(`${system.system.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return {
    status: response.status,
    body: (await response.json()) as unknown,
    policy: response.headers.get("ratelimit-policy"),
    limit: response.headers.get("ratelimit"),
  };
}

async function openOrganization(): Promise<Page> {
  const tab = collectPageProblems(await (await browser.context()).newPage(), pageProblems);
  const page = await signedIn(tab, system.system.url, ADMIN.email, ADMIN.password);
  await page.click("a[href='#/organization']");
  await page.locator("#api-keys-list", { hasText: "None yet." }).waitFor();
  return page;
}

describe("the organization's API keys", () => {
  it("makes a key shown once, lists its use by a program, and revokes it once confirmed", async () => {
    const page = await openOrganization();
    expect(await page.inputValue("#api-key-quota")).toBe("10000");

    // No scope chosen: the API's 422 is told at the scopes, and the keyboard goes there.
    await page.fill("#api-key-name", "Nightly sync");
    await page.fill("#api-key-quota", "5");
    await page.click("#api-key-form button[type=submit]");
    await page.locator("#api-key-scopes-problem", { hasText: "At least one scope" }).waitFor();
    expect(await page.getAttribute("#api-key-scopes", "aria-invalid")).toBe("true");
    expect(await page.getAttribute("#api-key-scopes", "aria-describedby")).toBe("api-key-scopes-problem");
    expect(await page.textContent("#api-key-form .form-error[role=alert]")).toContain("[validation_error]");
    expect(await page.evaluate("document.activeElement?.name")).toBe("api-key-scopes");
    expect(await page.getAttribute("#api-key-name", "aria-invalid")).toBeNull();
    expect(await page.$("#api-key-secret")).toBeNull();
    expect(await apiKeys()).toEqual([]);
    await browser.screenshot(page, "web-api-keys-refused");

    // Made with trees:read: the key, once, focused in a read-only field, with how to send it.
    await page.check("input[name='api-key-scopes'][value='trees:read']");
    await page.click("#api-key-form button[type=submit]");
    const secret = await page.waitForSelector("#api-key-secret");
    const key = await secret.inputValue();
    expect(key).toMatch(/^tdt_[A-Za-z0-9_-]{43}$/);
    expect(await secret.getAttribute("readonly")).not.toBeNull();
    expect(await page.evaluate("document.activeElement?.id")).toBe("api-key-secret");
    await page.locator("#api-key-created", { hasText: "will not be shown again" }).waitFor();
    await page.locator("#api-key-created code", { hasText: "Authorization: Bearer <key>" }).waitFor();
    expect(await page.getAttribute("#api-key-scopes", "aria-invalid")).toBeNull();
    expect(await page.textContent("#api-key-scopes-problem")).toBe("");
    const [made] = await apiKeys();
    expect(made).toMatchObject({ name: "Nightly sync", scopes: ["trees:read"], daily_quota: 5, used_today: 0 });
    expect(made).not.toHaveProperty("key");
    const row = page.locator(`tr[data-api-key='${made?.id}']`);
    await row.filter({ hasText: "Nightly sync" }).waitFor();
    expect(await row.locator("td[data-label='Scopes']").textContent()).toBe("trees:read");
    expect(await row.locator("td[data-label='Used today']").textContent()).toBe("0 of 5");
    expect(await row.locator("td[data-label='Last used']").textContent()).toBe("never");
    await browser.screenshot(page, "web-api-keys-made");

    // A reload lists the key, and the key itself is nowhere on the page.
    await page.reload();
    await row.waitFor();
    expect(await page.$("#api-key-secret")).toBeNull();
    expect(await page.content()).not.toContain(key);

    // A program reads the trees with it, with the quota's headers; the sessions are outside its scope.
    const read = await withKey(key, "/api/v1/trees");
    expect(read.status).toBe(200);
    expect(Array.isArray(read.body)).toBe(true);
    expect(read.policy).toBe('"daily";q=5;w=86400');
    expect(read.limit).toMatch(/^"daily";r=4;t=\d+$/);
    const refused = await withKey(key, "/api/v1/sessions");
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: "insufficient_scope" });
    expect(refused.limit).toMatch(/^"daily";r=3;t=\d+$/);

    // The list shows the use after a reload.
    await page.reload();
    await row.waitFor();
    expect(await row.locator("td[data-label='Used today']").textContent()).toBe("2 of 5");
    expect(await row.locator("td[data-label='Last used']").textContent()).not.toBe("never");
    expect((await apiKeys())[0]?.last_used_at).toEqual(expect.any(String));
    await browser.screenshot(page, "web-api-keys-used");
    expect(await browser.phoneScreenshot(page, "web-api-keys-used")).toBeLessThanOrEqual(0);

    // Revoke, dismissed: the key stays, and works.
    const revoke = row.locator(".api-key-revoke");
    expect(await revoke.getAttribute("aria-describedby")).toBe(`api-key-${made?.id}-name`);
    page.once("dialog", (dialog) => void dialog.dismiss());
    await revoke.click();
    await expect.poll(() => revoke.isEnabled()).toBe(true);
    expect(await apiKeys()).toHaveLength(1);
    expect((await withKey(key, "/api/v1/trees")).status).toBe(200);

    // Revoke, confirmed: gone from the list, and the key's next request is refused.
    let asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await revoke.click();
    await page.locator("#notice", { hasText: "is revoked" }).waitFor();
    expect(asked).toContain("Nightly sync");
    await page.locator("#api-keys-list", { hasText: "None yet." }).waitFor();
    expect(await apiKeys()).toEqual([]);
    const after = await withKey(key, "/api/v1/trees");
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ detail: "invalid_token" });
    expect(pageProblems).toEqual([]);
  }, 120_000);
});
