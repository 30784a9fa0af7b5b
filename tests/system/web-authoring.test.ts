/**
 * Authoring in the web app, as two engineers do it in Chromium: one requires review, drafts and
 * is refused publishing until the other approves that revision; then export to a file, import of
 * that file as a new tree, archive, and restore from the archived trees. And an admin changes a
 * user's role and deactivates another without curl.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { claimsOf } from "@tdt/test-support/api";
import { launchBrowser, type TestBrowser } from "@tdt/test-support/browser";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";
import { COLOURS } from "../../services/web/src/chart-colours.js";

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

/** A new engineer, signed in on a page of their own. */
async function engineerPage(name: string): Promise<{ page: Page; token: string }> {
  const { client } = system;
  const account = await client.register(client.uniqueEmail("engineer"), PASSWORD, name);
  const promoted = await client.call("PATCH", `/api/v1/auth/users/${account.id}`, {
    token: system.admin,
    json: { role: "engineer" },
  });
  expect(promoted.status).toBe(200);
  const page = await (await browser.context()).newPage();
  page.on("pageerror", (error) => pageProblems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) pageProblems.push(message.text());
  });
  await page.goto(`${system.system.url}/`);
  await page.fill("#email", account.email);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
  return { page, token: (await client.login(account.email, PASSWORD)).access_token };
}

/** Opens the tree's editor afresh, by way of the trees list (so that a page already there draws it again). */
const openEditor = async (page: Page, treeId: string) => {
  await page.evaluate("location.hash = '#/trees'");
  await page.waitForSelector("#tree-list");
  await page.evaluate(`location.hash = '#/tree/${treeId}'`);
  await page.waitForSelector(`#review`);
};

it("reviews, publishes, exports, imports, archives and restores a tree in the browser", async () => {
  const author = await engineerPage("Ada Author");
  const reviewer = await engineerPage("Rex Reviewer");
  const title = `Label printer smudges ${Date.now().toString(36)}`;
  const created = await system.client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: author.token,
    json: printerTree({ title }),
  });
  expect(created.status).toBe(201);
  const treeId = created.body.id;

  // The author requires review, edits the title in the form, saves, and is refused publishing.
  await openEditor(author.page, treeId);
  await author.page.check("#review-required");
  await expect.poll(() => author.page.textContent("#notice")).toContain("needs another engineer's approval");
  await author.page.click('#tree-map g.map-node[data-node-id="power"]');
  await author.page.fill("#node-title", "Is the power light on, steady?");
  await author.page.press("#node-title", "Tab");
  await author.page.click("#save-draft");
  await expect.poll(() => author.page.textContent("#notice")).toContain("Draft saved (revision 1)");
  expect(await author.page.textContent("#review-state")).toContain("You saved this revision");
  await author.page.click("#publish");
  await expect.poll(() => author.page.textContent("#notice")).toContain("[review_required]");

  // The reviewer approves that revision.
  await openEditor(reviewer.page, treeId);
  await reviewer.page.fill("#review-comment", "Clearer, thanks");
  await reviewer.page.click("#approve");
  await expect.poll(() => reviewer.page.textContent("#notice")).toBe("Revision 1 approved.");
  await browser.screenshot(reviewer.page, "web-authoring-review");
  expect(await browser.phoneScreenshot(reviewer.page, "web-authoring-review")).toBeLessThanOrEqual(0);

  // Now it publishes.
  await openEditor(author.page, treeId);
  expect(await author.page.textContent("#review-state")).toContain("Revision 1 is approved.");
  await author.page.click("#publish");
  await expect.poll(() => author.page.textContent("#notice")).toBe("Published as version 2.");

  // Export to a file, and import the file as a new tree.
  const [file] = await Promise.all([author.page.waitForEvent("download"), author.page.click("#export-tree")]);
  expect(file.suggestedFilename()).toMatch(/\.tree\.json$/);
  const exported = JSON.parse(await readFile(await file.path(), "utf8")) as { format: string; title: string };
  expect(exported).toMatchObject({ format: "tdt-tree", title });
  await author.page.click('a[href="#/trees"]');
  await author.page.waitForSelector("#authoring-tools");
  await author.page.setInputFiles("#import-file", await file.path());
  await author.page.waitForSelector("#review");
  expect(await author.page.textContent("h1")).toBe(title);
  expect(await author.page.textContent("#tree-status")).toBe("draft");
  const importedId = /#\/tree\/([0-9a-f-]+)/.exec(author.page.url())?.[1];
  expect(importedId).not.toBe(treeId);

  // Archive the original, find it among the archived trees, and restore it.
  await openEditor(author.page, treeId);
  await author.page.click("#archive-tree");
  await author.page.waitForSelector("#tree-list");
  await expect.poll(() => author.page.locator(`#tree-list [data-tree-id="${treeId}"]`).count()).toBe(0);
  await author.page.click("#show-archived");
  const archived = author.page.locator(`#tree-list .archived[data-tree-id="${treeId}"]`);
  await archived.waitFor();
  await browser.screenshot(author.page, "web-authoring-archived");
  await archived.locator("button.restore").click();
  await expect.poll(() => author.page.textContent("#notice")).toContain("is back");
  await author.page.click("#show-archived");
  await author.page.locator(`#tree-list .tree-item[data-tree-id="${treeId}"]`).waitFor();
  expect(pageProblems).toEqual([]);
});

