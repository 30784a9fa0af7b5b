import { answerOf, api, type Me, type Role } from "../api.js";
import { h, show } from "../dom.js";
import { fields, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { signInProviders } from "../session.js";

type Provider = { id: string; name: string };

/**
 * The signed-in user's account: who they are, the providers they sign in with (and a way to
 * link another), a move to a new address, and for admins an invitation. `linked` is the
 * provider a linking just came back from.
 */
export async function accountScreen(screen: Screen, linked: string | undefined): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  let me: Me;
  let providers: Provider[];
  try {
    [me, providers] = await Promise.all([api.GET("/api/v1/auth/me").then(answerOf), signInProviders()]);
  } catch (error) {
    return screen.fail(error);
  }
  show(
    screen.root,
    h("h1", {}, "Your account"),
    details(me),
    providers.length > 0 || me.linked_providers.length > 0 ? signInWith(screen, me, providers, linked) : null,
    changeEmail(me),
    me.role === "admin" ? invite() : null,
  );
}

function details(me: Me): HTMLElement {
  const row = (term: string, ...value: Array<Node | string>) => [h("dt", {}, term), h("dd", {}, ...value)];
  return h(
    "section",
    { class: "card", id: "account-details" },
    h(
      "dl",
      { class: "facts" },
      ...row("Name", me.full_name),
      ...row(
        "Email",
        me.email,
        " ",
        h(
          "span",
          { class: `badge ${me.email_verified ? "completed" : "draft"}` },
          me.email_verified ? "confirmed" : "not confirmed",
        ),
      ),
      ...row("Role", me.role),
    ),
  );
}

/** The providers linked, and a button for each one configured that is not. */
function signInWith(screen: Screen, me: Me, providers: Provider[], linked: string | undefined): HTMLElement {
  const nameOf = (id: string) => providers.find((provider) => provider.id === id)?.name ?? id;
  const linkedIds = new Set(me.linked_providers.map((link) => link.provider));
  const buttons = providers
    .filter((provider) => !linkedIds.has(provider.id))
    .map((provider) => {
      const button = h(
        "button",
        { type: "button", class: "secondary", "data-provider": provider.id },
        `Link ${provider.name}`,
      );
      button.addEventListener("click", () => startLinking(screen, provider, button));
      return button;
    });
  return h(
    "section",
    { class: "card", id: "providers" },
    h("h2", {}, "Sign in with a provider"),
    linked && linkedIds.has(linked)
      ? h(
          "p",
          { class: "success", id: "linked", role: "status" },
          `${nameOf(linked)} is linked: you can sign in with it now.`,
        )
      : null,
    me.linked_providers.length === 0
      ? h("p", { class: "muted" }, "No provider is linked to your account yet.")
      : h(
          "ul",
          { id: "linked-providers" },
          ...me.linked_providers.map((link) =>
            h(
              "li",
              { "data-provider": link.provider },
              h("strong", {}, nameOf(link.provider)),
              ` as ${link.email}, since ${new Date(link.linked_at).toLocaleDateString()}`,
            ),
          ),
        ),
    buttons.length > 0 ? h("div", { class: "actions" }, ...buttons) : null,
  );
}

/**
 * Linking: the gateway answers where to send the browser and sets the cookie that binds the
 * sign-in there to this browser (a same-origin request keeps it); the provider sends the browser
 * back here with `?linked=` or `?error=`.
 */
async function startLinking(screen: Screen, provider: Provider, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const returnTo = `${location.origin}/${hashOf({ name: "account" })}`;
    const { authorize_url } = answerOf(
      await api.POST("/api/v1/auth/oidc/{provider}/link", {
        params: { path: { provider: provider.id } },
        body: { return_to: returnTo },
      }),
    );
    location.assign(authorize_url);
  } catch (error) {
    button.disabled = false;
    screen.fail(error);
  }
}

/** A new address takes effect when the link mailed to it is followed. */
function changeEmail(me: Me): HTMLElement {
  const [emailLabel, email] = fields.email("new-email", "New email address", "email");
  const [passwordLabel, password] = fields.currentPassword("current-password", "Current password");
  const problem = problemLine();
  const form = h(
    "form",
    { class: "card", id: "change-email-form" },
    h("h2", {}, "Change your email address"),
    emailLabel,
    email,
    ...(me.has_password
      ? [passwordLabel, password]
      : [h("p", { class: "muted" }, "You sign in through a provider: this works within a few minutes of signing in.")]),
    problem,
    h("button", { type: "submit" }, "Send confirmation link"),
  );
  onSubmit(form, problem, async () => {
    const address = email.value.trim();
    answerOf(
      await api.POST("/api/v1/auth/me/email", {
        body: me.has_password ? { email: address, current_password: password.value } : { email: address },
      }),
    );
    show(
      form,
      h("h2", {}, "Change your email address"),
      h(
        "p",
        { id: "email-change-sent", role: "status" },
        "We sent a link to ",
        h("strong", {}, address),
        `. Your address changes when you open it; until then it stays ${me.email}.`,
      ),
    );
  });
  return form;
}

const ROLE_NAMES: Record<Role, string> = { technician: "Technician", engineer: "Engineer", admin: "Admin" };

/** An admin invites an address with a role; the link goes there by mail. */
function invite(): HTMLElement {
  const [emailLabel, email] = fields.email("invite-email", "Email", "off");
  const role = h(
    "select",
    { id: "invite-role", name: "invite-role" },
    ...Object.entries(ROLE_NAMES).map(([value, name]) => h("option", { value }, name)),
  );
  const problem = problemLine();
  const sent = h("p", { id: "invite-sent", role: "status" });
  const form = h(
    "form",
    { class: "card", id: "invite-form" },
    h("h2", {}, "Invite someone"),
    emailLabel,
    email,
    h("label", { for: "invite-role" }, "Role"),
    role,
    problem,
    h("button", { type: "submit" }, "Send invitation"),
    sent,
  );
  onSubmit(form, problem, async () => {
    sent.textContent = "";
    const invitation = answerOf(
      await api.POST("/api/v1/auth/invites", { body: { email: email.value.trim(), role: role.value as Role } }),
    );
    sent.textContent =
      `Invitation sent to ${invitation.email} as ${ROLE_NAMES[invitation.role].toLowerCase()}. ` +
      `The link works until ${new Date(invitation.expires_at).toLocaleString()}.`;
    email.value = "";
  });
  return form;
}
