import { ENUMS } from "@tdt/proto/tdt/contract";
import { answerOf, api, type Me, type Role } from "../api.js";
import { h, show } from "../dom.js";
import { fields, onSubmit, problemLine } from "../form.js";
import { dateOnly, dateTime, t, wordFor } from "../i18n.js";
import { rich } from "../rich-message.js";
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
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
  let me: Me;
  let providers: Provider[];
  try {
    [me, providers] = await Promise.all([api.GET("/api/v1/auth/me").then(answerOf), signInProviders()]);
  } catch (error) {
    return screen.fail(error);
  }
  show(
    screen.root,
    h("h1", {}, t("account.title")),
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
      ...row(t("account.name"), me.full_name),
      ...row(
        t("form.email"),
        me.email,
        " ",
        h(
          "span",
          { class: `badge ${me.email_verified ? "completed" : "draft"}` },
          me.email_verified ? t("account.confirmed") : t("account.notConfirmed"),
        ),
      ),
      ...row(t("account.role"), wordFor("role", me.role)),
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
        t("account.link", { provider: provider.name }),
      );
      button.addEventListener("click", () => startLinking(screen, provider, button));
      return button;
    });
  return h(
    "section",
    { class: "card", id: "providers" },
    h("h2", {}, t("account.providers")),
    linked && linkedIds.has(linked)
      ? h("p", { class: "success", id: "linked", role: "status" }, t("account.linked", { provider: nameOf(linked) }))
      : null,
    me.linked_providers.length === 0
      ? h("p", { class: "muted" }, t("account.noProvider"))
      : h(
          "ul",
          { id: "linked-providers" },
          ...me.linked_providers.map((link) =>
            h(
              "li",
              { "data-provider": link.provider },
              ...rich("account.linkedProvider", {
                provider: nameOf(link.provider),
                email: link.email,
                since: dateOnly(link.linked_at),
              }),
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
  const [emailLabel, email] = fields.email("new-email", t("account.newEmail"), "email");
  const [passwordLabel, password] = fields.currentPassword("current-password", t("account.currentPassword"));
  const problem = problemLine();
  const form = h(
    "form",
    { class: "card", id: "change-email-form" },
    h("h2", {}, t("account.changeEmail")),
    emailLabel,
    email,
    ...(me.has_password ? [passwordLabel, password] : [h("p", { class: "muted" }, t("account.providerOnly"))]),
    problem,
    h("button", { type: "submit" }, t("account.changeEmailSubmit")),
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
      h("h2", {}, t("account.changeEmail")),
      h(
        "p",
        { id: "email-change-sent", role: "status" },
        ...rich("account.changeEmailSent", { address, current: me.email }),
      ),
    );
  });
  return form;
}

/** The roles, lowest first, as the contract lists them. */
const ROLES = ENUMS["tdt.auth.v1.Role"].values;

/** An admin invites an address with a role; the link goes there by mail. */
function invite(): HTMLElement {
  const [emailLabel, email] = fields.email("invite-email", t("form.email"), "off");
  const role = h(
    "select",
    { id: "invite-role", name: "invite-role" },
    ...ROLES.map((value) => h("option", { value }, wordFor("roleOption", value))),
  );
  const problem = problemLine();
  const sent = h("p", { id: "invite-sent", role: "status" });
  const form = h(
    "form",
    { class: "card", id: "invite-form" },
    h("h2", {}, t("account.invite")),
    emailLabel,
    email,
    h("label", { for: "invite-role" }, t("account.role")),
    role,
    problem,
    h("button", { type: "submit" }, t("account.inviteSubmit")),
    sent,
  );
  onSubmit(form, problem, async () => {
    sent.textContent = "";
    const invitation = answerOf(
      await api.POST("/api/v1/auth/invites", { body: { email: email.value.trim(), role: role.value as Role } }),
    );
    sent.textContent = t("account.inviteSent", {
      email: invitation.email,
      role: wordFor("role", invitation.role),
      until: dateTime(invitation.expires_at),
    });
    email.value = "";
  });
  return form;
}
