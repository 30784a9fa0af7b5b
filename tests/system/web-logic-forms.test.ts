/**
 * Issue 30 in the web app, in headless Chromium: an engineer builds, through the editor alone, a
 * tree with variables, a form, a logic node with ordered rules and two solutions (a refused
 * publish shows its problem at the rule's input), publishes it, and a technician runs it: a wrong
 * value shows at its field first, the logic node routes without a step of theirs, and the steps
 * list the values and the rule that held. The translation view puts German beside the tree's own
 * texts; republished, a German browser starts a session in German. An image uploaded into a node's
 * body shows in the editor's preview and in the runner.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { collectPageProblems, launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";

const PASSWORD = "correct-horse-battery";
let system: SystemWithAdmin;
let browser: TestBrowser;
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, "services/web/dist/app.js"))) throw new Error("no services/web/dist: npm run build");
  system = await startSystemWithAdmin();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

/** A new user of `role`, signed in on a page of a browser whose languages are `locale`'s. */
async function signedInPage(
  role: "engineer" | "technician",
  name: string,
  locale = "en-GB",
): Promise<{ page: Page; token: string }> {
  const { client } = system;
  const account = await client.register(client.uniqueEmail(role), PASSWORD, name);
  if (role === "engineer") {
    const promoted = await client.call("PATCH", `/api/v1/auth/users/${account.id}`, {
      token: system.admin,
      json: { role: "engineer" },
    });
    expect(promoted.status).toBe(200);
  }
  const context = await browser.browser.newContext({ locale });
  const page = collectPageProblems(await context.newPage(), pageProblems);
  await page.goto(`${system.system.url}/`);
  await page.fill("#email", account.email);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
  return { page, token: (await client.login(account.email, PASSWORD)).access_token };
}

/** Types into a control and leaves it, as a person does: the editor takes the change then. */
async function type(page: Page, selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
  await page.press(selector, "Tab");
}

const pickNode = (page: Page, id: string) => page.click(`#tree-map g.map-node[data-node-id="${id}"]`);

/** Opens the tree's editor afresh, by way of the trees list. */
async function openEditor(page: Page, treeId: string): Promise<void> {
  await page.evaluate("location.hash = '#/trees'");
  await page.waitForSelector("#tree-list");
  await page.evaluate(`location.hash = '#/tree/${treeId}'`);
  await page.waitForSelector("#review");
}

/** Starts a session of the tree from its start page, as a technician clicks it. */
async function startSession(page: Page, treeId: string): Promise<void> {
  await page.goto(`${system.system.url}/#/start/${treeId}`);
  await page.waitForSelector("#start-form");
  await page.click("#start-form button[type=submit]");
  await page.waitForSelector("#current-node");
}

