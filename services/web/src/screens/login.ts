import { ApiError } from "../api-error.js";
import { h, show } from "../dom.js";
import { cardForm, fields, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import { signIn, signInProviders } from "../session.js";
import { resendVerification } from "../verification-resend.js";

/** The login form; `signedIn` runs once the tokens are in memory. */
export function loginScreen(root: HTMLElement, signedIn: () => Promise<void>): void {
  const [emailLabel, email] = fields.email();
  const [passwordLabel, password] = fields.currentPassword();
  const problem = problemLine();
  // An address not confirmed yet: the way on is a new link, to the address just typed.
  const resend = h("div");
  const providers = h("div", { class: "providers" });
  const form = cardForm(
    "login-form",
    "Log in",
    emailLabel,
    email,
    passwordLabel,
    password,
    h("a", { id: "forgot-password", class: "aside", href: hashOf({ name: "forgot-password" }) }, "Forgot password?"),
    problem,
    resend,
    h("button", { type: "submit" }, "Log in"),
    providers,
    h(
      "p",
      { class: "muted aside" },
      "New here? ",
      h("a", { id: "register", href: hashOf({ name: "register" }) }, "Create an account"),
    ),
  );
  onSubmit(
    form,
    problem,
    async () => {
      show(resend);
      await signIn(email.value.trim(), password.value);
      await signedIn();
    },
    (error) => {
      if (error instanceof ApiError && error.detail === "email_not_verified") {
        show(resend, resendVerification(email.value.trim(), "Send the link again"));
      }
    },
  );
  show(root, form);
  email.focus();
  void offerProviders(providers);
}

/** A button per single sign-on provider: the browser goes to it, and comes back here with a code. */
async function offerProviders(slot: HTMLElement): Promise<void> {
  const providers = await signInProviders().catch(() => []);
  if (providers.length === 0) return;
  const returnTo = `${location.origin}${location.pathname}`;
  const buttons = providers.map((provider) =>
    h(
      "a",
      {
        class: "button sso",
        "data-provider": provider.id,
        href: `/api/v1/auth/oidc/${encodeURIComponent(provider.id)}/authorize?return_to=${encodeURIComponent(returnTo)}`,
      },
      `Sign in with ${provider.name}`,
    ),
  );
  show(slot, h("p", { class: "or" }, "or"), ...buttons);
}
