/**
 * The API docs in Chromium from an address that is not localhost (docs.test, mapped to 127.0.0.1):
 * over plain HTTP nothing may be upgraded to https (the pages would load blank), and Swagger UI's
 * Authorize logs in through the OAuth2 password flow so "Try it out" calls a secured route.
 */
import { launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let browser: TestBrowser;
let base: string;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  browser = await launchBrowser({ args: ["--host-resolver-rules=MAP docs.test 127.0.0.1"] });
  base = `http://docs.test:${new URL(running.system.url).port}`;
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** A page that records every request it makes and every one that failed. */
async function watchedPage(): Promise<{ page: Page; requested: string[]; failed: string[] }> {
  const page = await (await browser.context()).newPage();
  const requested: string[] = [];
  const failed: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  page.on("requestfailed", (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  page.on("response", (response) => {
    if (response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`);
  });
  return { page, requested, failed };
}

describe("the docs from a non-localhost address over plain HTTP", () => {
  it("Swagger UI renders its operations, with nothing upgraded to https or failed", async () => {
    const { page, requested, failed } = await watchedPage();
    await page.goto(`${base}/api/docs`);
    await page.locator(".opblock").first().waitFor({ state: "visible" });
    expect(await page.locator(".opblock").count()).toBeGreaterThan(20);
    await expect.poll(() => page.locator(".info .title").textContent()).toContain("TDT API");
    await browser.screenshot(page, "docs-swagger-ui");
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => url.startsWith("https:"))).toEqual([]);
    expect(failed).toEqual([]);
  });

  // ReDoc lays out the whole document in the page before its first heading shows: 10-16 s alone
  // on a 2-core machine, and past 30 s beside a loaded test run (seen in CI with a soak beside
  // it). What it asserts is what renders, not how fast (speed is the benchmarks' business).
  it("ReDoc renders its content, with nothing upgraded to https or failed", { timeout: 120_000 }, async () => {
    const { page, requested, failed } = await watchedPage();
    page.setDefaultTimeout(100_000);
    await page.goto(`${base}/api/redoc`);
    await page
      .getByRole("heading", { name: /TDT API/ })
      .first()
      .waitFor({ state: "visible" });
    await page.getByText("Log in with a JSON body").first().waitFor({ state: "attached" });
    await browser.screenshot(page, "docs-redoc");
    // ReDoc's own "by Redocly" logo comes from its CDN (unreachable here, harmless): only the
    // gateway's requests count.
    const own = (url: string) => new URL(url.split(": ")[0] ?? url).hostname === "docs.test";
    expect(requested.filter(own).length).toBeGreaterThan(0);
    expect(requested.filter((url) => own(url) && url.startsWith("https:"))).toEqual([]);
    expect(failed.filter(own)).toEqual([]);
  });
});

describe("Swagger UI's Authorize", () => {
  it("logs in with username and password (OAuth2 password flow), then Try it out on GET /auth/me answers 200", async () => {
    const { page } = await watchedPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${base}/api/docs`);
    await page.locator("button.authorize").first().click();
    const oauth = page.locator(".auth-container", { has: page.locator("#oauth_username") });
    await oauth.locator("#oauth_username").fill(ADMIN.email);
    await oauth.locator("#oauth_password").fill(ADMIN.password);
    // (Swagger UI labels its buttons for screen readers: "Apply given OAuth2 credentials".)
    await oauth.locator("button.modal-btn.authorize").click();
    // Logged in: the OAuth2 section shows the user and offers to log out instead.
    const modal = page.locator(".modal-ux");
    await modal.locator("button.modal-btn", { hasText: "Logout" }).waitFor({ state: "visible" });
    await browser.screenshot(page, "docs-authorized");
    await modal.locator(".close-modal").click();

    const me = page.locator(".opblock", { has: page.locator('.opblock-summary-path[data-path="/api/v1/auth/me"]') });
    await me.locator(".opblock-summary").click();
    await me.locator("button.try-out__btn").click();
    await me.locator("button.execute").click();
    const status = me.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ state: "visible" });
    expect((await status.textContent())?.trim()).toBe("200");
    await expect
      .poll(async () => me.locator(".live-responses-table .microlight").first().textContent())
      .toContain(ADMIN.email);
    await browser.screenshot(page, "docs-try-it-out-me");
  });
});
