/** The tree as a map: an SVG of its nodes in layers by depth, edges labelled by option, problems marked. */
import type { Problem } from "./api-error.js";
import { svg } from "./dom.js";
import type { TreeLayout } from "./tree-layout.js";

const BOX = { width: 176, height: 52 };
const GAP = { x: 24, y: 92 };
const MARGIN = 24;

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The map; with `onSelect`, each node is a button (click, Enter or Space) that picks it, and
 * `selected` is drawn as picked.
 */
export function treeMap(
  layout: TreeLayout,
  problems: Map<number, Problem[]>,
  pick?: { onSelect: (index: number) => void; selected?: number | undefined },
): SVGSVGElement {
  const widest = Math.max(1, ...layout.layers.map((layer) => layer.length));
  const width = widest * (BOX.width + GAP.x) - GAP.x + 2 * MARGIN;
  const height = Math.max(1, layout.layers.length) * (BOX.height + GAP.y) - GAP.y + 2 * MARGIN + 40;
  const centre = new Map<number, { x: number; y: number }>();
  for (const layer of layout.layers) {
    const offset = (width - (layer.length * (BOX.width + GAP.x) - GAP.x)) / 2;
    for (const placed of layer) {
      centre.set(placed.index, {
        x: offset + placed.slot * (BOX.width + GAP.x) + BOX.width / 2,
        y: MARGIN + placed.layer * (BOX.height + GAP.y) + BOX.height / 2,
      });
    }
  }

  const map = svg("svg", {
    class: "tree-map",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: pick ? "group" : "img",
    "aria-label": pick ? "Map of the tree: pick a node to edit it" : "Map of the tree",
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

  for (const edge of layout.edges) {
    const from = centre.get(edge.from);
    if (!from) continue;
    const start = { x: from.x, y: from.y + BOX.height / 2 };
    const target = edge.to === undefined ? undefined : centre.get(edge.to);
    const end = target ? { x: target.x, y: target.y - BOX.height / 2 } : { x: start.x + 30, y: start.y + GAP.y * 0.6 };
    const bend = Math.max(30, Math.abs(end.y - start.y) / 2);
    const d = `M${start.x},${start.y} C${start.x},${start.y + bend} ${end.x},${end.y - bend} ${end.x},${end.y}`;
    const broken = target === undefined;
    const label = broken ? `${edge.label ? `${edge.label} ` : ""}→ "${edge.target}"?` : edge.label;
    map.append(svg("path", { d, class: broken ? "edge broken" : "edge", "marker-end": "url(#arrow)" }));
    if (label) {
      map.append(
        svg(
          "text",
          {
            class: broken ? "edge-label broken" : "edge-label",
            x: start.x + (end.x - start.x) * 0.3,
            y: start.y + (end.y - start.y) * 0.3 + 4,
            "text-anchor": "middle",
          },
          shorten(label, 24),
        ),
      );
    }
  }

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
            "aria-label": `Edit ${node.type} ${node.id}: ${node.title ?? ""}`,
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
          svg("text", { class: "node-id", x: x + 10, y: y + 18 }, shorten(`${node.type} · ${node.id}`, 28)),
          svg("text", { class: "node-title", x: x + 10, y: y + 38 }, shorten(node.title ?? "", 25)),
          nodeProblems.length > 0
            ? svg("text", { class: "problem-mark", x: x + BOX.width - 18, y: y + 18 }, "⚠")
            : null,
        ),
      );
    }
  }
  if (layout.hasUnreachable) {
    const y = MARGIN + (layout.layers.length - 1) * (BOX.height + GAP.y) - 12;
    map.append(svg("text", { class: "unreachable-label", x: MARGIN, y }, "Not reachable from the root:"));
  }
  return map;
}
