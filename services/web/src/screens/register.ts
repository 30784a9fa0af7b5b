import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import type { Page } from "../screen.js";
import { resendVerification } from "../verification-resend.js";

/**
 * Signing up: the answer is the same whether or not the address has an account (its owner's mail
 * says which), so the page only ever says where the link went.
 */
export function registerScreen(page: Page): void {
  const [nameLabel, fullName] = fields.fullName();
  const [emailLabel, email] = fields.email("email", "Email", "email");
  const [passwordLabel, password] = fields.newPassword();
  const problem = problemLine();
  const form = cardForm(
    "register-form",
    "Create an account",
    nameLabel,
    fullName,
    emailLabel,
    email,
    passwordLabel,
    password,
    problem,
    h("button", { type: "submit" }, "Create account"),
    h("p", { class: "muted aside" }, "Have an account? ", h("a", { href: hashOf({ name: "login" }) }, "Sign in")),
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
    h("h1", {}, "Check your mail"),
    h("p", {}, "We sent a link to ", h("strong", {}, address), "."),
    h("p", {}, "Open it to confirm your address, then sign in. The link works once."),
    resendVerification(address, "Send it again"),
    h("a", { class: "button", id: "sign-in", href: hashOf({ name: "login" }) }, "Sign in"),
  );
}
