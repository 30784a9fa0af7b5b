import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { t } from "../i18n.js";
import { rich } from "../rich-message.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";
import { resendVerification } from "../verification-resend.js";

/**
 * Signing up: the answer is the same whether or not the address has an account (its owner's mail
 * says which), so the page only ever says where the link went.
 */
export function registerScreen(page: Page): void {
  const [nameLabel, fullName] = fields.fullName();
  const [emailLabel, email] = fields.email("email", t("form.email"), "email");
  const [passwordLabel, password] = fields.newPassword();
  const problem = problemLine();
  const form = cardForm(
    "register-form",
    t("register.title"),
    nameLabel,
    fullName,
    emailLabel,
    email,
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, t("register.submit")),
    h(
      "p",
      { class: "muted aside" },
      ...rich("register.haveAccount", { signIn: (chunks) => h("a", { href: hashOf({ name: "login" }) }, ...chunks) }),
    ),
  );
  onSubmit(form, problem, async () => {
    const address = email.value.trim();
    answerOf(
      await api.POST("/api/v1/auth/register", {
        body: { email: address, password: password.value, full_name: fullName.value.trim() },
      }),
    );
    show(page.root, mailSent(address));
  });
  show(page.root, form);
  fullName.focus();
}

function mailSent(address: string): HTMLElement {
  return h(
    "section",
    { class: "card narrow", id: "mail-sent" },
    h("h1", {}, t("mail.checkYourMail")),
    h("p", {}, ...rich("register.sent", { address })),
    h("p", {}, t("register.openIt")),
    resendVerification(address, t("register.sendAgain")),
    h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, t("common.signIn")),
  );
}
