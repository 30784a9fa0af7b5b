/** What every screen gets: where to draw, who is logged in, and a line to tell them something. */
import type { User } from "./api.js";
import { describeError } from "./error-messages.js";

export interface Screen {
  /** The screen's own element: a screen left behind keeps drawing into a detached one, harmlessly. */
  root: HTMLElement;
  user: User;
  notify(message: string, kind?: "error" | "info"): void;
  /** Shows an error by its sentence and code. */
  fail(error: unknown): void;
}

export function screenIn(root: HTMLElement, user: User, notice: HTMLElement): Screen {
  const notify = (message: string, kind: "error" | "info" = "info") => {
    notice.textContent = message;
    notice.className = kind;
    notice.hidden = false;
  };
  return { root, user, notify, fail: (error) => notify(describeError(error), "error") };
}

export const canAuthor = (user: User) => user.role === "engineer" || user.role === "admin";
