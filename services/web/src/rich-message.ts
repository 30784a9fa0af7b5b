/**
 * A message with marked-up parts (`<strong>{address}</strong>`) as DOM: `strong`, `em` and `code`
 * are elements of their own, other tags what `values` makes of them (a link). Values are never
 * parsed: text stays text.
 */
import type { FormatXMLElementFn, PrimitiveType } from "intl-messageformat";
import { h } from "./dom.js";
import { type MessageKey, messageFormat } from "./i18n.js";

type Part = Node | string;

const tagged =
  <K extends keyof HTMLElementTagNameMap>(tag: K): FormatXMLElementFn<Part, Part> =>
  (chunks) =>
    h(tag, {}, ...chunks);

export function rich(
  key: MessageKey,
  values: Record<string, PrimitiveType | Part | FormatXMLElementFn<Part, Part>>,
): Part[] {
  const parts = messageFormat(key).format<Part>({
    strong: tagged("strong"),
    em: tagged("em"),
    code: tagged("code"),
    ...values,
  });
  return Array.isArray(parts) ? parts : [parts];
}