it("saves the draft as the author goes, never for technicians, and stops at another engineer's save", async () => {
  const author = await engineerPage("Sam Saves");
  const { client } = system;
  const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: author.token,
    json: printerTree({ title: `Autosave ${Date.now().toString(36)}` }),
  });
  const treeId = created.body.id;
  const technician = (await client.user("autosave-tech")).tokens.access_token;
  const draftOf = () =>
    client.call<{ draft_revision: number; nodes: Array<{ id: string; title: string }> }>(
      "GET",
      `/api/v1/trees/${treeId}/draft`,
      { token: author.token },
    );
  const titleIn = (nodes: Array<{ id: string; title: string }>) => nodes.find((node) => node.id === "power")?.title;

  await openEditor(author.page, treeId);
  await author.page.click('#tree-map g.map-node[data-node-id="power"]');
  await author.page.fill("#node-title", "Is the power light on, and green?");
  await author.page.press("#node-title", "Tab");
  // No Save pressed: the draft follows within a moment of the pause.
  await expect
    .poll(async () => titleIn((await draftOf()).body.nodes), { timeout: 10_000 })
    .toBe("Is the power light on, and green?");
  expect((await draftOf()).body.draft_revision).toBe(1);
  await expect.poll(() => author.page.textContent("#autosave")).toContain("Saved as you go (revision 1)");
  expect(await author.page.textContent("#draft-revision")).toContain("Draft revision 1");
  // What the draft changes follows the save, ready before publishing.
  await expect.poll(() => author.page.textContent("#draft-diff")).toContain('Node "power": title changed');
  const live = await client.call<{ nodes: Array<{ id: string; title: string }> }>("GET", `/api/v1/trees/${treeId}`, {
    token: technician,
  });
  expect(titleIn(live.body.nodes)).toBe("Is the power light on?");

  // A second change goes on from the revision the first answered.
  await author.page.fill("#node-title", "Is the power light steady green?");
  await author.page.press("#node-title", "Tab");
  await expect.poll(async () => (await draftOf()).body.draft_revision, { timeout: 10_000 }).toBe(2);
  expect(titleIn((await draftOf()).body.nodes)).toBe("Is the power light steady green?");

  // Another engineer saves the draft meanwhile: the author's next change is not saved over it.
  const other = await client.call("PUT", `/api/v1/trees/${treeId}/draft`, {
    token: author.token,
    json: { ...printerTree({ title: "Theirs" }), draft_revision: 2 },
  });
  expect(other.status).toBe(200);
  await author.page.fill("#node-title", "Mine, typed on a stale draft");
  await author.page.press("#node-title", "Tab");
  await expect.poll(() => author.page.textContent("#autosave"), { timeout: 10_000 }).toContain("someone else saved");
  const after = (await draftOf()).body;
  expect(after.draft_revision).toBe(3);
  expect(titleIn(after.nodes)).toBe("Is the power light on?");
  expect(pageProblems).toEqual([]);
}, 60_000);

