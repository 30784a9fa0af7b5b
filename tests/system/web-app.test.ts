/**
 * The reference web app (services/web) as its users meet it: served by the gateway at `/`,
 * driven in headless Chromium. A technician runs a whole session and downloads the report; an
 * engineer reads a tree's map, saves a draft with a broken link in the JSON editor, sees the
 * problem at its node when publishing, fixes and publishes it, and a technician then finds the
 * tree; a later draft changes nothing for technicians until it is published.
 * Every screen is kept as a screenshot (test-results/screenshots/web-*.png).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { OFF_SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { collectPageProblems, launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { pdfText } from "@tdt/test-support/pdf";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

const PASSWORD = "correct-horse-battery";
let system: SystemWithAdmin;
let browser: TestBrowser;

beforeAll(async () => {
  // The gateway finds the built app by default, as under `npm start` (which builds it first).
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  system = await startSystemWithAdmin({ DEMO_DATA: "true" });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

/** What went wrong inside the pages: uncaught errors, and anything the page's CSP refused. */
const pageProblems: string[] = [];

/** A new page of its own browser context (its own memory: a user in a fresh tab). */
async function openApp(): Promise<Page> {
  const page = collectPageProblems(await (await browser.context()).newPage(), pageProblems);
  await page.goto(`${system.system.url}/`);
  return page;
}

async function logIn(page: Page, email: string, screenshot?: string): Promise<void> {
  await page.fill("#email", email);
  await page.fill("#password", email === ADMIN.email ? ADMIN.password : PASSWORD);
  if (screenshot) await browser.screenshot(page, screenshot);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
}

async function newUser(name: string, role?: "engineer") {
  const { client } = system;
  const account = await client.register(client.uniqueEmail(role ?? "tech"), PASSWORD, name);
  if (role) {
    const promoted = await client.call("PATCH", `/api/v1/auth/users/${account.id}`, {
      token: system.admin,
      json: { role },
    });
    expect(promoted.status).toBe(200);
  }
  return account;
}

/** Clicks a download button and returns the file's name and bytes. */
async function download(page: Page, selector: string): Promise<{ name: string; data: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  const path = await file.path();
  return { name: file.suggestedFilename(), data: await readFile(path) };
}

/** Opens the editor's JSON view (a form edits one node; the JSON, the whole draft). */
const openJson = (page: Page) => page.evaluate("document.querySelector('#json-toggle').open = true");

const currentNode = (page: Page, id: string) => page.waitForSelector(`#current-node[data-node-id="${id}"]`);

