import { ENUMS, type EnumValue, FIELD_RULES } from "@tdt/proto/tdt/contract";
import { actionButton } from "../action-button.js";
import { answerOf, api, type Schemas } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, choices, field, fieldProblem, onSubmit, problemLine } from "../form.js";
import { listTable } from "../list-table.js";
import type { Screen } from "../screen.js";
import { showSecretOnce } from "../secret-once.js";

type ApiKey = Schemas["ApiKey"];
type Scope = EnumValue<"tdt.auth.v1.ApiKeyScope">;

/** What each scope lets a key do, for the person choosing (the list is the contract's). */
const SCOPE_NAMES: Record<Scope, string> = {
  "trees:read": "Read the trees",
  "trees:write": "Make, change, publish and delete trees",
  "sessions:read": "Read the sessions",
  "reports:read": "Export the sessions' reports",
  "webhooks:manage": "Manage the webhooks",
};

const RULES = FIELD_RULES["tdt.auth.v1.CreateApiKeyRequest"];
/** Enough for a program that syncs often; the admin may choose otherwise. */
const DEFAULT_QUOTA = 10_000;

const when = (at: string) => new Date(at).toLocaleString();

/**
 * The organization's API keys, for its admins: the keys machines act with (what each may do, how
 * much of today's quota it used, when it was last used), each to revoke; and a form to make one.
 * The key shows once, when it is made: the API keeps only its hash.
 */
export function apiKeyCards(screen: Screen) {
  // Newest first, as the API lists them.
  const list = listTable("api-keys-list", "API keys", ["Name", "Scopes", "Used today", "Last used", "Created", ""]);
  const row = (key: ApiKey) => keyRow(screen, key, list.noneLeft);

  const [nameLabel, name] = field("Name (which program it is for)", { id: "api-key-name", required: true });
  name.maxLength = RULES.name.string.max_len;
  const nameProblem = fieldProblem(name, "name");
  const scopes = choices("api-key-scopes", "What it may do", ENUMS["tdt.auth.v1.ApiKeyScope"].values, SCOPE_NAMES);
  const scopesProblem = fieldProblem(scopes.fieldset, "scopes");
  const [quotaLabel, quota] = field("Requests a day (UTC)", {
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
    "Make an API key",
    h(
      "p",
      {},
      "A program sends the key to act in the organization as an admin would, but only in what its scopes allow, and at most its quota of requests a day.",
    ),
    nameLabel,
    name,
    nameProblem.line,
    scopes.fieldset,
    scopesProblem.line,
    quotaLabel,
    quota,
    quotaProblem.line,
    problem,
    h("button", { type: "submit" }, "Make key"),
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
        `API key of ${key.name}`,
        key.key ?? "",
        "A program sends it in the header of each request: ",
        h("code", {}, "Authorization: Bearer <key>"),
        ".",
      );
      screen.notify(`The API key ${key.name} is made.`);
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

function keyRow(screen: Screen, key: ApiKey, removed: () => void): HTMLTableRowElement {
  const nameId = `api-key-${key.id}-name`;
  const revoke = actionButton(screen, "Revoke", "api-key-revoke", nameId, async () => {
    if (!confirm(`Revoke the API key ${key.name}? A program that sends it is refused from its next request.`)) {
      return;
    }
    answerOf(await api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: key.id } } }));
    row.remove();
    removed();
    screen.notify(`The API key ${key.name} is revoked.`);
  });
  const row = h(
    "tr",
    { "data-api-key": key.id },
    h("td", { "data-label": "Name" }, h("span", { id: nameId }, key.name)),
    h("td", { "data-label": "Scopes" }, key.scopes.join(", ")),
    h(
      "td",
      { "data-label": "Used today", class: "api-key-use" },
      `${key.used_today.toLocaleString()} of ${key.daily_quota.toLocaleString()}`,
    ),
    h("td", { "data-label": "Last used" }, key.last_used_at ? when(key.last_used_at) : "never"),
    h("td", { "data-label": "Created" }, when(key.created_at)),
    h("td", {}, revoke),
  );
  return row;
}
