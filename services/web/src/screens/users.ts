import { ENUMS } from "@tdt/proto/tdt/contract";
import { answerOf, api, type User } from "../api.js";
import { h, show } from "../dom.js";
import { dateTime, t, wordFor } from "../i18n.js";
import type { Screen } from "../screen.js";

/** The roles, lowest first, as the contract lists them. */
const ROLES = ENUMS["tdt.auth.v1.Role"].values;

/**
 * The users, for admins: each one's role to change, their account to deactivate or reactivate
 * (which ends their login sessions at once), and their login sessions to see and end one by one
 * (a lost phone) without deactivating the account. An admin cannot demote or deactivate
 * themselves (the service refuses, and the page does not offer it).
 */
export async function usersScreen(screen: Screen): Promise<void> {
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("common.loading"))));
  const column = columns();
  show(
    screen.root,
    h("h1", {}, t("users.title")),
    h(
      "table",
      { class: "card stacked", id: "users" },
      h("thead", {}, h("tr", {}, ...[...Object.values(column), ""].map((title) => h("th", {}, title)))),
      body,
    ),
  );
  const fill = async () => {
    const users = answerOf(await api.GET("/api/v1/auth/users", { params: { query: { limit: 100 } } }));
    show(body, ...users.map((user) => row(screen, user, fill)));
  };
  try {
    await fill();
  } catch (error) {
    show(body);
    screen.fail(error);
  }
}

/** The table's column titles, each also its cells' `data-label`. */
const columns = () => ({
  name: t("account.name"),
  email: t("form.email"),
  role: t("account.role"),
  active: t("users.active"),
});

function row(screen: Screen, user: User, refill: () => Promise<void>): HTMLElement {
  const self = user.id === screen.user.id;
  const column = columns();
  const update = async (change: { role?: User["role"]; is_active?: boolean }, said: string) => {
    try {
      answerOf(await api.PATCH("/api/v1/auth/users/{id}", { params: { path: { id: user.id } }, body: change }));
      await refill();
      screen.notify(said);
    } catch (error) {
      screen.fail(error);
      await refill().catch(() => undefined);
    }
  };
  const role = h(
    "select",
    { class: "role", "aria-label": t("users.roleOf", { name: user.full_name }), ...(self ? { disabled: true } : {}) },
    ...ROLES.map((name) => h("option", { value: name }, wordFor("role", name))),
  );
  role.value = user.role;
  role.addEventListener("change", () =>
    update({ role: role.value as User["role"] }, t("users.roleChanged", { name: user.full_name, role: role.value })),
  );
  const active = self
    ? null
    : h(
        "button",
        {
          class: "secondary active-toggle",
          onclick: () =>
            update(
              { is_active: !user.is_active },
              user.is_active
                ? t("users.deactivated", { name: user.full_name })
                : t("users.reactivated", { name: user.full_name }),
            ),
        },
        user.is_active ? t("users.deactivate") : t("users.reactivate"),
      );
  const organization = screen.user.organization;
  // Out of this organization (their account and other organizations stay): their logins here end.
  const remove = self
    ? null
    : h(
        "button",
        {
          class: "secondary remove-member",
          onclick: async () => {
            if (!confirm(t("users.confirmRemove", { name: user.full_name, organization: organization.name }))) return;
            try {
              answerOf(
                await api.DELETE("/api/v1/organizations/{id}/members/{user_id}", {
                  params: { path: { id: organization.id, user_id: user.id } },
                }),
              );
              await refill();
              screen.notify(t("users.removed", { name: user.full_name, organization: organization.name }));
            } catch (error) {
              screen.fail(error);
            }
          },
        },
        t("common.remove"),
      );
  const sessions = h("div", { class: "login-sessions", id: `sessions-of-${user.id}` });
  const toggle = h(
    "button",
    {
      class: "secondary show-sessions",
      "aria-expanded": "false",
      "aria-controls": sessions.id,
      onclick: async () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        if (open) await listSessions(screen, user, sessions);
        else show(sessions);
      },
    },
    t("users.sessions"),
  );
  return h(
    "tr",
    { "data-user-id": user.id },
    h("td", { "data-label": column.name }, self ? t("users.you", { name: user.full_name }) : user.full_name),
    h("td", { "data-label": column.email }, user.email),
    h("td", { "data-label": column.role }, role),
    h("td", { "data-label": column.active }, user.is_active ? t("users.yes") : t("users.no")),
    h("td", {}, h("div", { class: "actions" }, active, toggle, remove), sessions),
  );
}

/** The user's open login sessions into `into`, each with a button that ends it. */
async function listSessions(screen: Screen, user: User, into: HTMLElement): Promise<void> {
  const path = { params: { path: { id: user.id } } };
  try {
    const sessions = answerOf(await api.GET("/api/v1/auth/users/{id}/sessions", path));
    if (sessions.length === 0) return show(into, h("p", { class: "muted" }, t("users.noSession")));
    show(
      into,
      h(
        "ul",
        {},
        ...sessions.map((session) =>
          h(
            "li",
            { "data-sid": session.sid },
            t("users.loginSession", { since: dateTime(session.created_at), used: dateTime(session.last_used_at) }),
            session.user_agent ? ` · ${session.user_agent}` : "",
            session.ip ? ` · ${session.ip}` : "",
            " ",
            h(
              "button",
              {
                class: "secondary end-session",
                onclick: async () => {
                  try {
                    answerOf(
                      await api.DELETE("/api/v1/auth/users/{id}/sessions/{sid}", {
                        params: { path: { id: user.id, sid: session.sid } },
                      }),
                    );
                    screen.notify(t("users.sessionEnded", { name: user.full_name }));
                  } catch (error) {
                    screen.fail(error);
                  }
                  await listSessions(screen, user, into);
                },
              },
              t("users.endSession"),
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    show(into);
    screen.fail(error);
  }
}
