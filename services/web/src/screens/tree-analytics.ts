import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { answerOf, api, type Tree } from "../api.js";
import { h, show } from "../dom.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";

const seconds = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

/** A count as a bar beside its number, the widest bar being `most`. */
function bar(label: string, count: number, most: number, kind = ""): HTMLElement {
  const width = most > 0 ? Math.round((count / most) * 100) : 0;
  const drawn = h("span", { class: "bar-fill" });
  // Through the CSSOM: the app's Content Security Policy allows no inline style attribute.
  drawn.style.width = `${width}%`;
  return h(
    "li",
    { class: `bar-row ${kind}`, "data-label": label },
    h("span", { class: "bar-label" }, label),
    h("span", { class: "bar-track" }, drawn),
    h("span", { class: "bar-count" }, String(count)),
  );
}

/**
 * What technicians did with a tree (engineers, admins): sessions by outcome, the resolution rate
 * and time to complete, per node how often it was reached, left and answered, and where sessions
 * ended, and the most common paths.
 */
export async function treeAnalyticsScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  const path = { params: { path: { id: treeId } } };
  try {
    const [tree, analytics] = await Promise.all([
      api.GET("/api/v1/trees/{id}", path).then(answerOf),
      api.GET("/api/v1/trees/{id}/analytics", path).then(answerOf),
    ]);
    const { sessions } = analytics;
    const counts = sessions as unknown as Record<string, number>;
    const outcomes = OUTCOMES.map((outcome) => [outcome, counts[outcome] ?? 0] as const);
    const most = Math.max(sessions.started, ...outcomes.map(([, count]) => count));
    const titles = titlesOf(tree);
    const exits = Math.max(0, ...analytics.nodes.map((node) => node.exits));
    show(
      screen.root,
      h("a", { href: hashOf({ name: "tree", treeId }) }, "← Back to the editor"),
      h("h1", {}, `Analytics: ${tree.title}`),
      h(
        "section",
        { class: "card", id: "analytics-sessions" },
        h("h2", {}, "Sessions"),
        h(
          "ul",
          { class: "bars" },
          bar("started", sessions.started, most),
          bar("completed", sessions.completed, most),
          ...outcomes.map(([outcome, count]) => bar(outcome, count, most, outcome)),
          bar("abandoned", sessions.abandoned, most),
        ),
        h(
          "p",
          { id: "analytics-summary" },
          `Resolution rate ${Math.round(analytics.resolution_rate * 100)} %`,
          sessions.completed > 0
            ? ` · time to complete: median ${seconds(analytics.duration_ms.median)}, 90 % within ${seconds(analytics.duration_ms.p90)}`
            : "",
        ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-days" },
        h("h2", {}, "Resolution rate over time"),
        analytics.days.length === 0
          ? h("p", { class: "muted" }, "No session has run yet.")
          : h(
              "ul",
              { class: "bars" },
              ...analytics.days.map((day) => {
                const rate = day.completed > 0 ? Math.round((day.resolved / day.completed) * 100) : 0;
                const row = bar(day.day, rate, 100, "resolved");
                const count = row.querySelector(".bar-count");
                if (count) count.textContent = day.completed > 0 ? `${rate} % of ${day.completed}` : "none completed";
                return row;
              }),
            ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-nodes" },
        h("h2", {}, "Where technicians go, and where they leave"),
        analytics.nodes.length === 0
          ? h("p", { class: "muted" }, "No session has run yet.")
          : h(
              "table",
              {},
              h(
                "thead",
                {},
                h("tr", {}, ...["Node", "Reached", "Ended here", "Median time", "Answers"].map((t) => h("th", {}, t))),
              ),
              h(
                "tbody",
                {},
                ...analytics.nodes.map((node) =>
                  h(
                    "tr",
                    { "data-node-id": node.node_id, class: node.exits > 0 && node.exits === exits ? "most-exits" : "" },
                    h("td", {}, titles.get(node.node_id) ?? node.node_id),
                    h("td", {}, String(node.visits)),
                    h("td", { class: "exits" }, String(node.exits)),
                    h("td", {}, seconds(node.time_ms.median)),
                    h("td", {}, answersOf(tree, node.node_id, node.options)),
                  ),
                ),
              ),
            ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-paths" },
        h("h2", {}, "Most common paths"),
        h(
          "ol",
          {},
          ...analytics.paths.map((path) =>
            h("li", {}, `${path.node_ids.map((id) => titles.get(id) ?? id).join(" › ")} (${path.count})`),
          ),
        ),
      ),
    );
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "tree", treeId }) }, "← Back to the editor"));
    screen.fail(error);
  }
}

function titlesOf(tree: Tree): Map<string, string> {
  return new Map(tree.nodes.map((node) => [node.id, node.title]));
}

/** A node's answer counts, in the order the node lists its answers, each by its label. */
function answersOf(tree: Tree, nodeId: string, counts: Array<{ option_id: string; count: number }>): string {
  const node = tree.nodes.find((candidate) => candidate.id === nodeId);
  const options = node && "options" in node ? node.options : [];
  const at = (id: string) => {
    const index = options.findIndex((option) => option.id === id);
    return index < 0 ? options.length : index;
  };
  return [...counts]
    .sort((a, b) => at(a.option_id) - at(b.option_id))
    .map(({ option_id, count }) => `${options.find((option) => option.id === option_id)?.label ?? option_id}: ${count}`)
    .join(", ");
}
