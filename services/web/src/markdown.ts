/**
 * The small Markdown of node bodies as DOM, never as HTML: paragraphs, bullet and numbered
 * lists, quotes, **bold**, *italic*, `code`, and images of the organization's media
 * (`![alt](media:<id>)`, drawn by the caller's `image`). Anything else, an image at any other
 * address included, stays as the text it is.
 */
import { h } from "./dom.js";

/** Draws the image of a `media:` reference. */
export type ImageOf = (id: string, alt: string) => Node;

const MEDIA_IMAGE = /^!\[([^\]\n]*)\]\(media:([0-9A-Za-z-]{1,64})\)$/;
const INLINE = /(!\[[^\]\n]*\]\(media:[0-9A-Za-z-]{1,64}\)|\*\*[^*]+\*\*|`[^`]+`|\*[^*\s][^*]*\*)/;

/** Without a way to draw images, a reference shows its alt text. */
const altText: ImageOf = (_id, alt) => h("span", { class: "image-alt" }, alt);

function inline(text: string, image: ImageOf): Array<Node | string> {
  return text
    .split(INLINE)
    .filter((part) => part !== "")
    .map((part) => {
      const media = MEDIA_IMAGE.exec(part);
      if (media) return image(media[2] as string, media[1] as string);
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

/** An indented line under a list item that is no item itself: more of that item (CommonMark's continuation). */
const continues = (line: string, last: Block | undefined) =>
  (last?.kind === "ul" || last?.kind === "ol") &&
  last.lines.length > 0 &&
  /^(?: {2,}|\t)/.test(line) &&
  kindOf(line) === "p";

/** A list item: its first line, and each continuation line on a line of its own. */
function item(line: string, image: ImageOf): HTMLElement {
  const [first = "", ...more] = line.split("\n");
  return h(
    "li",
    {},
    ...inline(stripMarker(first), image),
    ...more.flatMap((text) => [h("br"), ...inline(text.trim(), image)]),
  );
}

export function markdown(text: string, image: ImageOf = altText): HTMLElement {
  const blocks: Block[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      blocks.push({ kind: "p", lines: [] });
      continue;
    }
    const last = blocks.at(-1);
    if (last && continues(line, last)) {
      last.lines[last.lines.length - 1] += `\n${line}`;
      continue;
    }
    const kind = kindOf(line);
    // A list goes on across a blank line when its next item follows (a "loose" list).
    const open = [...blocks].reverse().find((block) => block.lines.length > 0);
    if (last && last.lines.length === 0 && (kind === "ul" || kind === "ol") && open?.kind === kind) {
      blocks.pop();
      open.lines.push(line);
      continue;
    }
    if (last && last.kind === kind && last.lines.length > 0) last.lines.push(line);
    else blocks.push({ kind, lines: [line] });
  }
  const container = h("div", { class: "node-body" });
  for (const block of blocks.filter((b) => b.lines.length > 0)) {
    if (block.kind === "ul" || block.kind === "ol") {
      // A numbered list starts at its first item's number, as written.
      const start = block.kind === "ol" ? Number(/^\s*(\d+)/.exec(block.lines[0] ?? "")?.[1] ?? 1) : 1;
      container.append(h(block.kind, start !== 1 ? { start } : {}, ...block.lines.map((line) => item(line, image))));
    } else if (block.kind === "quote") {
      container.append(h("blockquote", {}, ...inline(block.lines.map(stripMarker).join(" "), image)));
    } else {
      container.append(h("p", {}, ...inline(block.lines.join(" "), image)));
    }
  }
  return container;
}
