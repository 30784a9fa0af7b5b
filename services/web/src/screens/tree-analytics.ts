import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { answerOf, api, type Tree } from "../api.js";
import { COLOURS } from "../chart-colours.js";
import { chartFigure } from "../charts.js";
import { h, show } from "../dom.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { layoutTree, mapNodes } from "../tree-layout.js";
import { treeMap } from "../tree-map.js";

const seconds = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const NODE_COLUMNS = ["Node", "Reached", "Ended here", "Median time", "Answers"];
const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0);

/**
 * What technicians did with a tree (engineers, admins), drawn with Chart.js: sessions by outcome,
 * the resolution rate by day, the answers given at each question; where sessions ended, on the
 * tree's map; per node how often it was reached, left and answered; the most common paths.
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
    // The answer counts each outcome under its own name.
    const byOutcome = sessions as unknown as Record<string, number>;
    const counts: Array<[keyof typeof COLOURS, number]> = [
      ["started", sessions.started],
      ["completed", sessions.completed],
      ...OUTCOMES.map((outcome) => [outcome, byOutcome[outcome] ?? 0] as [keyof typeof COLOURS, number]),
      ["abandoned", sessions.abandoned],
    ];
    const titles = new Map(tree.nodes.map((node) => [node.id, node.title]));
    const titleOf = (id: string) => titles.get(id) ?? id;
    const ran = analytics.nodes.length > 0;
    show(
      screen.root,
      h("a", { href: hashOf({ name: "tree", treeId }) }, "← Back to the editor"),
      h("h1", {}, `Analytics: ${tree.title}`),
      h(
        "section",
        { class: "card", id: "analytics-sessions" },
        h("h2", {}, "Sessions"),
        chartFigure(
          "chart-sessions",
          "Sessions by outcome",
          {
            type: "bar",
            data: {
              labels: counts.map(([label]) => label),
              datasets: [
                {
                  label: "sessions",
                  data: counts.map(([, count]) => count),
                  backgroundColor: counts.map(([label]) => COLOURS[label]),
                },
              ],
            },
            options: {
              plugins: { legend: { display: false } },
              scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
            },
          },
          { head: ["", "Sessions"], rows: counts.map(([label, count]) => ({ label, cells: [count] })) },
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
          : chartFigure(
              "chart-days",
              "Sessions completed and the share resolved, by day (UTC)",
              {
                type: "bar",
                data: {
                  labels: analytics.days.map((day) => day.day),
                  datasets: [
                    {
                      type: "line",
                      label: "resolved (%)",
                      data: analytics.days.map((day) => percent(day.resolved, day.completed)),
                      borderColor: COLOURS.resolved,
                      backgroundColor: COLOURS.resolved,
                      pointRadius: 4,
                      yAxisID: "rate",
                      // Drawn over the bars.
                      order: 0,
                    },
                    {
                      type: "bar",
                      label: "completed",
                      data: analytics.days.map((day) => day.completed),
                      backgroundColor: COLOURS.completed,
                      maxBarThickness: 48,
                      yAxisID: "count",
                      order: 1,
                    },
                  ],
                },
                options: {
                  scales: {
                    rate: { position: "right", min: 0, max: 100, title: { display: true, text: "% resolved" } },
                    count: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
                  },
                },
              },
              {
                head: ["Day", "Started", "Completed", "Resolved"],
                rows: analytics.days.map((day) => ({
                  label: day.day,
                  cells: [
                    day.started,
                    day.completed,
                    day.completed > 0
                      ? `${percent(day.resolved, day.completed)} % of ${day.completed}`
                      : "none completed",
                  ],
                })),
              },
            ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-map" },
        h("h2", {}, "Where sessions ended"),
        ran ? exitsMap(tree, analytics.nodes) : h("p", { class: "muted" }, "No session has run yet."),
      ),
      h(
        "section",
        { class: "card", id: "analytics-answers" },
        h("h2", {}, "Answers"),
        answersChart(tree, analytics.nodes, titleOf),
      ),
      h(
        "section",
        { class: "card", id: "analytics-nodes" },
        h("h2", {}, "Each node"),
        ran
          ? h(
              "table",
              { class: "stacked" },
              h("thead", {}, h("tr", {}, ...NODE_COLUMNS.map((title) => h("th", {}, title)))),
              h(
                "tbody",
                {},
                ...analytics.nodes.map((node) =>
                  h(
                    "tr",
                    { "data-node-id": node.node_id },
                    ...[
                      titleOf(node.node_id),
                      String(node.visits),
                      String(node.exits),
                      seconds(node.time_ms.median),
                      answerCounts(tree, node)
                        .map(({ label, count }) => `${label}: ${count}`)
                        .join(", "),
                    ].map((cell, column) => h("td", { "data-label": NODE_COLUMNS[column] }, cell)),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, "No session has run yet."),
      ),
      h(
        "section",
        { class: "card", id: "analytics-paths" },
        h("h2", {}, "Most common paths"),
        h(
          "ol",
          {},
          ...analytics.paths.map((path) => h("li", {}, `${path.node_ids.map(titleOf).join(" › ")} (${path.count})`)),
        ),
      ),
    );
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "tree", treeId }) }, "← Back to the editor"));
    screen.fail(error);
  }
}

type NodeCounts = { node_id: string; exits: number; options: Array<{ option_id: string; count: number }> };

/** The published tree's map, each node where sessions ended marked with how many; the most, as a warning. */
function exitsMap(tree: Tree, nodes: NodeCounts[]): SVGSVGElement {
  const most = Math.max(0, ...nodes.map((node) => node.exits));
  const notes = new Map(
    nodes
      .filter((node) => node.exits > 0)
      .map((node) => [node.node_id, { text: `${node.exits} ended here`, strong: node.exits === most }]),
  );
  return treeMap(layoutTree(mapNodes(tree.nodes), tree.root_node_id), new Map(), undefined, notes);
}

/** Each question's answers as bars, one colour per question; a table gives the same counts. */
function answersChart(tree: Tree, nodes: NodeCounts[], titleOf: (id: string) => string): HTMLElement {
  const rows = nodes.flatMap((node) =>
    answerCounts(tree, node).map(({ label, count }) => ({
      label: `${titleOf(node.node_id)}: ${label}`,
      count,
    })),
  );
  if (rows.length === 0) return h("p", { class: "muted" }, "No question has been answered yet.");
  return chartFigure(
    "chart-answers",
    "Answers given at each question",
    {
      type: "bar",
      data: {
        labels: rows.map((row) => row.label),
        datasets: [
          {
            label: "answers",
            data: rows.map((row) => row.count),
            backgroundColor: COLOURS.completed,
            maxBarThickness: 24,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    },
    { head: ["Answer", "Times"], rows: rows.map((row) => ({ label: row.label, cells: [row.count] })) },
    60 + 32 * rows.length,
  );
}

/** A node's answer counts, in the order the node lists its answers, each by its label. */
function answerCounts(tree: Tree, node: NodeCounts): Array<{ label: string; count: number }> {
  const found = tree.nodes.find((candidate) => candidate.id === node.node_id);
  const options = found && "options" in found ? found.options : [];
  const at = (id: string) => {
    const index = options.findIndex((option) => option.id === id);
    return index < 0 ? options.length : index;
  };
  return [...node.options]
    .sort((a, b) => at(a.option_id) - at(b.option_id))
    .map(({ option_id, count }) => ({
      label: options.find((option) => option.id === option_id)?.label ?? option_id,
      count,
    }));
}
