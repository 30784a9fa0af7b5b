/** What every screen gets: where to draw, a line to tell them something, and (behind the login) who is logged in. */
import type { Me, User } from "./api.js";
import { describeError } from "./error-messages.js";

/** A page anyone may open, signed in or not. */
export interface Page {
  /** The screen's own element: a screen left behind keeps drawing into a detached one, harmlessly. */
  root: HTMLElement;
  notify(message: string, kind?: "error" | "info"): void;
  /** Takes the notice away (an error that a retry has since put right). */
  clear(): void;
  /** Shows an error by its sentence and code. */
  fail(error: unknown): void;
}

/** A screen behind the login. */
export interface Screen extends Page {
  /** Who is signed in, and the organization they act in. */
  user: Me;
}

/** Shows `message` in the page's notice line. */
export function tell(notice: HTMLElement, message: string, kind: "error" | "info" = "info"): void {
  notice.textContent = message;
  notice.className = kind;
  notice.hidden = false;
}

export function pageIn(root: HTMLElement, notice: HTMLElement): Page {
  const notify = (message: string, kind: "error" | "info" = "info") => tell(notice, message, kind);
  return {
    root,
    notify,
    clear: () => {
      notice.hidden = true;
    },
    fail: (error) => notify(describeError(error), "error"),
  };
}

export function screenIn(root: HTMLElement, user: Me, notice: HTMLElement): Screen {
  return { ...pageIn(root, notice), user };
}

export const canAuthor = (user: User) => user.role === "engineer" || user.role === "admin";
