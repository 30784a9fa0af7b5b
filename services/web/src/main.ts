/**
 * The web app: one screen per hash route, behind a login, besides the pages anyone may open
 * (signing up, and what mailed links open); the nav follows the user's role.
 */
import { answerOf, api, type Me, type Organization } from "./api.js";
import { type Arrival, takeArrival } from "./arrival.js";
import { h, show } from "./dom.js";
import { describeError, ssoErrorMessage } from "./error-messages.js";
import { currentLanguage, shippedLanguages, t, wordFor } from "./i18n.js";
import { chooseLanguage, useBrowserLanguage } from "./language-choice.js";
import { go, hashOf, isPublic, type MailPage, type PublicPage, type Route, routeOf } from "./router.js";
import { canAuthor, type Page, pageIn, screenIn, tell } from "./screen.js";
import { accountScreen } from "./screens/account.js";
import { forgotPasswordScreen } from "./screens/forgot-password.js";
import { loginScreen } from "./screens/login.js";
import { acceptInviteScreen, resetPasswordScreen, verifyEmailScreen } from "./screens/mail-links.js";
import { mySessionsScreen } from "./screens/my-sessions.js";
import { organizationScreen } from "./screens/organization.js";
import { registerScreen } from "./screens/register.js";
import { runSessionScreen } from "./screens/run-session.js";
import { startSessionScreen } from "./screens/start-session.js";
import { treeEditorScreen } from "./screens/tree-editor.js";
import { treeListScreen } from "./screens/tree-list.js";
import { treeTranslationsScreen } from "./screens/tree-translations.js";
import { usersScreen } from "./screens/users.js";
import { isSignedIn, onSignedOut, resume, signInWithCode, signOut, switchOrganization } from "./session.js";

const main = document.getElementById("screen") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const notice = document.getElementById("notice") as HTMLElement;

let user: Me | undefined;
/** The organizations the user belongs to: the switcher's, when there are two or more. */
let organizations: Organization[] = [];
/** Where a visitor was going when the login screen stopped them. */
let afterLogin: Route = { name: "trees", query: "" };
/** What the address brought: read once, by the screen it is for. */
let arrival: Arrival = { kind: "none" };
/** A notice for the next screen drawn (one from before the first screen would be hidden by it). */
let pendingNotice: { message: string; kind: "error" | "info" } | undefined;

function render(): void {
  document.title = t("app.title");
  notice.hidden = true;
  if (pendingNotice) tell(notice, pendingNotice.message, pendingNotice.kind);
  pendingNotice = undefined;
  // A fresh element per screen: an earlier screen still loading draws into its own, detached one.
  const root = h("div", { class: "screen" });
  show(main, root);
  const route = routeOf(location.hash);
  const signedIn = user !== undefined && isSignedIn();
  drawNav(signedIn ? user : undefined);
  if (isPublic(route)) return void publicPage(pageIn(root, notice), route.name);
  if (!user || !signedIn) {
    if (route.name !== "login") afterLogin = route;
    loginScreen(root, async () => {
      await loadUser();
      const next = afterLogin;
      afterLogin = { name: "trees", query: "" };
      if (location.hash === hashOf(next)) render();
      else go(next);
    });
    return;
  }
  const screen = screenIn(root, user, notice);
  switch (route.name) {
    case "login":
    case "trees":
      return void treeListScreen(screen, route.name === "trees" ? route.query : "");
    case "account":
      return void accountScreen(screen, take("linked")?.provider);
    case "start":
      return void startSessionScreen(screen, route.treeId);
    case "session":
      return void runSessionScreen(screen, route.sessionId);
    case "sessions":
      return void mySessionsScreen(screen);
    case "analytics":
      // In a chunk of its own with the charting library: only authors who open it load it.
      return void (canAuthor(user)
        ? import("./screens/tree-analytics.js").then(({ treeAnalyticsScreen }) =>
            treeAnalyticsScreen(screen, route.treeId),
          )
        : treeListScreen(screen, ""));
    case "users":
      return void (user.role === "admin" ? usersScreen(screen) : treeListScreen(screen, ""));
    case "organization":
      return void (administers(user) ? organizationScreen(screen, user.organization) : treeListScreen(screen, ""));
    case "tree":
      // Authoring is for engineers and admins; anyone else lands on the trees they can run.
      return void (canAuthor(user) ? treeEditorScreen(screen, route.treeId) : treeListScreen(screen, ""));
    case "translations":
      return void (canAuthor(user)
        ? treeTranslationsScreen(screen, route.treeId, route.locale)
        : treeListScreen(screen, ""));
  }
}

/** The pages anyone may open; a mailed link's page gets the link's token, once. */
function publicPage(page: Page, name: PublicPage): void {
  switch (name) {
    case "register":
      return void registerScreen(page);
    case "forgot-password":
      return void forgotPasswordScreen(page);
    case "verify-email":
      return void verifyEmailScreen(page, tokenFor(name), loginMayHaveEnded);
    case "reset-password":
      return void resetPasswordScreen(page, tokenFor(name), loginMayHaveEnded);
    case "accept-invite":
      return void acceptInviteScreen(page, tokenFor(name));
  }
}