describe("the web app", () => {
  it("is served at / with its assets", async () => {
    const page = await fetch(`${system.system.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="app.js"');
    expect((await fetch(`${system.system.url}/app.js`)).status).toBe(200);
  });

  it("takes a technician through a whole session: search, start, answer, back, notes, complete, report", async () => {
    const technician = await newUser("Tina Technician");
    const page = await openApp();
    await page.waitForSelector("#login-form");
    // A wrong password is told as a sentence with its code.
    await page.fill("#email", technician.email);
    await page.fill("#password", "wrong-password-123");
    await page.click("#login-form button[type=submit]");
    await expect
      .poll(() => page.textContent(".form-error"))
      .toContain("Wrong email or password. [invalid_credentials]");

    await logIn(page, technician.email, "web-login");
    await page.waitForSelector("#tree-list .tree-item");
    expect(await page.textContent("#who")).toContain("Tina Technician (technician)");
    // Technicians see published trees only: every listed tree offers a session.
    const listed = await page.locator("#tree-list .tree-item").count();
    expect(listed).toBeGreaterThanOrEqual(7);
    expect(await page.locator("#tree-list .tree-item .badge.draft").count()).toBe(0);
    await browser.screenshot(page, "web-trees");

    await page.fill("#search", "printer toner");
    await page.press("#search", "Enter");
    const printer = page.locator("#tree-list .tree-item", { hasText: "Printer does not print" });
    await printer.waitFor();
    expect(await page.textContent("h1")).toContain("printer toner");
    await browser.screenshot(page, "web-search");

    await printer.getByText("Start session").click();
    await page.waitForSelector("#start-form");
    await page.fill("#ticket", "INC-4711");
    await browser.screenshot(page, "web-start");
    await page.click("#start-form button[type=submit]");

    await currentNode(page, "check_power");
    expect(await page.isDisabled("#back")).toBe(true);
    // Away from a solution, a button for each outcome the contract allows there.
    expect(await page.locator("#completion button").evaluateAll((buttons) => buttons.map((b) => b.id))).toEqual(
      OFF_SOLUTION_OUTCOMES.map((outcome) => `complete-${outcome}`),
    );
    // The node's Markdown is shown formatted (as DOM, never as HTML).
    expect(await page.textContent("#current-node .node-body strong")).toBe("steady");
    expect(await page.locator("#current-node .node-body li").count()).toBe(3);
    await browser.screenshot(page, "web-session");
    await page.click('button[data-option-id="no"]');
    await currentNode(page, "reseat_power");
    await page.click("#back");
    await currentNode(page, "check_power");
    await page.fill("#step-note", "Power LED steady green");
    await page.click('button[data-option-id="yes"]');
    await currentNode(page, "error_display");
    await page.click('button[data-option-id="paper_jam"]');
    await currentNode(page, "clear_jam");
    await page.fill("#step-note", "Jam in tray 2");
    await browser.screenshot(page, "web-session-action");
    await page.click("#continue");
    await currentNode(page, "jam_retry");
    await page.click('button[data-option-id="yes"]');
    await currentNode(page, "sol_jam_cleared");
    await page.fill("#session-notes", "Customer informed; tray 2 roller worn.");
    await page.click("#save-notes");
    await page.waitForSelector("#save-notes:not([disabled])");
    await browser.screenshot(page, "web-session-solution");
    await page.click("#complete");
    await page.waitForSelector("#completed");
    expect(await page.textContent("#session-status")).toBe("completed");
    expect(await page.textContent("#completed h2")).toBe("Outcome: resolved");
    expect(await page.locator("#steps li").allTextContents()).toEqual([
      "Is the printer switched on with its power light or display lit? → Yes, it is onNote: Power LED steady green",
      expect.stringContaining("→"),
      expect.stringMatching(/^Clear the paper jam.*Note: Jam in tray 2$/),
      expect.stringContaining("Is the jam cleared"),
      "Resolved: paper jam cleared",
    ]);
    await browser.screenshot(page, "web-session-completed");

    const json = await download(page, 'button[data-format="json"]');
    expect(json.name).toMatch(/\.json$/);
    const report = JSON.parse(json.data.toString("utf8")) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain("INC-4711");
    expect(JSON.stringify(report)).toContain("Jam in tray 2");
    expect(JSON.stringify(report)).toContain("resolved");

    const markdown = await download(page, 'button[data-format="markdown"]');
    expect(markdown.name).toMatch(/\.md$/);
    const text = markdown.data.toString("utf8");
    for (const expected of ["Printer does not print", "INC-4711", "Power LED steady green", "tray 2 roller worn"]) {
      expect(text).toContain(expected);
    }

    const pdf = await download(page, 'button[data-format="pdf"]');
    expect(pdf.name).toMatch(/\.pdf$/);
    expect(pdf.data.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(await pdfText(new Uint8Array(pdf.data))).toContain("Printer does not print");

    await page.click('a[href="#/sessions"]');
    const row = page.locator("#sessions tbody tr", { hasText: "INC-4711" });
    await row.waitFor();
    expect(await row.textContent()).toContain("resolved");
    await browser.screenshot(page, "web-sessions");

    await page.click("#logout");
    await page.waitForSelector("#login-form");
    expect(await page.locator("#nav a").count()).toBe(0);
    expect(pageProblems).toEqual([]);
  });

  it("keeps the refresh token in an HttpOnly cookie: a reload stays logged in, two tabs opening at once both do", async () => {
    const technician = await newUser("Rita Reload");
    const context = await browser.context();
    const page = await context.newPage();
    page.on("pageerror", (error) => pageProblems.push(error.message));
    await page.goto(`${system.system.url}/#/sessions`);
    await logIn(page, technician.email);
    await page.waitForSelector("#sessions");

    const refreshCookies = async () => (await context.cookies()).filter((cookie) => cookie.name === "tdt_refresh");
    const cookies = await refreshCookies();
    expect(cookies.map((cookie) => cookie.path).sort()).toEqual(["/api/v1/auth/logout", "/api/v1/auth/refresh"]);
    for (const cookie of cookies) {
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite).toBe("Strict");
    }
    // Nothing a script can read holds a token.
    expect(await page.evaluate("document.cookie")).not.toContain("tdt_refresh");
    expect(await page.evaluate("localStorage.length + sessionStorage.length")).toBe(0);

    // A reload forgets the access token; the cookie logs the page back in where it was.
    await page.reload();
    await page.waitForSelector("#sessions");
    expect(await page.isVisible("#logout")).toBe(true);

    // Two tabs starting at once both log in from the one cookie. (The app serializes their
    // refreshes with a Web Lock; whether the two would overlap without it is up to timing, so
    // this shows that they coexist, not that the lock is needed.)
    const second = await context.newPage();
    await Promise.all([page.reload(), second.goto(`${system.system.url}/#/trees`)]);
    await Promise.all([page.waitForSelector("#sessions"), second.waitForSelector("#tree-list .tree-item")]);
    await page.click('a[href="#/trees"]');
    await page.waitForSelector("#tree-list .tree-item");

    // Logging out ends the login and its cookie: the other tab's reload meets the login form.
    await page.click("#logout");
    await page.waitForSelector("#login-form");
    expect(await refreshCookies()).toEqual([]);
    await second.reload();
    await second.waitForSelector("#login-form");
    expect(pageProblems).toEqual([]);
  });

  it("lets an engineer map a tree, keep an unfinished draft, see a broken link at its node, fix and publish it for technicians", async () => {
    const engineer = await newUser("Eve Engineer", "engineer");
    const page = await openApp();
    await logIn(page, engineer.email);

    // A demo tree as a map: one box per node, edges labelled by option.
    await page.locator("#tree-list .tree-item", { hasText: "Printer does not print" }).getByText("Map & edit").click();
    await page.waitForSelector("#tree-map svg");
    const demo = JSON.parse(await readFile(resolve(ROOT, "services/trees/demo/printer-not-printing.json"), "utf8"));
    expect(await page.locator("#tree-map g.map-node").count()).toBe(demo.nodes.length);
    expect(await page.locator("#tree-map .edge-label", { hasText: "No, nothing is lit" }).count()).toBe(1);
    await browser.screenshot(page, "web-map");

    // A new draft tree, edited in JSON: saving keeps an unfinished draft, publishing checks it.
    await page.click('a[href="#/trees"]');
    await page.click("#new-draft");
    await page.waitForSelector("#tree-map svg");
    expect(await page.textContent("#tree-status")).toBe("draft");
    expect(await page.locator("#tree-map g.map-node").count()).toBe(3);
    const title = `Badge reader rejects card ${Date.now().toString(36)}`;
    const draft = JSON.parse(await page.inputValue("#tree-json")) as {
      title: string;
      nodes: Array<{ options?: Array<{ next: string }> }>;
    };
    draft.title = title;
    const first = draft.nodes[0]?.options?.[0];
    if (!first) throw new Error("the template's first node has no option");
    first.next = "nowhere";
    await openJson(page);
    await page.fill("#tree-json", JSON.stringify(draft, null, 2));
    // The map follows the text at once: the broken link shows before any save.
    await page.waitForSelector("#tree-map .edge.broken");
    await page.click("#save-draft");
    await expect.poll(() => page.textContent("#notice")).toContain("Draft saved (revision");
    expect(await page.textContent("#draft-revision")).toContain("technicians do not get it");
    expect(await page.textContent("#draft-diff")).toContain("Tree title changed");
    await page.click("#publish");
    await page.waitForSelector("#problems li");
    expect(await page.textContent("#problems")).toContain('node "start" › options[0] › next');
    expect(await page.getAttribute('#tree-map g.map-node[data-node-id="start"]', "class")).toContain("has-problem");
    expect(await page.locator("#tree-map g.map-node.has-problem").count()).toBe(1);
    expect(await page.textContent("#notice")).toContain("[validation_error]");
    await browser.screenshot(page, "web-editor-problem");

    first.next = "escalate";
    await page.fill("#tree-json", JSON.stringify(draft, null, 2));
    await page.fill("#change-note", "First published version");
    await page.click("#publish");
    await expect.poll(() => page.textContent("#notice")).toBe("Published as version 2.");
    // The editor is drawn again with the published tree.
    await expect.poll(() => page.textContent("#tree-status")).toBe("published");
    expect(await page.locator("#tree-map g.map-node.has-problem").count()).toBe(0);
    expect(await page.textContent("h1")).toBe(title);
    expect(await page.textContent("#history")).toContain("published · version 2 · First published version");
    await browser.screenshot(page, "web-editor-published");

    // A later edit is a draft again: saved, it changes nothing for technicians until published.
    const retitled = { ...draft, title: `${title} (draft)` };
    await openJson(page);
    await page.fill("#tree-json", JSON.stringify(retitled, null, 2));
    await page.click("#save-draft");
    await expect.poll(() => page.textContent("#notice")).toContain("Technicians still get version 2.");
    expect(await page.textContent("h1")).toBe(title);
    // A technician now finds it and can start it.
    const technician = await newUser("Tom Technician");
    const other = await openApp();
    await logIn(other, technician.email);
    await other.fill("#search", "badge reader");
    await other.press("#search", "Enter");
    const found = other.locator("#tree-list .tree-item", { hasText: title });
    await found.waitFor();
    // The list is drawn again as the search answers: ask until it has settled.
    await expect.poll(() => found.getByText("Start session").count()).toBe(1);
    await browser.screenshot(other, "web-technician-finds");
    // The draft's title is the engineer's alone.
    expect(await other.locator("#tree-list .tree-item", { hasText: `${title} (draft)` }).count()).toBe(0);

    // An earlier version can be published again from the history.
    await page.click('#history button.rollback[data-version="1"]');
    await expect.poll(() => page.textContent("#notice")).toBe("Version 1's content is published again as version 3.");
    await browser.screenshot(page, "web-editor-history");
    expect(await browser.phoneScreenshot(page, "web-editor-history")).toBeLessThanOrEqual(0);
    expect(pageProblems).toEqual([]);
  });

  it("lets an engineer edit a tree without touching JSON: pick a node on the map, change it, add and connect a node", async () => {
    const engineer = await newUser("Fran Formfiller", "engineer");
    const page = await openApp();
    await logIn(page, engineer.email);
    await page.click("#new-draft");
    await page.waitForSelector("#tree-map svg");
    const treeId = /#\/tree\/([0-9a-f-]+)/.exec(page.url())?.[1] as string;
    expect(await page.isVisible("#tree-json")).toBe(false);
    expect(await page.textContent("#node-form-hint")).toBe("Pick a node on the map to edit it.");

    // The question, picked with the keyboard: its title changed in the form, the map follows.
    await page.focus('#tree-map g.map-node[data-node-id="start"]');
    await page.keyboard.press("Enter");
    await page.waitForSelector("#node-form");
    expect(await page.inputValue("#node-title")).toBe("Does the problem still happen?");
    await page.fill("#node-title", "Is the badge reader's light red?");
    await page.press("#node-title", "Tab");
    await expect
      .poll(() => page.textContent('#tree-map g.map-node[data-node-id="start"] .node-title'))
      .toContain("Is the badge reader");
    await page.fill("#node-body", "1. Hold the card to the reader.\n2. Watch the light.");
    await page.press("#node-body", "Tab");
    expect(await page.locator("#node-preview ol li").count()).toBe(2);

    // A new node, made an action that leads to the fix, and the question's "Yes" sent to it.
    await page.click("#add-node");
    await page.waitForSelector('#node-form[data-node-index="3"]');
    await page.fill("#node-title", "Re-encode the badge");
    await page.press("#node-title", "Tab");
    await page.selectOption("#node-next", "fixed");
    await page.click('#tree-map g.map-node[data-node-id="start"]');
    await page.waitForSelector('#node-form[data-node-index="0"]');
    await page.selectOption("#option-next-0", "step-1");
    await expect.poll(() => page.locator("#tree-map .edge.broken").count()).toBe(0);
    await browser.screenshot(page, "web-editor-form");
    // At a phone's width the editor still fits: the map scrolls in its own area.
    expect(await browser.phoneScreenshot(page, "web-editor-form")).toBeLessThanOrEqual(0);
    // Zoom: the map scales, and 100 % brings it back.
    const natural = Number(await page.getAttribute("#tree-map svg", "width"));
    await page.click("#zoom-in");
    expect(Number(await page.getAttribute("#tree-map svg", "width"))).toBe(Math.round(natural * 1.25));
    await page.click("#zoom-reset");
    expect(Number(await page.getAttribute("#tree-map svg", "width"))).toBe(natural);

    // The draft runs as a technician would run it, and nothing is recorded.
    await page.click("#preview");
    expect(await page.textContent("#preview-title")).toBe("Is the badge reader's light red?");
    await page.click('#preview-card button.option[data-option-id="yes"]');
    expect(await page.textContent("#preview-title")).toBe("Re-encode the badge");
    await page.click("#preview-continue");
    expect(await page.textContent("#preview-outcome")).toBe("The session ends here: resolved.");
    await browser.screenshot(page, "web-editor-preview");
    await page.click("#preview-back");
    expect(await page.textContent("#preview-title")).toBe("Re-encode the badge");
    await page.click("#preview-close");
    expect(await page.locator("#preview-card").count()).toBe(0);

    await page.click("#save-draft");
    await expect.poll(() => page.textContent("#notice")).toContain("Draft saved (revision 1)");
    const saved = await system.client.call<{ nodes: Array<Record<string, unknown>> }>(
      "GET",
      `/api/v1/trees/${treeId}/draft`,
      { token: (await system.client.login(engineer.email, PASSWORD)).access_token },
    );
    expect(saved.body.nodes[0]).toMatchObject({
      title: "Is the badge reader's light red?",
      body: "1. Hold the card to the reader.\n2. Watch the light.",
      options: [{ id: "yes", label: "Yes", next: "step-1" }, expect.anything()],
    });
    expect(saved.body.nodes[3]).toEqual({
      id: "step-1",
      type: "action",
      title: "Re-encode the badge",
      body: "",
      next: "fixed",
    });
    expect(pageProblems).toEqual([]);
  });
});
