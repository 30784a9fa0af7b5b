import { h, show } from "../dom.js";
import { describeError } from "../error-messages.js";
import { signIn, signInProviders } from "../session.js";

/** The login form; `signedIn` runs once the tokens are in memory. */
export function loginScreen(root: HTMLElement, signedIn: () => Promise<void>): void {
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const problem = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    { class: "card narrow", id: "login-form" },
    h("h1", {}, "Log in"),
    h("label", { for: "email" }, "Email"),
    email,
    h("label", { for: "password" }, "Password"),
    password,
    problem,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    problem.textContent = "";
    try {
      await signIn(email.value.trim(), password.value);
      await signedIn();
    } catch (error) {
      problem.textContent = describeError(error);
      submit.disabled = false;
    }
  });
  show(root, form);
  email.focus();
  void offerProviders(form);
}

/** A button per single sign-on provider: the browser goes to it, and comes back here with a code. */
async function offerProviders(form: HTMLElement): Promise<void> {
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
  form.append(h("p", { class: "or" }, "or"), ...buttons);
}
