/**
 * Charts, drawn by Chart.js (a maintained charting library; only the parts used are bundled).
 * Each chart is a figure: the canvas, named for screen readers by its caption, and the same
 * figures as a table beside it, so that nothing is only a picture.
 */

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { h } from "./dom.js";
import { formatLocale } from "./i18n.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

export interface Row {
  /** What the row counts, also its `data-label`. */
  label: string;
  cells: Array<string | number>;
}

/**
 * A figure of `config` drawn on a canvas (`height` pixels high, or as the style sheet says),
 * captioned, with `rows` under `head` as its table.
 * Charts are drawn without animation: what is on screen is the data at once.
 */
export function chartFigure(
  id: string,
  caption: string,
  config: ChartConfiguration,
  table: { head: string[]; rows: Row[] },
  height?: number,
): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": caption });
  const area = h("div", { class: "chart-area" }, canvas);
  // Through the CSSOM: the app's Content Security Policy allows no inline style attribute.
  if (height !== undefined) area.style.height = `${height}px`;
  const figure = h(
    "figure",
    { class: "chart", id },
    area,
    h("figcaption", {}, caption),
    h(
      "table",
      { class: "chart-data" },
      h("thead", {}, h("tr", {}, ...table.head.map((title) => h("th", {}, title)))),
      h(
        "tbody",
        {},
        ...table.rows.map((row) =>
          h(
            "tr",
            { "data-label": row.label },
            h("th", {}, row.label),
            ...row.cells.map((cell) => h("td", {}, String(cell))),
          ),
        ),
      ),
    ),
  );
  // Drawn once the figure is in the page (Chart.js sizes the canvas by its container). Charts of a
  // page left since are let go first: Chart.js keeps every chart until it is destroyed.
  queueMicrotask(() => {
    for (const drawn of Object.values(Chart.instances)) if (!drawn.canvas.isConnected) drawn.destroy();
    new Chart(canvas, {
      ...config,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        // Numbers on the axes and in tooltips as the app's language writes them.
        locale: formatLocale(),
        ...config.options,
      },
    } as ChartConfiguration);
  });
  return figure;
}