it("drops a change still waiting to be saved when the draft is discarded", async () => {
  const author = await engineerPage("Dee Discards");
  const { client } = system;
  const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: author.token,
    json: printerTree({ title: `Discard ${Date.now().toString(36)}` }),
  });
  const treeId = created.body.id;
  const saved = await client.call("PUT", `/api/v1/trees/${treeId}/draft`, {
    token: author.token,
    json: { ...printerTree({ title: "A draft to throw away" }), draft_revision: 0 },
  });
  expect(saved.status).toBe(200);
  const draftOf = () =>
    client.call<{ draft_revision: number; nodes: Array<{ id: string; title: string }> }>(
      "GET",
      `/api/v1/trees/${treeId}/draft`,
      { token: author.token },
    );

  // Discarding right after a change drops it: the pending save does not bring the draft back.
  await openEditor(author.page, treeId);
  await author.page.click('#tree-map g.map-node[data-node-id="power"]');
  await author.page.fill("#node-title", "Typed, then thrown away");
  await author.page.click("#discard-draft");
  await expect.poll(() => author.page.textContent("#notice")).toBe("Draft discarded.");
  // Twice the pause the editor waits before it saves.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const discarded = (await draftOf()).body;
  expect(discarded.draft_revision).toBe(0);
  expect(discarded.nodes.find((node) => node.id === "power")?.title).toBe("Is the power light on?");
  expect(pageProblems).toEqual([]);
}, 60_000);

it("lets an admin change a user's role, deactivate another and end a third's lost session, in the browser", async () => {
  const { client } = system;
  const promote = await client.register(client.uniqueEmail("tech"), PASSWORD, "Pat Promoted");
  const traveller = await client.register(client.uniqueEmail("tech"), PASSWORD, "Tess Traveller");
  const lost = await client.login(traveller.email, PASSWORD);
  const kept = await client.login(traveller.email, PASSWORD);
  const leaver = await client.register(client.uniqueEmail("tech"), PASSWORD, "Lee Leaver");
  const page = await (await browser.context()).newPage();
  page.on("pageerror", (error) => pageProblems.push(error.message));
  await page.goto(`${system.system.url}/`);
  await page.fill("#email", ADMIN.email);
  await page.fill("#password", ADMIN.password);
  await page.click("#login-form button[type=submit]");
  await page.click('a[href="#/users"]');
  await page.waitForSelector(`#users tr[data-user-id="${promote.id}"]`);
  // The admin's own row offers neither a role change nor deactivation.
  expect(await page.locator("#users tr", { hasText: "(you)" }).locator("select[disabled]").count()).toBe(1);

  await page.selectOption(`#users tr[data-user-id="${promote.id}"] select.role`, "engineer");
  await expect.poll(() => page.textContent("#notice")).toBe("Pat Promoted is now an engineer.");
  await page.click(`#users tr[data-user-id="${leaver.id}"] button.active-toggle`);
  await expect.poll(() => page.textContent("#notice")).toBe("Lee Leaver is deactivated and signed out.");

  // The traveller lost a phone: the admin ends that session alone.
  const lostSid = claimsOf(lost.refresh_token).sid as string;
  const keptSid = claimsOf(kept.refresh_token).sid as string;
  const travellerRow = page.locator(`#users tr[data-user-id="${traveller.id}"]`);
  await travellerRow.locator("button.show-sessions").click();
  await travellerRow.locator(`li[data-sid="${lostSid}"]`).waitFor();
  expect(await travellerRow.locator("li[data-sid]").count()).toBe(2);
  await browser.screenshot(page, "web-users");
  await travellerRow.locator(`li[data-sid="${lostSid}"] button.end-session`).click();
  await expect.poll(() => page.textContent("#notice")).toBe("One of Tess Traveller's sessions is ended.");
  await expect
    .poll(() =>
      travellerRow.locator("li[data-sid]").evaluateAll((items) => items.map((item) => item.getAttribute("data-sid"))),
    )
    .toEqual([keptSid]);
  await expect
    .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: lost.access_token })).status, {
      timeout: 1500,
    })
    .toBe(401);
  expect((await client.call("GET", "/api/v1/auth/me", { token: kept.access_token })).status).toBe(200);
  expect(await browser.phoneScreenshot(page, "web-users")).toBeLessThanOrEqual(0);

  const users = await client.call<Array<{ id: string; role: string; is_active: boolean }>>(
    "GET",
    "/api/v1/auth/users?limit=100",
    { token: system.admin },
  );
  expect(users.body.find((user) => user.id === promote.id)).toMatchObject({ role: "engineer", is_active: true });
  expect(users.body.find((user) => user.id === leaver.id)).toMatchObject({ is_active: false });
  const refused = await client.call("POST", "/api/v1/auth/login/json", {
    json: { email: leaver.email, password: PASSWORD },
  });
  expect(refused.status).toBe(401);
  expect(pageProblems).toEqual([]);
});

