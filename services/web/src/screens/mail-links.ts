/**
 * The pages a mailed link opens: confirm an address, choose a new password, accept an invitation.
 * The token came in the link's query and is already out of the address bar (arrival.ts); each
 * works once, so a page opened again without it says where the link is.
 */
import { ApiError, answerOf, api } from "../api.js";
import { type Child, h, show } from "../dom.js";
import { describeError } from "../error-messages.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { t, wordFor } from "../i18n.js";
import { rich } from "../rich-message.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";

const signInLink = () =>
  h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, t("common.signIn"));

/** How a page ended: a heading, what it means, and the way on. */
function outcome(id: string, title: string, ...lines: Child[]): HTMLElement {
  return h("section", { class: "card narrow", id }, h("h1", {}, title), ...lines);
}

const withoutToken = () =>
  outcome("no-token", t("mailLink.noToken"), h("p", {}, t("mailLink.noTokenText")), signInLink());

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
  show(page.root, outcome("verifying", t("mailLink.verifying")));
  try {
    answerOf(await api.POST("/api/v1/auth/verify-email", { body: { token } }));
    await loginMayHaveEnded();
    show(page.root, outcome("verified", t("mailLink.verified"), h("p", {}, t("mailLink.signInNow")), signInLink()));
  } catch (error) {
    show(
      page.root,
      outcome(
        "link-failed",
        t("mailLink.notVerified"),
        h("p", { class: "form-error" }, describeError(error)),
        h("p", {}, t("mailLink.notVerifiedText")),
        signInLink(),
      ),
    );
  }
}

/** A new password; every login of the account ends, perhaps this tab's (`loginMayHaveEnded`). */
export function resetPasswordScreen(page: Page, token: string, loginMayHaveEnded: () => Promise<void>): void {
  if (!token) return void show(page.root, withoutToken());
  const [passwordLabel, password] = fields.newPassword("new-password", t("mailLink.newPassword"));
  const problem = problemLine();
  const form = cardForm(
    "reset-form",
    t("mailLink.resetTitle"),
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, t("mailLink.resetSubmit")),
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
          t("mailLink.passwordChanged"),
          h("p", {}, t("mailLink.passwordChangedText")),
          signInLink(),
        ),
      );
    },
    whenDeadLink(
      page,
      t("mailLink.deadLink"),
      h("a", { class: "button", href: hashOf({ name: "forgot-password" }) }, t("mailLink.askNewLink")),
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
    t("invite.title"),
    h("p", { class: "muted" }, t("invite.intro")),
    nameLabel,
    fullName,
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, t("invite.submit")),
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
          t("invite.welcome", { name: user.full_name }),
          h("p", {}, ...rich("invite.ready", { email: user.email, role: wordFor("role", user.role) })),
          signInLink(),
        ),
      );
    },
    whenDeadLink(page, t("invite.deadLink"), h("p", {}, t("invite.deadLinkText"))),
  );
  show(page.root, form);
  fullName.focus();
}
