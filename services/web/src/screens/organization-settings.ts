import { answerOf, api, type Role, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, field, onSubmit, problemLine } from "../form.js";
import type { Screen } from "../screen.js";
import { apiKeyCards } from "./organization-api-keys.js";
import { webhookCards } from "./organization-webhooks.js";

type Settings = Schemas["OrganizationSettings"];
type Provider = Schemas["OrganizationSsoProvider"];

/** "1 member", "2 members". */
const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** Domains as typed: separated by commas, spaces or lines. */
const domainsOf = (text: string) => text.split(/[\s,]+/).filter((domain) => domain !== "");

/**
 * An organization's own settings, for its admins: the email domains it takes members from, its
 * seats (the limit is the platform admins' to set), the single sign-on providers that sign
 * people in to it, and (for its own admins, not the platform's) the webhooks its events are sent
 * to (organization-webhooks.ts) and the API keys machines act with (organization-api-keys.ts).
 * Each card saves on its own.
 */
export function organizationSettingsCards(screen: Screen, id: string, roles: readonly string[]) {
  const path = { params: { path: { id } } };
  const platform = screen.user.is_platform_admin;

  const seats = h("p", { id: "organization-seats", class: "muted" }, "Loading…");
  const [domainsLabel, domains] = field("Email domains (empty: anyone)", { id: "organization-domains" });
  const domainsProblem = problemLine();
  const domainsCard = cardForm(
    "organization-domains-form",
    "Who may join",
    h("p", {}, "Someone added, invited or signed up by single sign-on needs an address in one of these domains."),
    seats,
    domainsLabel,
    domains,
    domainsProblem,
    h("button", { type: "submit" }, "Save domains"),
  );
  const [limitLabel, limit] = field("Most members (empty: no limit)", {
    id: "organization-max-members",
    type: "number",
  });
  const limitProblem = problemLine();
  const limitCard = platform
    ? cardForm(
        "organization-limits-form",
        "Limits",
        h("p", {}, "Members and open invitations count. Lowering it removes no one."),
        limitLabel,
        limit,
        limitProblem,
        h("button", { type: "submit" }, "Save limits"),
      )
    : null;
  const describe = (settings: Settings) => {
    const most = settings.limits.max_members;
    seats.textContent = `${counted(settings.members, "member")} and ${counted(settings.open_invitations, "open invitation")}${
      most === null || most === undefined ? ", no limit." : ` of at most ${most}.`
    }`;
    domains.value = settings.domains.join(", ");
    limit.value = most === null || most === undefined ? "" : String(most);
  };
  onSubmit(domainsCard, domainsProblem, async () => {
    describe(
      answerOf(
        await api.PUT("/api/v1/organizations/{id}/domains", { ...path, body: { domains: domainsOf(domains.value) } }),
      ),
    );
    screen.notify("The organization's domains are saved.");
  });
  if (limitCard) {
    onSubmit(limitCard, limitProblem, async () => {
      const max_members = limit.value.trim() === "" ? null : Number(limit.value);
      describe(answerOf(await api.PUT("/api/v1/organizations/{id}/limits", { ...path, body: { max_members } })));
      screen.notify("The organization's limits are saved.");
    });
  }

  const list = h("tbody", {});
  const providersTable = h(
    "table",
    { class: "card stacked", id: "organization-providers-list" },
    h("caption", {}, "Single sign-on providers"),
    h(
      "thead",
      {},
      h("tr", {}, ...["Id", "Name", "Issuer", "Register as redirect URI", ""].map((title) => h("th", {}, title))),
    ),
    list,
  );
  const fillProviders = async () => {
    const providers = answerOf(await api.GET("/api/v1/organizations/{id}/sso-providers", path));
    show(
      list,
      ...(providers.length === 0
        ? [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "None yet."))]
        : providers.map((provider) => providerRow(screen, id, provider, fillProviders))),
    );
  };
  const [idLabel, providerId] = field("Id (in its URLs)", { id: "provider-id", required: true });
  const [nameLabel, name] = field("Name on the login page", { id: "provider-name", required: true });
  const [issuerLabel, issuer] = field("Issuer URL", { id: "provider-issuer", type: "url", required: true });
  const [clientLabel, clientId] = field("Client id", { id: "provider-client-id", required: true });
  const [secretLabel, secret] = field("Client secret", {
    id: "provider-client-secret",
    type: "password",
    autocomplete: "off",
    required: true,
  });
  const [allowedLabel, allowed] = field("Its email domains (empty: the organization's)", { id: "provider-domains" });
  const role = h(
    "select",
    { id: "provider-role", name: "provider-role" },
    ...roles.map((one) => h("option", { value: one }, one)),
  );
  const providerProblem = problemLine();
  const providerCard = cardForm(
    "organization-provider-form",
    "Add a single sign-on provider",
    h("p", {}, "People it signs in join this organization only. An existing account is never taken over by its email."),
    idLabel,
    providerId,
    nameLabel,
    name,
    issuerLabel,
    issuer,
    clientLabel,
    clientId,
    secretLabel,
    secret,
    h("label", { for: "provider-role" }, "Role of the people it signs up"),
    role,
    allowedLabel,
    allowed,
    providerProblem,
    h("button", { type: "submit" }, "Add provider"),
  );
  onSubmit(providerCard, providerProblem, async () => {
    const added = answerOf(
      await api.POST("/api/v1/organizations/{id}/sso-providers", {
        ...path,
        body: {
          provider_id: providerId.value.trim(),
          name: name.value.trim(),
          issuer: issuer.value.trim(),
          client_id: clientId.value.trim(),
          client_secret: secret.value,
          default_role: role.value as Role,
          allowed_domains: domainsOf(allowed.value),
        },
      }),
    );
    secret.value = "";
    providerCard.reset();
    screen.notify(`${added.name} is added: register ${added.callback_url} at the provider.`);
    await fillProviders();
  });

  // The webhooks and the API keys are the organization's admins' alone: the API answers them only.
  const ownAdmin = screen.user.organization.role === "admin";
  const webhooks = ownAdmin ? webhookCards(screen) : null;
  const apiKeys = ownAdmin ? apiKeyCards(screen) : null;

  const load = async () => {
    describe(answerOf(await api.GET("/api/v1/organizations/{id}", path)));
    await fillProviders();
    await webhooks?.load();
    await apiKeys?.load();
  };
  return {
    cards: [
      domainsCard,
      limitCard,
      providersTable,
      providerCard,
      ...(webhooks?.cards ?? []),
      ...(apiKeys?.cards ?? []),
    ],
    load,
  };
}

function providerRow(screen: Screen, orgId: string, provider: Provider, refill: () => Promise<void>): HTMLElement {
  const remove = h(
    "button",
    {
      type: "button",
      class: "danger",
      "data-remove-provider": provider.id,
      onclick: async () => {
        remove.disabled = true;
        try {
          answerOf(
            await api.DELETE("/api/v1/organizations/{id}/sso-providers/{provider_id}", {
              params: { path: { id: orgId, provider_id: provider.id } },
            }),
          );
          screen.notify(`${provider.name} is removed; the sign-ins it made have ended.`);
          await refill();
        } catch (error) {
          remove.disabled = false;
          screen.fail(error);
        }
      },
    },
    "Remove",
  );
  return h(
    "tr",
    { "data-provider": provider.id },
    h("td", {}, provider.id),
    h("td", {}, provider.name),
    h("td", {}, provider.issuer),
    h("td", {}, h("code", {}, provider.callback_url)),
    h("td", {}, remove),
  );
}