it("shows a tree's analytics: sessions by outcome, where technicians left, the common paths", async () => {
  const author = await engineerPage("Ana Lytics");
  const { client } = system;
  const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: author.token,
    json: printerTree({ title: `Analytics tree ${Date.now().toString(36)}` }),
  });
  const treeId = created.body.id;
  const technician = (await client.user("analytics-tech")).tokens.access_token;
  const run = async (answers: Array<[string, string]>, outcome?: string) => {
    const session = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token: technician,
      json: { tree_id: treeId },
    });
    for (const [node_id, option_id] of answers) {
      const step = await client.call("PUT", `/api/v1/sessions/${session.body.id}`, {
        token: technician,
        json: { op: "answer", node_id, option_id },
      });
      expect(step.status).toBe(200);
    }
    const done = await client.call("POST", `/api/v1/sessions/${session.body.id}/complete`, {
      token: technician,
      json: outcome ? { outcome } : {},
    });
    expect(done.status).toBe(200);
  };
  const resolvedPath: Array<[string, string]> = [
    ["power", "yes"],
    ["paper", "yes"],
  ];
  await run(resolvedPath);
  await run(resolvedPath);
  await run([["power", "no"]], "escalated");

  const count = (label: string) =>
    author.page.textContent(`#chart-sessions tr[data-label="${label}"] td`, { timeout: 5_000 });
  // The projection follows the session events within about a second.
  await expect
    .poll(
      async () => {
        await author.page.evaluate("location.hash = '#/trees'");
        await author.page.waitForSelector("#tree-list");
        await author.page.evaluate(`location.hash = '#/analytics/${treeId}'`);
        await author.page.waitForSelector("#analytics-sessions");
        return count("completed");
      },
      { timeout: 15_000 },
    )
    .toBe("3");
  expect(await count("resolved")).toBe("2");
  expect(await count("escalated")).toBe("1");
  expect(await count("unresolved")).toBe("0");
  expect(await author.page.textContent("#analytics-summary")).toContain("Resolution rate 67 %");
  expect(await author.page.textContent('#analytics-nodes tr[data-node-id="power"]')).toContain("Yes: 2, No: 1");
  expect(await author.page.textContent('#chart-answers tr[data-label="Is the power light on?: Yes"] td')).toBe("2");
  expect(await author.page.locator("#analytics-paths li").count()).toBe(2);
  // Where sessions ended, on the map: two at the toner solution (the most, as a warning), one at
  // the plug action where the escalated session stopped; nowhere else.
  const notes = await author.page.$$eval("#analytics-map .map-node", (nodes) =>
    nodes
      .filter((node) => node.querySelector(".map-note"))
      .map((node) => ({
        id: node.getAttribute("data-node-id"),
        text: node.querySelector(".map-note text")?.textContent,
        strong: node.querySelector(".map-note")?.classList.contains("strong"),
      })),
  );
  expect(notes.sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual([
    { id: "plug", text: "1 ended here", strong: false },
    { id: "toner", text: "2 ended here", strong: true },
  ]);
  // Drawn to scale by Chart.js: the pixels of each bar's own colour on the sessions chart (equal
  // widths, so area goes with height): resolved (2) twice escalated (1), started (3) three times.
  const pixels = (await author.page.$eval(
    "#chart-sessions canvas",
    (element, colours) => {
      const canvas = element as unknown as {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(...box: number[]): { data: ArrayLike<number> } } | null;
      };
      const context = canvas.getContext("2d");
      if (!context) return {};
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      const wanted = Object.entries(colours).map(([name, hex]) => [name, Number.parseInt(hex.slice(1), 16)] as const);
      const found: Record<string, number> = {};
      for (let i = 0; i < data.length; i += 4) {
        const rgb = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
        for (const [name, value] of wanted)
          if (value === rgb && data[i + 3] === 255) found[name] = (found[name] ?? 0) + 1;
      }
      return found;
    },
    COLOURS,
  )) as Record<string, number>;
  const escalated = pixels.escalated ?? 0;
  expect(escalated).toBeGreaterThan(100);
  expect((pixels.resolved ?? 0) / escalated).toBeCloseTo(2, 0);
  expect((pixels.started ?? 0) / escalated).toBeCloseTo(3, 0);
  expect(pixels.unresolved ?? 0).toBe(0);
  // Today's row of the resolution rate over time: two of the three completed sessions resolved.
  expect(await author.page.locator("#chart-days tbody tr").last().locator("td").last().textContent()).toBe("67 % of 3");
  await browser.screenshot(author.page, "web-analytics");
  expect(await browser.phoneScreenshot(author.page, "web-analytics")).toBeLessThanOrEqual(0);
  expect(pageProblems).toEqual([]);
});
