import { ENUMS } from "@tdt/proto/tdt/contract";
import { answerOf, api, type Organization, type Role } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, field, onSubmit, problemLine } from "../form.js";
import { t, wordFor } from "../i18n.js";
import { rich } from "../rich-message.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { organizationSettingsCards } from "./organization-settings.js";

/** The roles, lowest first, as the contract lists them. */
const ROLES = ENUMS["tdt.auth.v1.Role"].values;
/** The named presets an admin picks from (a custom policy is the API's: PUT …/policy), each told as `preset.<name>`. */
const PRESETS = ["strict", "standard", "aal2"] as const;
const isPreset = (name: string): name is (typeof PRESETS)[number] => (PRESETS as readonly string[]).includes(name);

/**
 * The organization the admin acts in, for its admins (and the platform's): its session policy,
 * adding someone with a role (an account joins at once, any other address is invited), and its
 * own settings (organization-settings.ts: domains, limits, single sign-on providers, webhooks).
 * Its members are the Users page's.
 */
export async function organizationScreen(screen: Screen, organization: Organization): Promise<void> {
  const path = { params: { path: { id: organization.id } } };
  const preset = h(
    "select",
    { id: "policy-preset", name: "preset" },
    ...PRESETS.map((value) => h("option", { value }, wordFor("preset", value))),
  );
  const current = h("p", { id: "policy-now", class: "muted" }, t("common.loading"));
  const policyProblem = problemLine();
  const policy = cardForm(
    "organization-policy",
    t("organization.policy"),
    h("p", {}, t("organization.policyIntro")),
    current,
    h("label", { for: "policy-preset" }, t("organization.preset")),
    preset,
    policyProblem,
    h("button", { type: "submit" }, t("organization.savePolicy")),
  );
  const describe = (chosen: { preset: string; idle_max_seconds: number; abs_max_seconds: number }) => {
    current.textContent = t("organization.policyNow", {
      preset: chosen.preset,
      idle: chosen.idle_max_seconds,
      total: chosen.abs_max_seconds,
    });
    if (isPreset(chosen.preset)) preset.value = chosen.preset;
  };
  onSubmit(policy, policyProblem, async () => {
    const saved = answerOf(
      await api.PUT("/api/v1/organizations/{id}/policy", {
        ...path,
        body: { preset: preset.value as (typeof PRESETS)[number] },
      }),
    );
    describe(saved);
    screen.notify(t("organization.policySaved", { organization: organization.name, preset: saved.preset }));
  });

  const [emailLabel, email] = field(t("form.email"), { id: "member-email", type: "email", required: true });
  const role = h(
    "select",
    { id: "member-role", name: "role" },
    ...ROLES.map((name) => h("option", { value: name }, wordFor("role", name))),
  );
  const memberProblem = problemLine();
  const members = cardForm(
    "organization-member",
    t("organization.addMember"),
    h("p", {}, t("organization.addMemberIntro")),
    emailLabel,
    email,
    h("label", { for: "member-role" }, t("account.role")),
    role,
    memberProblem,
    h("button", { type: "submit" }, t("organization.add")),
  );
  onSubmit(members, memberProblem, async () => {
    const added = answerOf(
      await api.POST("/api/v1/organizations/{id}/members", {
        ...path,
        body: { email: email.value, role: role.value as Role },
      }),
    );
    email.value = "";
    screen.notify(
      added.status === "member"
        ? t("organization.memberAdded", { email: added.email, role: wordFor("role", added.role) })
        : t("organization.memberInvited", { email: added.email, role: wordFor("role", added.role) }),
    );
  });

  const settings = organizationSettingsCards(screen, organization.id, ROLES);
  show(
    screen.root,
    h("h1", {}, organization.name),
    h(
      "p",
      { class: "muted" },
      ...rich("organization.slug", {
        slug: organization.slug,
        users: (chunks) => h("a", { href: hashOf({ name: "users" }) }, ...chunks),
      }),
    ),
    policy,
    members,
    ...settings.cards,
  );
  try {
    describe(answerOf(await api.GET("/api/v1/organizations/{id}/policy", path)));
    await settings.load();
  } catch (error) {
    current.textContent = "";
    screen.fail(error);
  }
}
