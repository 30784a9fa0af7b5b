/**
 * Webhooks in the web app (issue 29), in headless Chromium against the whole system: the admin
 * adds an endpoint on the organization's page, pointing at a receiver on loopback (the test
 * system lets http reach 127.0.0.0/8), and sees its whsec_ secret once; sends a test ping, which
 * the receiver gets and the delivery log shows delivered, and redelivers it; rotates the secret,
 * disables the endpoint and deletes it; a refused URL is told at the URL field.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { collectPageProblems, launchBrowser, signedIn, type TestBrowser } from "@tdt/test-support/browser";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

interface Received {
  id: string;
  signature: string;
  body: { type: string; id: string };
}

interface WebhookBody {
  id: string;
  url: string;
  enabled: boolean;
  disabled_reason?: string;
  secret?: string;
}

let system: SystemWithAdmin;
let browser: TestBrowser;
let receiver: Server;
/** What the receiver was sent, in order: it answers 204 to everything. */
const received: Received[] = [];
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        id: String(request.headers["webhook-id"]),
        signature: String(request.headers["webhook-signature"]),
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Received["body"],
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => receiver.listen(0, "127.0.0.1", ready));
  system = await startSystemWithAdmin();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await new Promise((closed) => receiver?.close(closed));
});

const receiverUrl = () => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

const webhooks = async () =>
  (await system.client.call<WebhookBody[]>("GET", "/api/v1/webhooks", { token: system.admin })).body;

async function openOrganization(): Promise<Page> {
  const tab = collectPageProblems(await (await browser.context()).newPage(), pageProblems);
  const page = await signedIn(tab, system.system.url, ADMIN.email, ADMIN.password);
  await page.click("a[href='#/organization']");
  await page.locator("#webhooks-list", { hasText: "None yet." }).waitFor();
  return page;
}

describe("the organization's webhooks", () => {
  it("adds an endpoint with its secret shown once, pings it, logs and redelivers the ping, rotates, disables and deletes it", async () => {
    const page = await openOrganization();
    await page.fill("#webhook-url", receiverUrl());
    await page.check("input[name='webhook-events'][value='tdt.session.completed']");
    await page.check("input[name='webhook-events'][value='tdt.tree.published']");
    await page.fill("#webhook-description", "Tickets");
    await page.click("#webhook-form button[type=submit]");

    // The secret, once: in a read-only field that has the focus, with the sentence saying so.
    const secret = await page.waitForSelector("#webhook-secret");
    const shown = await secret.inputValue();
    expect(shown).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);
    expect(await secret.getAttribute("readonly")).not.toBeNull();
    expect(await page.evaluate("document.activeElement?.id")).toBe("webhook-secret");
    await page.locator("#webhook-created", { hasText: "will not be shown again" }).waitFor();
    const [made] = await webhooks();
    expect(made).toMatchObject({ url: receiverUrl(), enabled: true });
    expect(made).not.toHaveProperty("secret");
    const row = page.locator(`tr[data-webhook='${made?.id}']`);
    await row.filter({ hasText: "tdt.session.completed, tdt.tree.published" }).waitFor();
    await row.filter({ hasText: "Tickets" }).waitFor();
    await browser.screenshot(page, "web-webhooks-added");

    // A reload lists the endpoint, and its secret is nowhere on the page.
    await page.reload();
    await row.waitFor();
    expect(await page.$("#webhook-secret")).toBeNull();
    expect(await page.content()).not.toContain(shown);

    // The test ping reaches the receiver, and the log (refreshed until it is) says delivered.
    await row.locator(".webhook-ping").click();
    await expect.poll(() => received.map((event) => event.body.type), { timeout: 30_000 }).toEqual(["tdt.ping"]);
    const log = row.locator(".delivery-log");
    await log.locator("li.delivery").first().waitFor();
    expect(await row.locator(".webhook-log").getAttribute("aria-expanded")).toBe("true");
    await expect
      .poll(
        async () => {
          await log.locator(".webhook-log-refresh").click();
          return log.locator("li.delivery").first().getAttribute("data-state");
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe("delivered");
    const delivery = log.locator("li.delivery").first();
    expect(await delivery.textContent()).toMatch(/tdt\.ping.*delivered.*HTTP 204 in \d+ ms/s);
    await browser.screenshot(page, "web-webhooks-delivered");
    expect(await browser.phoneScreenshot(page, "web-webhooks-delivered")).toBeLessThanOrEqual(0);

    // Redelivered, by the keyboard: the receiver hears the same event (webhook-id) again.
    await delivery.locator(".webhook-redeliver").focus();
    await page.keyboard.press("Enter");
    await page.locator("#notice", { hasText: "queued again" }).waitFor();
    // The log drawn anew keeps the keyboard on that delivery's button.
    await expect
      .poll(() => page.evaluate("document.activeElement?.closest('li.delivery')?.dataset.delivery"))
      .toBe(await delivery.getAttribute("data-delivery"));
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(2);
    expect(received[1]?.id).toBe(received[0]?.id);

    // A new secret, shown once in the row; deliveries are signed under both for a day.
    await row.locator(".webhook-rotate").click();
    const rotated = await row.locator(`#webhook-${made?.id}-secret`).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(shown);

    // Disabled: the API says so, and the row.
    await row.locator(".webhook-toggle", { hasText: "Disable" }).click();
    await row.locator(".webhook-toggle", { hasText: "Enable" }).waitFor();
    await row.filter({ hasText: "disabled by an admin" }).waitFor();
    expect((await webhooks())[0]).toMatchObject({ id: made?.id, enabled: false, disabled_reason: "admin" });

    // A private address is refused, and told at the URL field.
    await page.fill("#webhook-url", "https://10.0.0.1/x");
    await page.check("input[name='webhook-events'][value='tdt.session.started']");
    await page.click("#webhook-form button[type=submit]");
    await page.locator("#webhook-url-problem", { hasText: "private" }).waitFor();
    expect(await page.getAttribute("#webhook-url", "aria-invalid")).toBe("true");
    expect(await page.getAttribute("#webhook-url", "aria-describedby")).toBe("webhook-url-problem");
    expect(await page.textContent("#webhook-form .form-error[role=alert]")).toContain("[validation_error]");
    expect(await page.evaluate("document.activeElement?.id")).toBe("webhook-url");
    expect(await page.$("#webhook-secret")).toBeNull();
    expect(await webhooks()).toHaveLength(1);
    await browser.screenshot(page, "web-webhooks-refused");

    // Deleted, once confirmed.
    page.once("dialog", (dialog) => void dialog.accept());
    await row.locator(".webhook-delete").click();
    await page.locator("#notice", { hasText: "is deleted" }).waitFor();
    await page.locator("#webhooks-list", { hasText: "None yet." }).waitFor();
    expect(await webhooks()).toEqual([]);
    expect(pageProblems).toEqual([]);
  }, 120_000);
});
