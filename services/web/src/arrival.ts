/**
 * What the address brought when the page opened: a mailed link's token (`/reset-password?token=…`),
 * or a single sign-on provider's return (`?code=`, `?error=`, `?linked=`). It is read once and
 * leaves the address bar at once, so history, a reload or a shared screen cannot repeat or leak it;
 * a mailed link's page goes on at its hash route (`/#/reset-password`).
 */
import { hashOf, isMailPage, type MailPage } from "./router.js";

export type Arrival =
  | { kind: "mail-link"; page: MailPage; token: string }
  | { kind: "signed-in-at-provider"; code: string }
  | { kind: "refused-by-provider"; error: string }
  | { kind: "linked"; provider: string }
  | { kind: "none" };

export function takeArrival(): Arrival {
  const query = new URLSearchParams(location.search);
  const page = location.pathname.replace(/^\//, "");
  const mailPage = isMailPage(page) ? page : undefined;
  const brought = ["token", "code", "error", "linked"].some((name) => query.has(name));
  if (!mailPage && !brought) return { kind: "none" };

  history.replaceState(null, "", mailPage ? `/${hashOf({ name: mailPage })}` : `${location.pathname}${location.hash}`);
  if (mailPage) return { kind: "mail-link", page: mailPage, token: query.get("token") ?? "" };
  const code = query.get("code");
  if (code !== null) return { kind: "signed-in-at-provider", code };
  const linked = query.get("linked");
  if (linked !== null) return { kind: "linked", provider: linked };
  const error = query.get("error");
  return error !== null ? { kind: "refused-by-provider", error } : { kind: "none" };
}
