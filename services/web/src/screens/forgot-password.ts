import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { t } from "../i18n.js";
import { rich } from "../rich-message.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";

/** A reset link by mail; the answer (and so the page) is the same whether or not the address has an account. */
export function forgotPasswordScreen(page: Page): void {
  const [emailLabel, email] = fields.email();
  const problem = problemLine();
  const form = cardForm(
    "forgot-form",
    t("forgot.title"),
    h("p", { class: "muted" }, t("forgot.intro")),
    emailLabel,
    email,
    problem,
    h("button", { type: "submit" }, t("forgot.submit")),
    h("p", { class: "muted aside" }, h("a", { href: hashOf({ name: "login" }) }, t("forgot.backToSignIn"))),
  );
  onSubmit(form, problem, async () => {
    const address = email.value.trim();
    answerOf(await api.POST("/api/v1/auth/password/forgot", { body: { email: address } }));
    show(
      page.root,
      h(
        "section",
        { class: "card narrow", id: "mail-sent" },
        h("h1", {}, t("mail.checkYourMail")),
        h("p", {}, ...rich("forgot.sent", { address })),
        h("p", { class: "muted" }, t("forgot.worksOnce")),
        h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, t("common.signIn")),
      ),
    );
  });
  show(page.root, form);
  email.focus();
}