describe("forms, logic, languages and images in the web app", () => {
  it("builds a tree with variables, a form and a logic node in the editor, and a technician runs it", async () => {
    const { page } = await signedInPage("engineer", "Fay Formbuilder");
    await page.click("#new-draft");
    await page.waitForSelector("#tree-map svg");
    const treeId = /#\/tree\/([0-9a-f-]+)/.exec(page.url())?.[1] as string;

    // Two variables: a number and a choice.
    await page.click("#add-variable");
    await type(page, "#variable-name-0", "pages");
    await page.selectOption("#variable-type-0", "number");
    await page.click("#add-variable");
    await type(page, "#variable-name-1", "tier");
    await page.selectOption("#variable-type-1", "choice");
    await type(page, "#variable-choices-1", "gold, basic");
    await page.selectOption("#variable-default-1", "basic");

    // The question becomes a form of two fields, each filling a variable.
    await pickNode(page, "start");
    await page.selectOption("#node-type", "form");
    await page.waitForSelector("#field-variable-0");
    await type(page, "#node-title", "How much does it print?");
    await type(page, "#field-id-0", "pages");
    await type(page, "#field-label-0", "Pages a day");
    expect(await page.inputValue("#field-variable-0")).toBe("pages");
    expect(await page.textContent("#field-type-0")).toBe("number");
    await type(page, "#field-min-0", "1");
    await type(page, "#field-max-0", "1000");
    await page.click("#add-field");
    await page.selectOption("#field-variable-1", "tier");
    expect(await page.textContent("#field-type-1")).toBe("choice");
    await type(page, "#field-id-1", "tier");
    await type(page, "#field-label-1", "Support tier");

    // A logic node after it, two rules in the order that decides, and a way when none holds.
    await page.click("#add-node");
    await page.waitForSelector('#node-form[data-node-index="3"]');
    await page.selectOption("#node-type", "logic");
    await page.waitForSelector("#rule-when-0");
    await type(page, "#node-id", "route");
    await type(page, "#node-title", "Route by volume");
    await type(page, "#rule-when-0", "pages >");
    await page.selectOption("#rule-next-0", "escalate");
    await page.click("#add-rule");
    await type(page, "#rule-when-1", "tier == 'gold'");
    await page.selectOption("#rule-next-1", "fixed");
    await page.click("#rule-up-1");
    expect(await page.inputValue("#rule-when-0")).toBe("tier == 'gold'");
    expect(await page.inputValue("#rule-when-1")).toBe("pages >");
    await page.selectOption("#node-default-next", "fixed");
    await pickNode(page, "start");
    await page.selectOption("#node-next", "route");

    // The map draws the form's next, each rule and the way when none holds.
    await expect.poll(() => page.locator("#tree-map .edge.broken").count()).toBe(0);
    const labels = await page.locator("#tree-map .edge-label").allTextContents();
    expect(labels).toEqual(expect.arrayContaining(["tier == 'gold'", "pages >", "otherwise"]));

    // Publishing refuses the unfinished rule, and says so at its input.
    await page.fill("#change-note", "Forms and logic");
    await page.click("#publish");
    await page.waitForSelector("#rule-when-1-problem");
    expect(await page.getAttribute("#node-form", "data-node-index")).toBe("3");
    expect(await page.textContent("#rule-when-1-problem")).toMatch(/expression/i);
    expect(await page.getAttribute("#rule-when-1", "aria-invalid")).toBe("true");
    await browser.screenshot(page, "web-logic-forms-rule-problem");
    await type(page, "#rule-when-1", "pages > 100");
    await page.click("#publish");
    await expect.poll(() => page.textContent("#notice")).toBe("Published as version 2.");
    await pickNode(page, "start");
    await browser.screenshot(page, "web-logic-forms-editor");
    expect(await browser.phoneScreenshot(page, "web-logic-forms-editor")).toBeLessThanOrEqual(0);

    // The technician: a wrong value is refused at its field, then the logic node routes.
    const technician = await signedInPage("technician", "Tia Technician");
    await startSession(technician.page, treeId);
    const tech = technician.page;
    expect(await tech.getAttribute("#current-node", "data-node-id")).toBe("start");
    expect(await tech.textContent("#current-node h2")).toBe("How much does it print?");
    expect(await tech.inputValue("#field-tier")).toBe("basic");
    expect(await tech.locator("#field-tier option").allTextContents()).toEqual(["(choose)", "gold", "basic"]);
    await tech.fill("#field-pages", "0");
    await tech.click("#submit-form");
    await tech.waitForSelector("#field-pages[aria-invalid=true]");
    expect(await tech.textContent("#field-pages-problem")).toMatch(/at least 1/i);
    expect(await tech.getAttribute("#current-node", "data-node-id")).toBe("start");
    await browser.screenshot(tech, "web-logic-forms-field-problem");
    await tech.fill("#field-pages", "500");
    await tech.click("#submit-form");
    await tech.waitForSelector('#current-node[data-node-id="escalate"]');
    const steps = await tech.locator("#steps li").allTextContents();
    expect(steps[0]).toContain("Pages a day: 500 · Support tier: basic");
    expect(steps[1]).toContain("Route by volume → rule 2 held");
    await browser.screenshot(tech, "web-logic-forms-run");
    expect(await browser.phoneScreenshot(tech, "web-logic-forms-run")).toBeLessThanOrEqual(0);
    expect(pageProblems).toEqual([]);
  }, 90_000);

  it("translates a tree beside its own texts; republished, a German browser runs it in German", async () => {
    const { page, token } = await signedInPage("engineer", "Tom Translator");
    const created = await system.client.call<{ id: string }>("POST", "/api/v1/trees", {
      token,
      json: printerTree({ title: `Drucker ${Date.now().toString(36)}` }),
    });
    expect(created.status).toBe(201);
    const treeId = created.body.id;

    await openEditor(page, treeId);
    await page.click("#tree-translations");
    await page.waitForSelector("#translation-locales");
    expect(await page.textContent("#translations-intro")).toContain("next version published");
    expect(await page.locator("#no-translations").count()).toBe(1);
    await page.fill("#new-locale", "de");
    await page.click("#add-locale button[type=submit]");
    await page.waitForSelector('#translation-texts[data-locale="de"]');
    const row = (key: string) => `#translation-texts tr[data-key="${key}"]`;
    expect(await page.textContent(`${row("power:title:")} .primary-text`)).toBe("Is the power light on?");
    await page.fill(`${row("power:title:")} textarea`, "Leuchtet die Betriebsanzeige?");
    await page.fill(`${row("power:option_label:yes")} textarea`, "Ja");
    await page.fill(`${row("power:option_label:no")} textarea`, "Nein");
    await page.click("#save-translation");
    await expect
      .poll(() => page.textContent("#notice"))
      .toBe("3 texts saved. Technicians see them from the next published version.");
    expect(await page.textContent('#translation-locales tr[data-locale="de"]')).toMatch(/German \(de\)\s*30/);
    expect(await page.inputValue(`${row("power:title:")} textarea`)).toBe("Leuchtet die Betriebsanzeige?");
    await browser.screenshot(page, "web-translations");
    expect(await browser.phoneScreenshot(page, "web-translations")).toBeLessThanOrEqual(0);

    // Published again from the editor: the new version carries the translation.
    await page.click("#back-to-editor");
    await page.waitForSelector("#review");
    await page.click("#publish");
    await expect.poll(() => page.textContent("#notice")).toBe("Published as version 2.");

    const german = await signedInPage("technician", "Greta Technikerin", "de-DE");
    await german.page.goto(`${system.system.url}/#/start/${treeId}`);
    await german.page.waitForSelector("#start-form");
    expect(await german.page.inputValue("#session-language")).toBe("de");
    expect(await german.page.locator("#session-language option").allTextContents()).toEqual(["English", "Deutsch"]);
    await german.page.click("#start-form button[type=submit]");
    await german.page.waitForSelector('#current-node[data-node-id="power"]');
    expect(await german.page.textContent("#current-node h2")).toBe("Leuchtet die Betriebsanzeige?");
    expect(await german.page.locator("#current-node button.option").allTextContents()).toEqual(["Ja", "Nein"]);
    expect(await german.page.getAttribute("#current-node", "lang")).toBe("de");
    await browser.screenshot(german.page, "web-translations-session-de");
    expect(pageProblems).toEqual([]);
  }, 90_000);

  it("uploads an image into a node's body, shows it in the preview and to the technician", async () => {
    const { page, token } = await signedInPage("engineer", "Ida Imager");
    const created = await system.client.call<{ id: string }>("POST", "/api/v1/trees", {
      token,
      json: printerTree({ title: `Printer with a picture ${Date.now().toString(36)}` }),
    });
    const treeId = created.body.id;
    const png = await sharp({ create: { width: 48, height: 32, channels: 3, background: "#2e8b57" } })
      .png()
      .toBuffer();

    await openEditor(page, treeId);
    await pickNode(page, "power");
    await page.fill("#node-body", "Look at the panel:\n\nThen answer.");
    await page.press("#node-body", "Tab");
    // The caret after "panel:" and the blank line: the image goes there.
    await page.evaluate(
      "(() => { const body = document.querySelector('#node-body'); const at = body.value.indexOf('Then'); body.focus(); body.setSelectionRange(at, at); body.dispatchEvent(new KeyboardEvent('keyup')); })()",
    );
    await page.setInputFiles("#node-image-file", { name: "panel.png", mimeType: "image/png", buffer: png });
    await expect
      .poll(() => page.inputValue("#node-body"))
      .toMatch(/^Look at the panel:\n\n!\[panel\.png\]\(media:[0-9a-f-]+\)Then answer\.$/);
    const shown = (target: Page, selector: string) =>
      target.$eval(selector, (image) => (image as unknown as { naturalWidth: number }).naturalWidth);
    await expect.poll(() => shown(page, "#node-preview img.node-image")).toBe(48);
    expect(await page.getAttribute("#node-preview img.node-image", "alt")).toBe("panel.png");
    await browser.screenshot(page, "web-image-editor");
    await page.click("#publish");
    await expect.poll(() => page.textContent("#notice")).toBe("Published as version 2.");

    const technician = await signedInPage("technician", "Ivo Imageviewer");
    await startSession(technician.page, treeId);
    await expect.poll(() => shown(technician.page, "#current-node img.node-image")).toBe(48);
    expect(await technician.page.getAttribute("#current-node img.node-image", "src")).toMatch(/^blob:/);
    await browser.screenshot(technician.page, "web-image-run");
    expect(pageProblems).toEqual([]);
  }, 90_000);
});
