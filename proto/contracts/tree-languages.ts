/**
 * Trees in several languages (docs/decisions/logic-forms-media-languages.md), as the trees service
 * keeps translations and the sessions service shows them: which texts of a tree translate, the
 * key of each, a tree with its texts in a locale (each falling back to the tree's own), and which
 * locale a session runs in. Imported as `@tdt/proto/contracts/tree-languages`.
 */
import type { Node } from "@tdt/proto/tdt/trees/v1/trees";

/**
 * A language tag (BCP 47) in its usual spelling: a language, then optionally a script and a
 * region (`en`, `de`, `pt-BR`, `zh-Hant-TW`, `es-419`).
 */
export const LOCALE = /^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|\d{3}))?$/;

/** A tree's language when none was said (every tree written before languages). */
export const DEFAULT_LANGUAGE = "en";

export type TextField = "title" | "body" | "option_label" | "field_label";

/** One text of a tree a translation may replace. */
export interface TreeText {
  node_id: string;
  field: TextField;
  /** The option's or form field's id for a label; empty for a title or a body. */
  item_id: string;
  /** The text in the tree's language. */
  primary: string;
}

/** A text's key within its tree: ids hold no `:`, so the key is unambiguous. */
export const textKey = (text: { node_id: string; field: string; item_id: string }) =>
  `${text.node_id}:${text.field}:${text.item_id}`;

/** Every text of `nodes` a translation may replace, in the tree's order (an empty body has none). */
export function textsOf(nodes: readonly Node[]): TreeText[] {
  const texts: TreeText[] = [];
  for (const node of nodes) {
    texts.push({ node_id: node.id, field: "title", item_id: "", primary: node.title });
    if (node.body !== "") texts.push({ node_id: node.id, field: "body", item_id: "", primary: node.body });
    for (const option of node.options ?? []) {
      texts.push({ node_id: node.id, field: "option_label", item_id: option.id, primary: option.label });
    }
    for (const field of node.fields ?? []) {
      texts.push({ node_id: node.id, field: "field_label", item_id: field.id, primary: field.label });
    }
  }
  return texts;
}

/** Translated texts by key (`textKey`). */
export type LocaleTexts = Readonly<Record<string, string>>;

/** `nodes` with each text in `texts` where it has one, the tree's own elsewhere. */
export function localizedNodes(nodes: readonly Node[], texts: LocaleTexts): Node[] {
  const text = (node_id: string, field: TextField, item_id: string, own: string) =>
    texts[textKey({ node_id, field, item_id })] || own;
  return nodes.map((node) => ({
    ...node,
    title: text(node.id, "title", "", node.title),
    body: node.body === "" ? "" : text(node.id, "body", "", node.body),
    options: (node.options ?? []).map((option) => ({
      ...option,
      label: text(node.id, "option_label", option.id, option.label),
    })),
    fields: (node.fields ?? []).map((field) => ({
      ...field,
      label: text(node.id, "field_label", field.id, field.label),
    })),
  }));
}

/**
 * The locale a session runs in: the one asked for (or, failing it, the first of the caller's
 * `Accept-Language` list) when the tree's version is translated into it, matched exactly or by
 * its language alone (`de-AT` → `de`); else the tree's own language.
 */
export function sessionLocale(asked: readonly string[], available: readonly string[], own: string): string {
  for (const tag of asked) {
    if (tag === own || tag.split("-")[0] === own) return own;
    if (available.includes(tag)) return tag;
    const language = tag.split("-")[0] ?? "";
    if (available.includes(language)) return language;
  }
  return own;
}

/** The tags of an `Accept-Language` header, most wanted first (at most ten; `*` and junk dropped). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 500)
    .split(",")
    .map((part, index) => {
      const [tag = "", ...parameters] = part.trim().split(";");
      const q = parameters.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: canonicalTag(tag.trim()), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0 && LOCALE.test(entry.tag))
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .slice(0, 10)
    .map((entry) => entry.tag);
}

/** A tag in its usual spelling: `DE-at` → `de-AT`. */
export function canonicalTag(tag: string): string {
  return tag
    .split("-")
    .map((part, index) => {
      if (index === 0) return part.toLowerCase();
      if (part.length === 4) return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
      return part.toUpperCase();
    })
    .join("-");
}