/**
 * After a mailed link that ends every login of its account: if this tab's was one, its refresh
 * fails and `onSignedOut` below tells so.
 */
async function loginMayHaveEnded(): Promise<void> {
  if (isSignedIn()) await resume().catch(() => false);
}

/** The arrival of this kind, taken: a second look finds nothing. */
function take<K extends Arrival["kind"]>(kind: K): Extract<Arrival, { kind: K }> | undefined {
  if (arrival.kind !== kind) return undefined;
  const taken = arrival as Extract<Arrival, { kind: K }>;
  arrival = { kind: "none" };
  return taken;
}

function tokenFor(page: MailPage): string {
  return arrival.kind === "mail-link" && arrival.page === page ? (take("mail-link")?.token ?? "") : "";
}

/** The signed-in user, and the organizations they belong to. */
async function loadUser(): Promise<void> {
  user = answerOf(await api.GET("/api/v1/auth/me"));
  organizations = await api
    .GET("/api/v1/organizations")
    .then((answer) => answerOf(answer).organizations)
    .catch(() => []);
}

/** Who administers the organization they act in: its admins, and the platform's. */
const administers = (current: Me) => current.organization.role === "admin" || current.is_platform_admin;

/** The organization switcher: a new login in the one chosen, then its trees. */
function switcher(current: Me): HTMLElement | null {
  if (organizations.length < 2) return null;
  const select = h(
    "select",
    { id: "organization-switcher", "aria-label": t("nav.organizationSwitcher") },
    ...organizations.map((org) => h("option", { value: org.id }, org.name)),
  );
  select.value = current.organization.id;
  select.addEventListener("change", async () => {
    select.disabled = true;
    try {
      await switchOrganization(select.value);
      await loadUser();
      const organization = user?.organization.name ?? t("nav.theOrganization");
      pendingNotice = { message: t("nav.switched", { organization }), kind: "info" };
      if (location.hash === hashOf({ name: "trees", query: "" })) render();
      else go({ name: "trees", query: "" });
    } catch (error) {
      select.value = current.organization.id;
      select.disabled = false;
      tell(notice, describeError(error), "error");
    }
  });
  return select;
}

/**
 * The language switcher, on every screen: the choice is kept in this browser, and the screen is
 * drawn again in it at once (no reload), focus back on the switcher.
 */
function languageSwitcher(): HTMLElement {
  const select = h(
    "select",
    { id: "language-switcher", "aria-label": t("language.label") },
    ...shippedLanguages().map(({ code, name }) => h("option", { value: code, lang: code }, name)),
  );
  select.value = currentLanguage();
  select.addEventListener("change", () => {
    chooseLanguage(select.value);
    render();
    document.getElementById("language-switcher")?.focus();
  });
  return select;
}

function drawNav(current: Me | undefined): void {
  if (!current) {
    show(nav, languageSwitcher());
    return;
  }
  const logout = h("button", { id: "logout", class: "link" }, t("nav.logOut"));
  logout.addEventListener("click", async () => {
    const providerLogout = await signOut();
    user = undefined;
    // Signed in through a provider: sign out there too, which comes back to this page.
    if (providerLogout) return location.assign(providerLogout);
    if (location.hash === hashOf({ name: "login" })) render();
    else go({ name: "login" });
  });
  show(
    nav,
    h("a", { href: hashOf({ name: "trees", query: "" }) }, t("nav.trees")),
    h("a", { href: hashOf({ name: "sessions" }) }, t("nav.mySessions")),
    h("a", { href: hashOf({ name: "account" }) }, t("nav.account")),
    current.role === "admin" ? h("a", { href: hashOf({ name: "users" }) }, t("nav.users")) : null,
    administers(current) ? h("a", { href: hashOf({ name: "organization" }) }, t("nav.organization")) : null,
    switcher(current),
    h(
      "span",
      { class: "who", id: "who" },
      t("nav.who", { name: current.full_name, role: wordFor("role", current.role) }),
    ),
    logout,
    languageSwitcher(),
  );
}

onSignedOut(() => {
  user = undefined;
  // A page anyone may open stays as it is (it may be showing what a mailed link did).
  if (isPublic(routeOf(location.hash))) drawNav(undefined);
  else render();
  tell(notice, t("app.loginEnded"), "error");
});

/**
 * Back from a single sign-on provider with a one-time code: traded for a login. A refusal
 * (`?error=`) is told on the first screen.
 */
async function backFromProvider(): Promise<boolean> {
  const refused = take("refused-by-provider");
  if (refused) pendingNotice = { message: ssoErrorMessage(refused.error), kind: "error" };
  const signedIn = take("signed-in-at-provider");
  if (!signedIn) return false;
  try {
    await signInWithCode(signedIn.code);
    return true;
  } catch (problem) {
    pendingNotice = { message: describeError(problem), kind: "error" };
    return false;
  }
}

/** A reload keeps the login: the refresh cookie gives this page a new access token. */
async function start(): Promise<void> {
  // First of all: a token or code in the address leaves it.
  arrival = takeArrival();
  useBrowserLanguage();
  if ((await backFromProvider()) || (await resume().catch(() => false))) {
    await loadUser().catch(() => {
      user = undefined;
    });
  }
  window.addEventListener("hashchange", render);
  render();
}

void start();
