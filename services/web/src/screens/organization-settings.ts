import { answerOf, api, type Role, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, field, onSubmit, problemLine } from "../form.js";
import { t, wordFor } from "../i18n.js";
import type { Screen } from "../screen.js";
import { apiKeyCards } from "./organization-api-keys.js";
import { webhookCards } from "./organization-webhooks.js";

type Settings = Schemas["OrganizationSettings"];
type Provider = Schemas["OrganizationSsoProvider"];

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

  const seats = h("p", { id: "organization-seats", class: "muted" }, t("common.loading"));
  const [domainsLabel, domains] = field(t("settings.domains"), { id: "organization-domains" });
  const domainsProblem = problemLine();
  const domainsCard = cardForm(
    "organization-domains-form",
    t("settings.whoMayJoin"),
    h("p", {}, t("settings.whoMayJoinIntro")),
    seats,
    domainsLabel,
    domains,
    domainsProblem,
    h("button", { type: "submit" }, t("settings.saveDomains")),
  );
  const [limitLabel, limit] = field(t("settings.mostMembers"), {
    id: "organization-max-members",
    type: "number",
  });
  const limitProblem = problemLine();
  const limitCard = platform
    ? cardForm(
        "organization-limits-form",
        t("settings.limits"),
        h("p", {}, t("settings.limitsIntro")),
        limitLabel,
        limit,
        limitProblem,
        h("button", { type: "submit" }, t("settings.saveLimits")),
      )
    : null;
  const describe = (settings: Settings) => {
    const most = settings.limits.max_members;
    const counts = { members: settings.members, invitations: settings.open_invitations };
    seats.textContent =
      most === null || most === undefined
        ? t("settings.seatsUnlimited", counts)
        : t("settings.seats", { ...counts, most });
    domains.value = settings.domains.join(", ");
    limit.value = most === null || most === undefined ? "" : String(most);
  };
  onSubmit(domainsCard, domainsProblem, async () => {
    describe(
      answerOf(
        await api.PUT("/api/v1/organizations/{id}/domains", { ...path, body: { domains: domainsOf(domains.value) } }),
      ),
    );
    screen.notify(t("settings.domainsSaved"));
  });
  if (limitCard) {
    onSubmit(limitCard, limitProblem, async () => {
      const max_members = limit.value.trim() === "" ? null : Number(limit.value);
      describe(answerOf(await api.PUT("/api/v1/organizations/{id}/limits", { ...path, body: { max_members } })));
      screen.notify(t("settings.limitsSaved"));
    });
  }

  const list = h("tbody", {});
  const providersTable = h(
    "table",
    { class: "card stacked", id: "organization-providers-list" },
    h("caption", {}, t("settings.providers")),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...[t("nodeForm.id"), t("account.name"), t("settings.issuer"), t("settings.redirectUri"), ""].map((title) =>
          h("th", {}, title),
        ),
      ),
    ),
    list,
  );
  const fillProviders = async () => {
    const providers = answerOf(await api.GET("/api/v1/organizations/{id}/sso-providers", path));
    show(
      list,
      ...(providers.length === 0
        ? [h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("common.noneYet")))]
        : providers.map((provider) => providerRow(screen, id, provider, fillProviders))),
    );
  };
  const [idLabel, providerId] = field(t("settings.providerId"), { id: "provider-id", required: true });
  const [nameLabel, name] = field(t("settings.providerName"), { id: "provider-name", required: true });
  const [issuerLabel, issuer] = field(t("settings.issuerUrl"), { id: "provider-issuer", type: "url", required: true });
  const [clientLabel, clientId] = field(t("settings.clientId"), { id: "provider-client-id", required: true });
  const [secretLabel, secret] = field(t("settings.clientSecret"), {
    id: "provider-client-secret",
    type: "password",
    autocomplete: "off",
    required: true,
  });
  const [allowedLabel, allowed] = field(t("settings.providerDomains"), { id: "provider-domains" });
  const role = h(
    "select",
    { id: "provider-role", name: "provider-role" },
    ...roles.map((one) => h("option", { value: one }, wordFor("role", one))),
  );
  const providerProblem = problemLine();
  const providerCard = cardForm(
    "organization-provider-form",
    t("settings.addProvider"),
    h("p", {}, t("settings.addProviderIntro")),
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
    h("label", { for: "provider-role" }, t("settings.providerRole")),
    role,
    allowedLabel,
    allowed,
    providerProblem,
    h("button", { type: "submit" }, t("settings.addProviderSubmit")),
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
    screen.notify(t("settings.providerAdded", { name: added.name, url: added.callback_url }));
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
          screen.notify(t("settings.providerRemoved", { name: provider.name }));
          await refill();
        } catch (error) {
          remove.disabled = false;
          screen.fail(error);
        }
      },
    },
    t("common.remove"),
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
