import { answerOf, api } from "../api.js";
import { h, show } from "../dom.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";

/** The sessions of the logged-in user, newest first, each opening in the runner. */
export async function mySessionsScreen(screen: Screen): Promise<void> {
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 6, class: "muted" }, "Loading…")));
  show(
    screen.root,
    h("h1", {}, "My sessions"),
    h(
      "table",
      { class: "card stacked", id: "sessions" },
      h(
        "thead",
        {},
        h("tr", {}, ...["Tree", "Ticket", "Status", "Outcome", "Started", ""].map((title) => h("th", {}, title))),
      ),
      body,
    ),
  );
  try {
    const sessions = answerOf(await api.GET("/api/v1/sessions", { params: { query: { limit: 100 } } }));
    show(
      body,
      ...(sessions.length === 0
        ? [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No sessions yet."))]
        : sessions.map((session) =>
            h(
              "tr",
              { "data-session-id": session.id },
              // Each cell names its column: on a phone the rows stack as cards (app.css).
              h("td", { "data-label": "Tree" }, session.tree_title),
              h(
                "td",
                { "data-label": "Ticket" },
                typeof session.context.ticket === "string" ? session.context.ticket : "",
              ),
              h(
                "td",
                { "data-label": "Status" },
                h("span", { class: `badge ${session.status}` }, session.status.replace("_", " ")),
              ),
              h("td", { "data-label": "Outcome" }, session.outcome ?? ""),
              h("td", { "data-label": "Started" }, new Date(session.started_at).toLocaleString()),
              h("td", {}, h("a", { href: hashOf({ name: "session", sessionId: session.id }) }, "Open")),
            ),
          )),
    );
  } catch (error) {
    show(body);
    screen.fail(error);
  }
}
