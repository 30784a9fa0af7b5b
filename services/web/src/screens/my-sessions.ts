import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { dateTime, t, wordFor } from "../i18n.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";

/** The sessions of the logged-in user, newest first, each opening in the runner. */
export async function mySessionsScreen(screen: Screen): Promise<void> {
  const column = {
    tree: t("sessions.tree"),
    ticket: t("sessions.ticket"),
    status: t("sessions.status"),
    outcome: t("sessions.outcome"),
    started: t("sessions.started"),
  };
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("common.loading"))));
  show(
    screen.root,
    h("h1", {}, t("sessions.title")),
    h(
      "table",
      { class: "card stacked", id: "sessions" },
      h("thead", {}, h("tr", {}, ...[...Object.values(column), ""].map((title) => h("th", {}, title)))),
      body,
    ),
  );
  try {
    // In brief: a list shows no steps, and the summaries spare reading them (docs/decisions/scale.md).
    const sessions = answerOf(await api.GET("/api/v1/sessions/summaries", { params: { query: { limit: 100 } } }));
    show(
      body,
      ...(sessions.length === 0
        ? [h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("sessions.none")))]
        : sessions.map((session) =>
            h(
              "tr",
              { "data-session-id": session.id },
              // Each cell names its column: on a phone the rows stack as cards (app.css).
              h("td", { "data-label": column.tree }, session.tree_title),
              h(
                "td",
                { "data-label": column.ticket },
                typeof session.context.ticket === "string" ? session.context.ticket : "",
              ),
              h(
                "td",
                { "data-label": column.status },
                h("span", { class: `badge ${session.status}` }, wordFor("sessionStatus", session.status)),
              ),
              h("td", { "data-label": column.outcome }, session.outcome ? wordFor("outcome", session.outcome) : ""),
              h("td", { "data-label": column.started }, dateTime(session.started_at)),
              h("td", {}, h("a", { href: hashOf({ name: "session", sessionId: session.id }) }, t("sessions.open"))),
            ),
          )),
    );
  } catch (error) {
    show(body);
    screen.fail(error);
  }
}
