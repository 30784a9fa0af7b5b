import { ApiError } from "../api-error.js";
import { h, show } from "../dom.js";
import { cardForm, field, fields, onSubmit, problemLine } from "../form.js";
import { t } from "../i18n.js";
import { rich } from "../rich-message.js";
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
  const organizationProviders = h("div", { class: "providers", id: "organization-providers" });
  const [slugLabel, slug] = field(t("login.organizationSlug"), {
    id: "organization-slug",
    autocomplete: "organization",
  });
  const organizationForm = h(
    "form",
    { id: "organization-sso", class: "aside" },
    slugLabel,
    slug,
    h("button", { type: "submit" }, t("login.findSso")),
    organizationProviders,
  );
  organizationForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void offerProviders(organizationProviders, slug.value.trim().toLowerCase() || undefined, true);
  });
  const form = cardForm(
    "login-form",
    t("login.title"),
    emailLabel,
    email,
    passwordLabel,
    password,
    h(
      "a",
      { id: "forgot-password", class: "aside", href: hashOf({ name: "forgot-password" }) },
      t("login.forgotPassword"),
    ),
    problem,
    resend,
    h("button", { type: "submit" }, t("login.submit")),
    providers,
    h(
      "p",
      { class: "muted aside" },
      ...rich("login.newHere", {
        register: (chunks) => h("a", { id: "register", href: hashOf({ name: "register" }) }, ...chunks),
      }),
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
        show(resend, resendVerification(email.value.trim(), t("login.sendLinkAgain")));
      }
    },
  );
  show(root, form, organizationForm);
  email.focus();
  void offerProviders(providers);
}

/**
 * A button per single sign-on provider (the deployment's, or an organization's): the browser goes
 * to it, and comes back here with a code. `sayNone`: an organization asked for with none says so.
 */
async function offerProviders(slot: HTMLElement, organization?: string, sayNone = false): Promise<void> {
  const providers = await signInProviders(organization).catch(() => []);
  if (providers.length === 0) {
    show(slot, sayNone ? h("p", { class: "muted" }, t("login.noSso")) : null);
    return;
  }
  const returnTo = `${location.origin}${location.pathname}`;
  const buttons = providers.map((provider) =>
    h(
      "a",
      {
        class: "button sso",
        "data-provider": provider.id,
        href: `/api/v1/auth/oidc/${encodeURIComponent(provider.id)}/authorize?return_to=${encodeURIComponent(returnTo)}`,
      },
      t("login.signInWith", { provider: provider.name }),
    ),
  );
  show(slot, organization ? null : h("p", { class: "or" }, t("login.or")), ...buttons);
}
