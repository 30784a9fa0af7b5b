/** A card's table of things (webhooks, API keys), each a row, that says "None yet." when it has none. */
import { h, show } from "./dom.js";
import { t } from "./i18n.js";

export function listTable(id: string, caption: string, titles: readonly string[]) {
  const list = h("tbody", {});
  const none = h("tr", {}, h("td", { colspan: titles.length, class: "muted" }, t("common.noneYet")));
  const table = h(
    "table",
    { class: "card stacked", id },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...titles.map((title) => h("th", {}, title)))),
    list,
  );
  return {
    table,
    /** Draws the rows anew. */
    fill(rows: readonly HTMLTableRowElement[]): void {
      show(list, ...(rows.length === 0 ? [none] : rows));
    },
    /** A new row: at the top where the list is newest first. */
    add(row: HTMLTableRowElement, where: "top" | "bottom"): void {
      none.remove();
      if (where === "top") list.prepend(row);
      else list.append(row);
    },
    /** After a row is taken away: "None yet." if it was the last. */
    noneLeft(): void {
      if (list.childElementCount === 0) show(list, none);
    },
  };
}
