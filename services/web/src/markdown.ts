/**
 * The small Markdown of node bodies as DOM, never as HTML: paragraphs, bullet and numbered
 * lists, quotes, **bold**, *italic* and `code`. Anything else stays as the text it is.
 */
import { h } from "./dom.js";

const INLINE = /(\*\*[^*]+\*\*|`[^`]+`|\*[^*\s][^*]*\*)/;

function inline(text: string): Array<Node | string> {
  return text
    .split(INLINE)
    .filter((part) => part !== "")
    .map((part) => {
      if (/^\*\*[^*]+\*\*$/.test(part)) return h("strong", {}, part.slice(2, -2));
      if (/^`[^`]+`$/.test(part)) return h("code", {}, part.slice(1, -1));
      if (/^\*[^*\s][^*]*\*$/.test(part)) return h("em", {}, part.slice(1, -1));
      return part;
    });
}

type Block = { kind: "p" | "ul" | "ol" | "quote"; lines: string[] };

const kindOf = (line: string): Block["kind"] =>
  /^\s*[-*]\s+/.test(line) ? "ul" : /^\s*\d+[.)]\s+/.test(line) ? "ol" : /^\s*>/.test(line) ? "quote" : "p";

const stripMarker = (line: string) => line.replace(/^\s*(?:[-*]|\d+[.)]|>)\s?/, "");

export function markdown(text: string): HTMLElement {
  const blocks: Block[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      blocks.push({ kind: "p", lines: [] });
      continue;
    }
    const kind = kindOf(line);
    const last = blocks.at(-1);
    if (last && last.kind === kind && last.lines.length > 0) last.lines.push(line);
    else blocks.push({ kind, lines: [line] });
  }
  const container = h("div", { class: "node-body" });
  for (const block of blocks.filter((b) => b.lines.length > 0)) {
    if (block.kind === "ul" || block.kind === "ol") {
      container.append(h(block.kind, {}, ...block.lines.map((line) => h("li", {}, ...inline(stripMarker(line))))));
    } else if (block.kind === "quote") {
      container.append(h("blockquote", {}, ...inline(block.lines.map(stripMarker).join(" "))));
    } else {
      container.append(h("p", {}, ...inline(block.lines.join(" "))));
    }
  }
  return container;
}
