import { ENUMS } from "@tdt/proto/tdt/contract";
import { answerOf, api, type Organization, type Role } from "../api.js";
import { h, show } from "../dom.js";
import { cardForm, field, onSubmit, problemLine } from "../form.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { organizationSettingsCards } from "./organization-settings.js";

/** The roles, lowest first, as the contract lists them. */
const ROLES = ENUMS["tdt.auth.v1.Role"].values;
/** The named presets an admin picks from (a custom policy is the API's: PUT …/policy). */
const PRESETS: Record<string, string> = {
  strict: "Strict: 3 days idle, 14 days in all",
  standard: "Standard: 7 days idle, 30 days in all, 10 s reuse grace",
  aal2: "AAL2: 30 minutes idle, 12 hours in all",
};

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
    ...Object.entries(PRESETS).map(([value, label]) => h("option", { value }, label)),
  );
  const current = h("p", { id: "policy-now", class: "muted" }, "Loading…");
  const policyProblem = problemLine();
  const policy = cardForm(
    "organization-policy",
    "Session policy",
    h("p", {}, "How long a login into this organization lasts. It applies to logins from now on."),
    current,
    h("label", { for: "policy-preset" }, "Preset"),
    preset,
    policyProblem,
    h("button", { type: "submit" }, "Save policy"),
  );
  const describe = (chosen: { preset: string; idle_max_seconds: number; abs_max_seconds: number }) => {
    current.textContent = `Now: ${chosen.preset} (idle ${chosen.idle_max_seconds} s, in all ${chosen.abs_max_seconds} s).`;
    if (chosen.preset in PRESETS) preset.value = chosen.preset;
  };
  onSubmit(policy, policyProblem, async () => {
    const saved = answerOf(
      await api.PUT("/api/v1/organizations/{id}/policy", {
        ...path,
        body: { preset: preset.value as "strict" | "standard" | "aal2" },
      }),
    );
    describe(saved);
    screen.notify(`${organization.name}'s session policy is now ${saved.preset}.`);
  });

  const [emailLabel, email] = field("Email", { id: "member-email", type: "email", required: true });
  const role = h(
    "select",
    { id: "member-role", name: "role" },
    ...ROLES.map((name) => h("option", { value: name }, name)),
  );
  const memberProblem = problemLine();
  const members = cardForm(
    "organization-member",
    "Add someone",
    h("p", {}, "Someone with an account joins at once; any other address is mailed an invitation."),
    emailLabel,
    email,
    h("label", { for: "member-role" }, "Role"),
    role,
    memberProblem,
    h("button", { type: "submit" }, "Add"),
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
        ? `${added.email} is now a member, as ${added.role}.`
        : `${added.email} is invited, as ${added.role}.`,
    );
  });

  const settings = organizationSettingsCards(screen, organization.id, ROLES);
  show(
    screen.root,
    h("h1", {}, organization.name),
    h(
      "p",
      { class: "muted" },
      `Slug ${organization.slug}. Its members and their roles are on the `,
      h("a", { href: hashOf({ name: "users" }) }, "Users"),
      " page.",
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
