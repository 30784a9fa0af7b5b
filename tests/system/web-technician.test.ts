/**
 * The technician's side of the web app, as issue 27 found it wanting, in headless Chromium: notes
 * typed but not saved survive a step; focus moves to the new question and it is announced; an
 * error goes once a retry works; ending away from a solution asks first, with a note; the
 * completed page offers a CSV and a way on; Back from a new session does not lead to a second
 * one; numbered lists in a node read as written; My sessions fits a 390 px phone; a linked tree
 * shows where the technician is (a breadcrumb of trees) and its solution before going back.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

const PASSWORD = "correct-horse-battery";
let system: SystemWithAdmin;
let browser: TestBrowser;
let treeId: string;
let vpnTreeId: string;
const pageProblems: string[] = [];

/** A tree whose first step is a numbered list with a continued item, then a question. */
const LISTED = {
  title: `Scanner shows no documents ${Date.now().toString(36)}`,
  category: "Scanners",
  tags: [],
  status: "published",
  root_node_id: "steps",
  nodes: [
    {
      id: "steps",
      type: "action",
      title: "Restart the scanner",
      body: "1. Switch it off.\n2. Wait ten seconds.\n   Do **not** unplug it.\n3. Switch it on.",
      next: "works",
    },
    {
      id: "works",
      type: "question",
      title: "Does it scan now?",
      options: [
        { id: "yes", label: "Yes", next: "fixed" },
        { id: "no", label: "No", next: "vendor" },
      ],
    },
    { id: "fixed", type: "solution", title: "Scanning again", outcome: "resolved" },
    { id: "vendor", type: "solution", title: "Call the vendor", outcome: "escalated" },
  ],
};

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  system = await startSystemWithAdmin();
  browser = await launchBrowser();
  const engineer = await system.client.engineer(system.admin);
  const created = await system.client.call<{ id: string }>("POST", "/api/v1/trees", { token: engineer, json: LISTED });
  expect(created.status).toBe(201);
  treeId = created.body.id;
  // A tree that runs a shared check through a link, then goes on.
  const check = await system.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: {
      title: "Home internet check",
      category: "Network",
      status: "published",
      root_node_id: "restart",
      nodes: [
        { id: "restart", type: "action", title: "Restart the home router", next: "online" },
        { id: "online", type: "solution", title: "The internet works again", outcome: "resolved" },
      ],
    },
  });
  const vpn = await system.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: {
      title: `VPN cannot connect ${Date.now().toString(36)}`,
      category: "Network",
      status: "published",
      root_node_id: "internet",
      nodes: [
        {
          id: "internet",
          type: "question",
          title: "Do web pages open?",
          options: [
            { id: "no", label: "No", next: "check" },
            { id: "yes", label: "Yes", next: "client" },
          ],
        },
        { id: "check", type: "link", title: "Check the home internet", tree_id: check.body.id, next: "client" },
        { id: "client", type: "solution", title: "Reconnect the VPN client", outcome: "resolved" },
      ],
    },
  });
  expect(vpn.status).toBe(201);
  vpnTreeId = vpn.body.id;
});

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

async function technicianPage(viewport?: { width: number; height: number }): Promise<Page> {
  const { client } = system;
  const account = await client.register(client.uniqueEmail("tech"), PASSWORD, "Terry Technician");
  const page = await (await browser.context()).newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.on("pageerror", (error) => pageProblems.push(error.message));
  await page.goto(`${system.system.url}/`);
  await page.fill("#email", account.email);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
  return page;
}

/** From the trees list to a new session of the test tree, as a technician clicks it. */
async function startSession(page: Page): Promise<void> {
  await page.fill("#search", "scanner documents");
  await page.press("#search", "Enter");
  const item = page.locator(`#tree-list .tree-item[data-tree-id="${treeId}"]`);
  await expect.poll(() => item.getByText("Start session").count()).toBe(1);
  await item.getByText("Start session").click();
  await page.waitForSelector("#start-form");
  await page.fill("#ticket", "INC-4711");
  await page.click("#start-form button[type=submit]");
  await page.waitForSelector('#current-node[data-node-id="steps"]');
}

