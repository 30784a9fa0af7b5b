/**
 * The pages a mailed link opens: confirm an address, choose a new password, accept an invitation.
 * The token came in the link's query and is already out of the address bar (arrival.ts); each
 * works once, so a page opened again without it says where the link is.
 */
import { ApiError, answerOf, api } from "../api.js";
import { type Child, h, show } from "../dom.js";
import { describeError } from "../error-messages.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";

const signInLink = () => h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, "Sign in");

/** How a page ended: a heading, what it means, and the way on. */
function outcome(id: string, title: string, ...lines: Child[]): HTMLElement {
  return h("section", { class: "card narrow", id }, h("h1", {}, title), ...lines);
}

const withoutToken = () =>
  outcome(
    "no-token",
    "Open the link from your mail",
    h("p", {}, "This page works with the link we mailed you, once. If you used it already, sign in."),
    signInLink(),
  );

/** The link's token is unknown, used or expired: nothing on the page can work any more, so it says what can. */
const whenDeadLink = (page: Page, title: string, wayOn: HTMLElement) => (error: unknown) => {
  if (!(error instanceof ApiError && error.detail === "invalid_mail_token")) return;
  show(page.root, outcome("link-failed", title, h("p", { class: "form-error" }, describeError(error)), wayOn));
};

/**
 * Confirms the address on opening. A change of address ends every login of the account, perhaps
 * this tab's: `loginMayHaveEnded` finds out.
 */
export async function verifyEmailScreen(
  page: Page,
  token: string,
  loginMayHaveEnded: () => Promise<void>,
): Promise<void> {
  if (!token) return void show(page.root, withoutToken());
  show(page.root, outcome("verifying", "Confirming your address…"));
  try {
    answerOf(await api.POST("/api/v1/auth/verify-email", { body: { token } }));
    await loginMayHaveEnded();
    show(
      page.root,
      outcome("verified", "Your email address is confirmed", h("p", {}, "Sign in with it now."), signInLink()),
    );
  } catch (error) {
    show(
      page.root,
      outcome(
        "link-failed",
        "Your address is not confirmed",
        h("p", { class: "form-error" }, describeError(error)),
        h("p", {}, "Sign in: if your address still needs confirming, you can have a new link sent there."),
        signInLink(),
      ),
    );
  }
}

/** A new password; every login of the account ends, perhaps this tab's (`loginMayHaveEnded`). */
export function resetPasswordScreen(page: Page, token: string, loginMayHaveEnded: () => Promise<void>): void {
  if (!token) return void show(page.root, withoutToken());
  const [passwordLabel, password] = fields.newPassword("new-password", "New password");
  const problem = problemLine();
  const form = cardForm(
    "reset-form",
    "Choose a new password",
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, "Set password"),
  );
  onSubmit(
    form,
    problem,
    async () => {
      answerOf(await api.POST("/api/v1/auth/password/reset", { body: { token, password: password.value } }));
      await loginMayHaveEnded();
      show(
        page.root,
        outcome(
          "password-changed",
          "Your password is changed",
          h("p", {}, "Every login of your account has ended. Sign in with the new password."),
          signInLink(),
        ),
      );
    },
    whenDeadLink(
      page,
      "This link cannot be used",
      h("a", { class: "button", href: hashOf({ name: "forgot-password" }) }, "Ask for a new link"),
    ),
  );
  show(page.root, form);
  password.focus();
}

/** The invited person names themselves and chooses a password: an account with the invited role. */
export function acceptInviteScreen(page: Page, token: string): void {
  if (!token) return void show(page.root, withoutToken());
  const [nameLabel, fullName] = fields.fullName();
  const [passwordLabel, password] = fields.newPassword();
  const problem = problemLine();
  const form = cardForm(
    "accept-form",
    "Accept your invitation",
    h("p", { class: "muted" }, "Your account's address is the one the invitation came to."),
    nameLabel,
    fullName,
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, "Create my account"),
  );
  onSubmit(
    form,
    problem,
    async () => {
      const user = answerOf(
        await api.POST("/api/v1/auth/invites/accept", {
          body: { token, password: password.value, full_name: fullName.value.trim() },
        }),
      );
      show(
        page.root,
        outcome(
          "invite-accepted",
          `Welcome, ${user.full_name}`,
          h("p", {}, "Your account ", h("strong", {}, user.email), ` is ready, as ${user.role}. Sign in with it now.`),
          signInLink(),
        ),
      );
    },
    whenDeadLink(
      page,
      "This invitation cannot be used",
      h("p", {}, "Ask the administrator who invited you for a new invitation."),
    ),
  );
  show(page.root, form);
  fullName.focus();
}
