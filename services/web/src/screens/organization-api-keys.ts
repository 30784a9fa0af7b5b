import { ENUMS, type EnumValue, FIELD_RULES } from "@tdt/proto/tdt/contract";
import { actionButton } from "../action-button.js";
import { answerOf, api, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, choices, field, fieldProblem, onSubmit, problemLine } from "../form.js";
import { dateTime, t, wordFor } from "../i18n.js";
import { listTable } from "../list-table.js";
import { rich } from "../rich-message.js";
import type { Screen } from "../screen.js";
import { showSecretOnce } from "../secret-once.js";

type ApiKey = Schemas["ApiKey"];
type Scope = EnumValue<"tdt.auth.v1.ApiKeyScope">;

const SCOPES = ENUMS["tdt.auth.v1.ApiKeyScope"].values;
/** What each scope lets a key do, for the person choosing (the list is the contract's): `scope.<scope>`. */
const scopeNames = () =>
  Object.fromEntries(SCOPES.map((scope) => [scope, wordFor("scope", scope)])) as Record<Scope, string>;

const RULES = FIELD_RULES["tdt.auth.v1.CreateApiKeyRequest"];
/** Enough for a program that syncs often; the admin may choose otherwise. */
const DEFAULT_QUOTA = 10_000;

/**
 * The organization's API keys, for its admins: the keys machines act with (what each may do, how
 * much of today's quota it used, when it was last used), each to revoke; and a form to make one.
 * The key shows once, when it is made: the API keeps only its hash.
 */
export function apiKeyCards(screen: Screen) {
  // Newest first, as the API lists them.
  const list = listTable("api-keys-list", t("apiKeys.title"), [...Object.values(columns()), ""]);
  const row = (key: ApiKey) => keyRow(screen, key, list.noneLeft);

  const [nameLabel, name] = field(t("apiKeys.name"), { id: "api-key-name", required: true });
  name.maxLength = RULES.name.string.max_len;
  const nameProblem = fieldProblem(name, "name");
  const scopes = choices("api-key-scopes", t("apiKeys.scopes"), SCOPES, scopeNames());
  const scopesProblem = fieldProblem(scopes.fieldset, "scopes");
  const [quotaLabel, quota] = field(t("apiKeys.quota"), {
    id: "api-key-quota",
    type: "number",
    required: true,
    value: String(DEFAULT_QUOTA),
  });
  quota.min = String(RULES.daily_quota.int32.gte);
  quota.max = String(RULES.daily_quota.int32.lte);
  const quotaProblem = fieldProblem(quota, "daily_quota");
  const problem = problemLine();
  const created = h("div", { id: "api-key-created" });
  const form = cardForm(
    "api-key-form",
    t("apiKeys.make"),
    h("p", {}, t("apiKeys.makeIntro")),
    nameLabel,
    name,
    nameProblem.line,
    scopes.fieldset,
    scopesProblem.line,
    quotaLabel,
    quota,
    quotaProblem.line,
    problem,
    h("button", { type: "submit" }, t("apiKeys.makeSubmit")),
    created,
  );
  onSubmit(
    form,
    problem,
    async () => {
      show(created);
      for (const one of [nameProblem, scopesProblem, quotaProblem]) one.clear();
      const key = answerOf(
        await api.POST("/api/v1/api-keys", {
          body: { name: name.value.trim(), scopes: scopes.chosen(), daily_quota: Number(quota.value) },
        }),
      );
      form.reset();
      list.add(row(key), "top");
      showSecretOnce(
        screen,
        created,
        "api-key-secret",
        t("apiKeys.keyOf", { name: key.name }),
        key.key ?? "",
        ...rich("apiKeys.usage", { header: "Authorization: Bearer <key>" }),
      );
      screen.notify(t("apiKeys.made", { name: key.name }));
    },
    (error) => {
      const atName = nameProblem.tell(error);
      const atScopes = scopesProblem.tell(error);
      const atQuota = quotaProblem.tell(error);
      // The keyboard goes to the first control told a problem.
      if (atName) name.focus();
      else if (atScopes) scopes.fieldset.querySelector("input")?.focus();
      else if (atQuota) quota.focus();
    },
  );

  const load = async () => {
    list.fill(answerOf(await api.GET("/api/v1/api-keys")).map(row));
  };
  return { cards: [list.table, form], load };
}

/** The list's column titles, each also its cells' `data-label`. */
const columns = () => ({
  name: t("account.name"),
  scopes: t("apiKeys.scopesColumn"),
  used: t("apiKeys.usedToday"),
  lastUsed: t("apiKeys.lastUsed"),
  created: t("apiKeys.created"),
});

function keyRow(screen: Screen, key: ApiKey, removed: () => void): HTMLTableRowElement {
  const nameId = `api-key-${key.id}-name`;
  const column = columns();
  const revoke = actionButton(screen, t("apiKeys.revoke"), "api-key-revoke", nameId, async () => {
    if (!confirm(t("apiKeys.confirmRevoke", { name: key.name }))) return;
    answerOf(await api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: key.id } } }));
    row.remove();
    removed();
    screen.notify(t("apiKeys.revoked", { name: key.name }));
  });
  const row = h(
    "tr",
    { "data-api-key": key.id },
    h("td", { "data-label": column.name }, h("span", { id: nameId }, key.name)),
    h("td", { "data-label": column.scopes }, key.scopes.join(", ")),
    h(
      "td",
      { "data-label": column.used, class: "api-key-use" },
      t("apiKeys.use", { used: key.used_today, quota: key.daily_quota }),
    ),
    h("td", { "data-label": column.lastUsed }, key.last_used_at ? dateTime(key.last_used_at) : t("apiKeys.never")),
    h("td", { "data-label": column.created }, dateTime(key.created_at)),
    h("td", {}, revoke),
  );
  return row;
}
