import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { answerOf, api, type Tree } from "../api.js";
import { COLOURS } from "../chart-colours.js";
import { chartFigure } from "../charts.js";
import { h, show } from "../dom.js";
import { t, wordFor } from "../i18n.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { layoutTree, mapNodes } from "../tree-layout.js";
import { treeMap } from "../tree-map.js";

const seconds = (ms: number) =>
  ms >= 60_000
    ? t("analytics.minutes", { minutes: Math.round(ms / 60_000) })
    : t("analytics.seconds", { seconds: Math.round(ms / 1000) });
const nodeColumns = () => [
  t("analytics.node"),
  t("analytics.reached"),
  t("analytics.endedHere"),
  t("analytics.medianTime"),
  t("analytics.answers"),
];
const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0);

/**
 * What technicians did with a tree (engineers, admins), drawn with Chart.js: sessions by outcome,
 * the resolution rate by day, the answers given at each question; where sessions ended, on the
 * tree's map; per node how often it was reached, left and answered; the most common paths.
 */
export async function treeAnalyticsScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
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
    const columns = nodeColumns();
    const countName = (name: string) => wordFor("sessionCount", name);
    const noSession = () => h("p", { class: "muted" }, t("analytics.noSession"));
    show(
      screen.root,
      h("a", { href: hashOf({ name: "tree", treeId }) }, t("analytics.backToEditor")),
      h("h1", {}, t("analytics.title", { title: tree.title })),
      h(
        "section",
        { class: "card", id: "analytics-sessions" },
        h("h2", {}, t("analytics.sessions")),
        chartFigure(
          "chart-sessions",
          t("analytics.byOutcome"),
          {
            type: "bar",
            data: {
              labels: counts.map(([label]) => countName(label)),
              datasets: [
                {
                  label: t("analytics.sessionsSeries"),
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
          {
            head: ["", t("analytics.sessions")],
            rows: counts.map(([label, count]) => ({ label: countName(label), cells: [count] })),
          },
        ),
        h(
          "p",
          { id: "analytics-summary" },
          sessions.completed > 0
            ? t("analytics.summaryWithTimes", {
                rate: Math.round(analytics.resolution_rate * 100),
                median: seconds(analytics.duration_ms.median),
                p90: seconds(analytics.duration_ms.p90),
              })
            : t("analytics.summary", { rate: Math.round(analytics.resolution_rate * 100) }),
        ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-days" },
        h("h2", {}, t("analytics.overTime")),
        analytics.days.length === 0
          ? noSession()
          : chartFigure(
              "chart-days",
              t("analytics.byDay"),
              {
                type: "bar",
                data: {
                  labels: analytics.days.map((day) => day.day),
                  datasets: [
                    {
                      type: "line",
                      label: t("analytics.resolvedSeries"),
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
                      label: t("analytics.completedSeries"),
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
                    rate: {
                      position: "right",
                      min: 0,
                      max: 100,
                      title: { display: true, text: t("analytics.rateAxis") },
                    },
                    count: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
                  },
                },
              },
              {
                head: [t("analytics.day"), t("analytics.started"), t("analytics.completed"), t("analytics.resolved")],
                rows: analytics.days.map((day) => ({
                  label: day.day,
                  cells: [
                    day.started,
                    day.completed,
                    day.completed > 0
                      ? t("analytics.resolvedOf", {
                          percent: percent(day.resolved, day.completed),
                          completed: day.completed,
                        })
                      : t("analytics.noneCompleted"),
                  ],
                })),
              },
            ),
      ),
      h(
        "section",
        { class: "card", id: "analytics-map" },
        h("h2", {}, t("analytics.whereEnded")),
        ran ? exitsMap(tree, analytics.nodes) : noSession(),
      ),
      h(
        "section",
        { class: "card", id: "analytics-answers" },
        h("h2", {}, t("analytics.answers")),
        answersChart(tree, analytics.nodes, titleOf),
      ),
      h(
        "section",
        { class: "card", id: "analytics-nodes" },
        h("h2", {}, t("analytics.eachNode")),
        ran
          ? h(
              "table",
              { class: "stacked" },
              h("thead", {}, h("tr", {}, ...columns.map((title) => h("th", {}, title)))),
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
                    ].map((cell, column) => h("td", { "data-label": columns[column] }, cell)),
                  ),
                ),
              ),
            )
          : noSession(),
      ),
      h(
        "section",
        { class: "card", id: "analytics-paths" },
        h("h2", {}, t("analytics.paths")),
        h(
          "ol",
          {},
          ...analytics.paths.map((path) => h("li", {}, `${path.node_ids.map(titleOf).join(" › ")} (${path.count})`)),
        ),
      ),
    );
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "tree", treeId }) }, t("analytics.backToEditor")));
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
      .map((node) => [
        node.node_id,
        { text: t("analytics.exits", { count: node.exits }), strong: node.exits === most },
      ]),
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
  if (rows.length === 0) return h("p", { class: "muted" }, t("analytics.noAnswers"));
  return chartFigure(
    "chart-answers",
    t("analytics.answersChart"),
    {
      type: "bar",
      data: {
        labels: rows.map((row) => row.label),
        datasets: [
          {
            label: t("analytics.answersSeries"),
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
    {
      head: [t("analytics.answer"), t("analytics.times")],
      rows: rows.map((row) => ({ label: row.label, cells: [row.count] })),
    },
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
