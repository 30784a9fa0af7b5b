/** The web app: one screen per hash route, behind a login; the nav follows the user's role. */
import { answerOf, api, type User } from "./api.js";
import { h, show } from "./dom.js";
import { describeError, ssoErrorMessage } from "./error-messages.js";
import { go, hashOf, type Route, routeOf } from "./router.js";
import { canAuthor, screenIn } from "./screen.js";
import { loginScreen } from "./screens/login.js";
import { mySessionsScreen } from "./screens/my-sessions.js";
import { runSessionScreen } from "./screens/run-session.js";
import { startSessionScreen } from "./screens/start-session.js";
import { treeEditorScreen } from "./screens/tree-editor.js";
import { treeListScreen } from "./screens/tree-list.js";
import { isSignedIn, onSignedOut, resume, signInWithCode, signOut } from "./session.js";

const main = document.getElementById("screen") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const notice = document.getElementById("notice") as HTMLElement;

let user: User | undefined;
/** Where a visitor was going when the login screen stopped them. */
let afterLogin: Route = { name: "trees", query: "" };

function render(): void {
  notice.hidden = true;
  // A fresh element per screen: an earlier screen still loading draws into its own, detached one.
  const root = h("div", { class: "screen" });
  show(main, root);
  const route = routeOf(location.hash);
  if (!user || !isSignedIn()) {
    if (route.name !== "login") afterLogin = route;
    drawNav(undefined);
    loginScreen(root, async () => {
      user = answerOf(await api.GET("/api/v1/auth/me"));
      const next = afterLogin;
      afterLogin = { name: "trees", query: "" };
      if (location.hash === hashOf(next)) render();
      else go(next);
    });
    return;
  }
  drawNav(user);
  const screen = screenIn(root, user, notice);
  switch (route.name) {
    case "login":
    case "trees":
      return void treeListScreen(screen, route.name === "trees" ? route.query : "");
    case "start":
      return void startSessionScreen(screen, route.treeId);
    case "session":
      return void runSessionScreen(screen, route.sessionId);
    case "sessions":
      return void mySessionsScreen(screen);
    case "tree":
      // Authoring is for engineers and admins; anyone else lands on the trees they can run.
      return void (canAuthor(user) ? treeEditorScreen(screen, route.treeId) : treeListScreen(screen, ""));
  }
}

function drawNav(current: User | undefined): void {
  if (!current) {
    show(nav);
    return;
  }
  const logout = h("button", { id: "logout", class: "link" }, "Log out");
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
    h("a", { href: hashOf({ name: "trees", query: "" }) }, "Trees"),
    h("a", { href: hashOf({ name: "sessions" }) }, "My sessions"),
    h("span", { class: "who", id: "who" }, `${current.full_name} (${current.role})`),
    logout,
  );
}

onSignedOut(() => {
  user = undefined;
  render();
  notice.textContent = "Your login ended. Please log in again.";
  notice.className = "error";
  notice.hidden = false;
});
/**
 * Back from a single sign-on provider, the URL holds `code` (traded for a login here) or `error`
 * (shown); either way it leaves the address bar, so a reload or a shared link does not repeat it.
 */
async function backFromProvider(): Promise<boolean> {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  const error = query.get("error");
  if (code === null && error === null) return false;
  history.replaceState(null, "", `${location.pathname}${location.hash}`);
  try {
    if (code === null) throw new Error(ssoErrorMessage(error ?? ""));
    await signInWithCode(code);
    return true;
  } catch (problem) {
    notice.textContent = problem instanceof Error && code === null ? problem.message : describeError(problem);
    notice.className = "error";
    notice.hidden = false;
    return false;
  }
}

/** A reload keeps the login: the refresh cookie gives this page a new access token. */
async function start(): Promise<void> {
  if (await backFromProvider()) {
    user = await api
      .GET("/api/v1/auth/me")
      .then(answerOf)
      .catch(() => undefined);
  } else if (await resume().catch(() => false)) {
    user = await api
      .GET("/api/v1/auth/me")
      .then(answerOf)
      .catch(() => undefined);
  }
  window.addEventListener("hashchange", render);
  render();
}

void start();
