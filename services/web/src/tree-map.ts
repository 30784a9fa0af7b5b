/** The tree as a map: an SVG of its nodes in layers by depth, edges labelled by option, problems marked. */

import dagre from "@dagrejs/dagre";
import type { Problem } from "./api-error.js";
import { svg } from "./dom.js";
import { t, wordFor } from "./i18n.js";
import type { TreeLayout } from "./tree-layout.js";

const BOX = { width: 176, height: 52 };
const GAP = { x: 24, y: 92 };
const MARGIN = 24;

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The map; with `onSelect`, each node is a button (click, Enter or Space) that picks it, and
 * `selected` is drawn as picked. `notes` writes a short label on the nodes it names (by id), in a
 * pill on the box's lower edge; a `strong` one is drawn as a warning. The nodes the root reaches are laid out by dagre (a maintained
 * layered graph layout: few crossings, edges routed round the boxes, room for their labels);
 * those it does not reach sit in a row of their own below.
 */
export function treeMap(
  layout: TreeLayout,
  problems: Map<number, Problem[]>,
  pick?: { onSelect: (index: number) => void; selected?: number | undefined },
  notes?: Map<string, { text: string; strong: boolean }>,
): SVGSVGElement {
  const placed = positions(layout);
  const { width, height, centre, routes } = placed;

  const map = svg("svg", {
    class: "tree-map",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: pick ? "group" : "img",
    "aria-label": pick ? t("map.pickLabel") : t("map.label"),
  });
  map.append(
    svg(
      "defs",
      {},
      svg(
        "marker",
        { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }),
      ),
    ),
  );

  layout.edges.forEach((edge, n) => {
    const from = centre.get(edge.from);
    if (!from) return;
    const target = edge.to === undefined ? undefined : centre.get(edge.to);
    const route = routes.get(n);
    let d: string;
    let labelAt: { x: number; y: number };
    if (route && target) {
      d = `M${route.points.map((point) => `${point.x},${point.y}`).join(" L")}`;
      labelAt = route.label ?? route.points[Math.floor(route.points.length / 2)] ?? from;
    } else {
      // To a node that is not there (or one not laid out with it): a short stub, named.
      const start = { x: from.x, y: from.y + BOX.height / 2 };
      const end = target
        ? { x: target.x, y: target.y - BOX.height / 2 }
        : { x: start.x + 30, y: start.y + GAP.y * 0.6 };
      const bend = Math.max(30, Math.abs(end.y - start.y) / 2);
      d = `M${start.x},${start.y} C${start.x},${start.y + bend} ${end.x},${end.y - bend} ${end.x},${end.y}`;
      labelAt = { x: start.x + (end.x - start.x) * 0.3, y: start.y + (end.y - start.y) * 0.3 + 4 };
    }
    const broken = target === undefined;
    const named = edge.otherwise ? t("map.otherwise") : edge.label;
    const label = broken ? `${named ? `${named} ` : ""}→ "${edge.target}"?` : named;
    map.append(svg("path", { d, class: broken ? "edge broken" : "edge", "marker-end": "url(#arrow)" }));
    if (label) {
      map.append(
        svg(
          "text",
          {
            class: broken ? "edge-label broken" : "edge-label",
            x: labelAt.x,
            y: labelAt.y + 4,
            "text-anchor": "middle",
          },
          shorten(label, 24),
        ),
      );
    }
  });

  for (const layer of layout.layers) {
    for (const { node, index } of layer) {
      const at = centre.get(index);
      if (!at) continue;
      const nodeProblems = problems.get(index) ?? [];
      const x = at.x - BOX.width / 2;
      const y = at.y - BOX.height / 2;
      const choose = pick
        ? {
            tabindex: 0,
            role: "button",
            "aria-label": t("map.editNode", {
              type: wordFor("nodeType", node.type),
              id: node.id,
              title: node.title ?? "",
            }),
            onclick: () => pick.onSelect(index),
            onkeydown: (event: Event) => {
              const key = (event as KeyboardEvent).key;
              if (key !== "Enter" && key !== " ") return;
              event.preventDefault();
              pick.onSelect(index);
            },
          }
        : {};
      const picked = pick?.selected === index ? " selected" : "";
      map.append(
        svg(
          "g",
          {
            class: `map-node ${node.type}${nodeProblems.length > 0 ? " has-problem" : ""}${picked}`,
            "data-node-id": node.id,
            "data-node-index": index,
            ...choose,
          },
          svg("title", {}, [node.title ?? "", ...nodeProblems.map((problem) => `⚠ ${problem.msg}`)].join("\n")),
          svg("rect", { x, y, width: BOX.width, height: BOX.height, rx: 8 }),
          svg(
            "text",
            { class: "node-id", x: x + 10, y: y + 18 },
            shorten(`${wordFor("nodeType", node.type)} · ${node.id}`, 28),
          ),
          svg("text", { class: "node-title", x: x + 10, y: y + 38 }, shorten(node.title ?? "", 25)),
          nodeProblems.length > 0
            ? svg("text", { class: "problem-mark", x: x + BOX.width - 18, y: y + 18 }, "⚠")
            : null,
          noteOn(notes?.get(node.id), x + BOX.width, y + BOX.height),
        ),
      );
    }
  }
  if (layout.hasUnreachable) {
    map.append(
      svg("text", { class: "unreachable-label", x: MARGIN, y: placed.unreachableTop - 12 }, t("map.unreachable")),
    );
  }
  return map;
}

