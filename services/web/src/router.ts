/**
 * Hash routes (`#/session/<id>`). The server serves `/`, the assets, and the pages mailed links
 * open by path (`/verify-email?token=…`), which arrival.ts turns into their hash routes at once.
 */

/** The pages a mailed link opens, by path; the gateway serves the app at each (services/gateway/src/api/web.ts). */
export const MAIL_PAGES = ["verify-email", "reset-password", "accept-invite", "forgot-password"] as const;
export type MailPage = (typeof MAIL_PAGES)[number];

/** Pages anyone may open, signed in or not: signing up, and what mailed links open. */
export type PublicPage = MailPage | "register";
const PUBLIC_PAGES: readonly string[] = [...MAIL_PAGES, "register"];

export type Route =
  | { name: "login" }
  | { name: PublicPage }
  | { name: "account" }
  | { name: "trees"; query: string }
  | { name: "start"; treeId: string }
  | { name: "session"; sessionId: string }
  | { name: "sessions" }
  | { name: "users" }
  | { name: "organization" }
  | { name: "tree"; treeId: string }
  | { name: "analytics"; treeId: string }
  /** A tree's translations: the locales, or with `locale` the texts beside their translation into it. */
  | { name: "translations"; treeId: string; locale?: string };

export const isMailPage = (name: string): name is MailPage => (MAIL_PAGES as readonly string[]).includes(name);

export const isPublic = (route: Route): route is { name: PublicPage } => PUBLIC_PAGES.includes(route.name);

export function routeOf(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", id = "", detail = ""] = path.split("/").map(decodeURIComponent);
  if (PUBLIC_PAGES.includes(name)) return { name: name as PublicPage };
  switch (name) {
    case "login":
      return { name: "login" };
    case "account":
      return { name: "account" };
    case "start":
      return { name: "start", treeId: id };
    case "session":
      return { name: "session", sessionId: id };
    case "sessions":
      return { name: "sessions" };
    case "users":
      return { name: "users" };
    case "organization":
      return { name: "organization" };
    case "tree":
      return { name: "tree", treeId: id };
    case "analytics":
      return { name: "analytics", treeId: id };
    case "translations":
      return detail ? { name: "translations", treeId: id, locale: detail } : { name: "translations", treeId: id };
    default:
      return { name: "trees", query: new URLSearchParams(search).get("q") ?? "" };
  }
}

export function hashOf(route: Route): string {
  switch (route.name) {
    case "trees":
      return route.query ? `#/trees?${new URLSearchParams({ q: route.query })}` : "#/trees";
    case "start":
      return `#/start/${encodeURIComponent(route.treeId)}`;
    case "session":
      return `#/session/${encodeURIComponent(route.sessionId)}`;
    case "tree":
      return `#/tree/${encodeURIComponent(route.treeId)}`;
    case "analytics":
      return `#/analytics/${encodeURIComponent(route.treeId)}`;
    case "translations":
      return `#/translations/${encodeURIComponent(route.treeId)}${route.locale ? `/${encodeURIComponent(route.locale)}` : ""}`;
    default:
      return `#/${route.name}`;
  }
}

/** Shows `route`; with `replace`, in place of the page it leaves in the browser's history. */
export function go(route: Route, options: { replace?: boolean } = {}): void {
  if (options.replace) location.replace(hashOf(route));
  else location.hash = hashOf(route);
}
