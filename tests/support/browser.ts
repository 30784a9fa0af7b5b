/**
 * Headless Chromium for tests whose user is a browser: Debian's `chromium` (never a download),
 * driven by playwright-core. `.ci/run` installs the package when it is missing.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where screenshots of a run are kept (`TEST_SCREENSHOT_DIR`, default test-results/screenshots). */
export const SCREENSHOT_DIR = process.env.TEST_SCREENSHOT_DIR ?? join(process.cwd(), "test-results", "screenshots");

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies and storage): one per simulated user or tab group. */
  context(): Promise<BrowserContext>;
  /** Saves a full-page screenshot as `<SCREENSHOT_DIR>/<name>.png` and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /**
   * Saves `<name>-phone.png` with the page at a phone's width (390 × 844), then puts the page back
   * to the size it had; returns by how many pixels the page was wider than the phone's screen
   * (0 or less when nothing was).
   */
  phoneScreenshot(page: Page, name: string): Promise<number>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** More Chromium switches, e.g. `--host-resolver-rules=MAP docs.test 127.0.0.1` for a non-localhost name. */
  args?: string[];
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // As root, without a sandbox; the rest keeps Chromium off a network it cannot reach.
    // playwright gives each launch a fresh temporary profile of its own.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(options.args ?? []),
    ],
  });
  const tested: TestBrowser = {
    browser,
    context: () => browser.newContext(),
    async screenshot(page, name) {
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async phoneScreenshot(page, name) {
      const size = page.viewportSize();
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        await tested.screenshot(page, `${name}-phone`);
        return Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
      } finally {
        if (size) await page.setViewportSize(size);
      }
    },
    close: () => browser.close(),
  };
  return tested;
}

/** Collects into `problems` what goes wrong inside `page`: uncaught errors, and anything its CSP refused. */
export function collectPageProblems(page: Page, problems: string[]): Page {
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  return page;
}

/** The web app at `baseUrl` on `page`, signed in with a password: once it shows the signed-in header. */
export async function signedIn(page: Page, baseUrl: string, email: string, password: string): Promise<Page> {
  await page.goto(`${baseUrl}/`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#logout");
  return page;
}

/** At a local dev issuer's pages (scripts/oidc-dev-issuer.ts): any login and password, then consent when it asks. */
export async function signInAtIssuerPage(page: Page, issuer: string, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any password");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  // The consent page, the first time this browser signs in to this client.
  if (await page.$('input[name="prompt"][value="consent"]')) {
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
}
