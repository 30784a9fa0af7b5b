import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";

/** A reset link by mail; the answer (and so the page) is the same whether or not the address has an account. */
export function forgotPasswordScreen(page: Page): void {
  const [emailLabel, email] = fields.email();
  const problem = problemLine();
  const form = cardForm(
    "forgot-form",
    "Forgot your password?",
    h("p", { class: "muted" }, "We mail you a link to choose a new one."),
    emailLabel,
    email,
    problem,
    h("button", { type: "submit" }, "Send reset link"),
    h("p", { class: "muted aside" }, h("a", { href: hashOf({ name: "login" }) }, "Back to sign in")),
  );
  onSubmit(form, problem, async () => {
    const address = email.value.trim();
    answerOf(await api.POST("/api/v1/auth/password/forgot", { body: { email: address } }));
    show(
      page.root,
      h(
        "section",
        { class: "card narrow", id: "mail-sent" },
        h("h1", {}, "Check your mail"),
        h("p", {}, "If an account has this address, a reset link is on its way to ", h("strong", {}, address), "."),
        h("p", { class: "muted" }, "The link works once. Using it signs you out everywhere."),
        h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, "Sign in"),
      ),
    );
  });
  show(page.root, form);
  email.focus();
}