describe("the technician's side", () => {
  it("reads a numbered list as written, keeps unsaved notes over a step, and moves focus to what is new", async () => {
    const page = await technicianPage();
    await startSession(page);
    const list = page.locator("#current-node .node-body ol");
    expect(await list.count()).toBe(1);
    expect(await list.locator("li").allTextContents()).toEqual([
      "Switch it off.",
      "Wait ten seconds.Do not unplug it.",
      "Switch it on.",
    ]);

    await page.fill("#session-notes", "Paper jam light was blinking");
    await page.click("#continue");
    await page.waitForSelector('#current-node[data-node-id="works"]');
    expect(await page.inputValue("#session-notes")).toBe("Paper jam light was blinking");
    expect(await page.evaluate("document.activeElement && document.activeElement.textContent")).toBe(
      "Does it scan now?",
    );
    expect(await page.textContent("#announce")).toBe("Now: Does it scan now?");
    await browser.screenshot(page, "web-technician-step");
    expect(await browser.phoneScreenshot(page, "web-technician-step")).toBeLessThanOrEqual(0);
    expect(pageProblems).toEqual([]);
  });

  it("clears an error once a retry works, and asks before ending away from a solution, with a note", async () => {
    const page = await technicianPage();
    await startSession(page);
    const sessionId = /#\/session\/([0-9a-f-]+)/.exec(page.url())?.[1];
    expect(sessionId).toBeDefined();
    // Another tab of the same technician moves the session on: this tab's next click is stale.
    const second = await page.context().newPage();
    await second.goto(page.url());
    await second.waitForSelector("#continue");
    await second.click("#continue");
    await second.waitForSelector('#current-node[data-node-id="works"]');
    await second.close();
    await page.click("#continue");
    await expect.poll(() => page.textContent("#notice")).toContain("[stale_step]");
    await page.waitForSelector('#current-node[data-node-id="works"]');
    await page.click('button.option[data-option-id="no"]');
    await page.waitForSelector('#current-node[data-node-id="vendor"]');
    expect(await page.isHidden("#notice")).toBe(true);

    // Back, then end as unresolved: asked first, cancelled, then with a note.
    await page.click("#back");
    await page.waitForSelector('#current-node[data-node-id="works"]');
    await page.click("#complete-unresolved");
    await page.waitForSelector("#confirm-complete");
    expect(await page.textContent("#session-status")).toBe("in progress");
    await page.click("#cancel-complete");
    await page.waitForSelector("#complete-unresolved");
    await page.click("#complete-unresolved");
    await page.fill("#completion-note", "Customer had to leave");
    await browser.screenshot(page, "web-technician-confirm");
    await page.click("#confirm-complete");
    await page.waitForSelector("#completed");
    expect(await page.textContent("#completed h2")).toBe("Outcome: unresolved");

    // The way on, and the CSV.
    expect(await page.getAttribute("#start-another", "href")).toBe(`#/start/${treeId}`);
    const [file] = await Promise.all([page.waitForEvent("download"), page.click('button[data-format="csv"]')]);
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
    await browser.screenshot(page, "web-technician-completed");
    const session = await system.client.call<{ notes: string }>("GET", `/api/v1/sessions/${sessionId}`, {
      token: system.admin,
    });
    expect(session.body.notes).toContain("Customer had to leave");
    expect(pageProblems).toEqual([]);
  });

  it("goes Back from a new session to the trees, not to a form one click from a second session; My sessions fits a phone", async () => {
    const page = await technicianPage({ width: 390, height: 844 });
    await startSession(page);
    await page.goBack();
    await expect.poll(() => new URL(page.url()).hash).toMatch(/^#\/trees/);
    expect(await page.locator("#start-form").count()).toBe(0);

    await page.click('a[href="#/sessions"]');
    await page.waitForSelector("#sessions tr[data-session-id]");
    await browser.screenshot(page, "web-technician-sessions-phone");
    const wide = await page.evaluate(
      "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)",
    );
    expect(wide).toEqual([]);
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    expect(pageProblems).toEqual([]);
  });

  it("shows the trees a session went into as a breadcrumb, and a linked tree's solution before going back", async () => {
    const page = await technicianPage();
    await page.goto(`${system.system.url}/#/start/${vpnTreeId}`);
    await page.waitForSelector("#start-form");
    await page.click("#start-form button[type=submit]");
    await page.waitForSelector('#current-node[data-node-id="internet"]');
    expect(await page.locator("#breadcrumb").count()).toBe(0);
    await page.click('button.option[data-option-id="no"]');
    await page.waitForSelector('#current-node[data-node-id="restart"]');
    expect(await page.textContent("#breadcrumb")).toMatch(/^VPN cannot connect \w+ › Home internet check$/);
    await browser.screenshot(page, "web-technician-linked");

    await page.click("#continue");
    await page.waitForSelector('#current-node[data-node-id="client"]');
    expect(await page.textContent("#linked-solution")).toMatch(
      /^“Home internet check” ended at “The internet works again” \(resolved\)\. Back in “VPN cannot connect \w+”\.$/,
    );
    expect(await page.locator("#breadcrumb").count()).toBe(0);
    expect(pageProblems).toEqual([]);
  });
});