/** A note's pill, its right end at (`right`, centred on `edge`). */
function noteOn(note: { text: string; strong: boolean } | undefined, right: number, edge: number) {
  if (!note) return null;
  const text = shorten(note.text, 22);
  const width = text.length * 6.5 + 12;
  return svg(
    "g",
    { class: `map-note${note.strong ? " strong" : ""}` },
    svg("rect", { class: "note-pill", x: right - width - 6, y: edge - 9, width, height: 18, rx: 9 }),
    svg("text", { class: "note-text", x: right - 12, y: edge + 4, "text-anchor": "end" }, text),
  );
}

interface Placed {
  width: number;
  height: number;
  /** Each node's centre, by its index. */
  centre: Map<number, { x: number; y: number }>;
  /** Each laid out edge's route and label place, by its index in `layout.edges`. */
  routes: Map<number, { points: Array<{ x: number; y: number }>; label?: { x: number; y: number } }>;
  unreachableTop: number;
}

/** Where everything goes: dagre for what the root reaches, a row below for the rest. */
function positions(layout: TreeLayout): Placed {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({
    rankdir: "TB",
    nodesep: GAP.x,
    ranksep: GAP.y / 1.5,
    edgesep: 12,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  graph.setDefaultEdgeLabel(() => ({}));
  const reached = layout.hasUnreachable ? layout.layers.slice(0, -1) : layout.layers;
  const unreachable = layout.hasUnreachable ? (layout.layers.at(-1) ?? []) : [];
  const inGraph = new Set<number>();
  for (const { index } of reached.flat()) {
    graph.setNode(String(index), { width: BOX.width, height: BOX.height });
    inGraph.add(index);
  }
  layout.edges.forEach((edge, n) => {
    if (edge.to === undefined || !inGraph.has(edge.from) || !inGraph.has(edge.to)) return;
    const named = edge.otherwise ? t("map.otherwise") : edge.label;
    const labelled = named ? { width: Math.min(24, named.length) * 6.5 + 8, height: 14, labelpos: "c" } : {};
    graph.setEdge(String(edge.from), String(edge.to), labelled, String(n));
  });
  dagre.layout(graph);

  const centre = new Map<number, { x: number; y: number }>();
  for (const index of inGraph) {
    const node = graph.node(String(index));
    centre.set(index, { x: node.x, y: node.y });
  }
  const routes: Placed["routes"] = new Map();
  for (const key of graph.edges()) {
    const routed = graph.edge(key) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
    if (!routed.points || key.name === undefined) continue;
    routes.set(Number(key.name), {
      points: routed.points,
      ...(routed.x !== undefined && routed.y !== undefined ? { label: { x: routed.x, y: routed.y } } : {}),
    });
  }
  const laidOut = graph.graph() as { width?: number; height?: number };
  const graphWidth = inGraph.size > 0 ? (laidOut.width ?? 0) : 0;
  const graphHeight = inGraph.size > 0 ? (laidOut.height ?? 0) : MARGIN;
  // The unreachable row, below, centred.
  const unreachableTop = graphHeight + 40;
  const rowWidth = unreachable.length * (BOX.width + GAP.x) - GAP.x + 2 * MARGIN;
  const width = Math.max(graphWidth, rowWidth, BOX.width + 2 * MARGIN);
  unreachable.forEach(({ index }, slot) => {
    const offset = (width - (unreachable.length * (BOX.width + GAP.x) - GAP.x)) / 2;
    centre.set(index, { x: offset + slot * (BOX.width + GAP.x) + BOX.width / 2, y: unreachableTop + BOX.height / 2 });
  });
  const height = unreachable.length > 0 ? unreachableTop + BOX.height + MARGIN : graphHeight;
  return { width, height, centre, routes, unreachableTop };
}
