/**
 * The app's own words in the language in use: ICU MessageFormat messages, formatted by
 * intl-messageformat (FormatJS), one catalog per language in messages/. Which language a browser
 * reads is language-choice.ts's to say; until it does (and outside a browser) it is English. What
 * the API says (titles, names, codes) is never translated here.
 */
import { IntlMessageFormat, type PrimitiveType } from "intl-messageformat";
import { de } from "./messages/de.js";
import { en } from "./messages/en.js";

export type MessageKey = keyof typeof en;
type Catalog = Record<MessageKey, string>;

/** The languages shipped, each by its primary subtag; each catalog names its own language (`language.name`). */
const CATALOGS: Record<string, Catalog> = { en, de };

export const isShipped = (language: string) => Object.hasOwn(CATALOGS, language);

/** Each language shipped, named in itself (English, Deutsch), for the switcher. */
export const shippedLanguages = () =>
  Object.entries(CATALOGS).map(([code, catalog]) => ({ code, name: catalog["language.name"] }));

let language = "en";
let locale = "en";
/** The compiled messages of the language in use, by key: each is parsed once, not at every draw. */
let compiled = new Map<MessageKey, IntlMessageFormat>();

export const currentLanguage = () => language;

/** The locale dates and numbers are formatted in (for a library that formats its own, such as Chart.js). */
export const formatLocale = () => locale;

/** Words in `chosen` from now on, dates and numbers as `variant` (a locale of that language) writes them. */
export function useLanguage(chosen: string, variant: string): void {
  if (!isShipped(chosen)) return;
  language = chosen;
  locale = variant;
  compiled = new Map();
}

export const isMessageKey = (key: string): key is MessageKey => Object.hasOwn(en, key);

/** The message `key` of the language in use, compiled. */
export function messageFormat(key: MessageKey): IntlMessageFormat {
  let message = compiled.get(key);
  if (!message) {
    message = new IntlMessageFormat((CATALOGS[language] as Catalog)[key], locale);
    compiled.set(key, message);
  }
  return message;
}

/** The message `key` in the language in use, with `values` in its placeholders. */
export function t(key: MessageKey, values?: Record<string, PrimitiveType>): string {
  return String(messageFormat(key).format(values));
}

/**
 * A closed value of the contract (an outcome, a role, a node type) in words: its message
 * `<group>.<value>`; a value added to the contract since reads as itself.
 */
export function wordFor(group: string, value: string): string {
  const key = `${group}.${value}`;
  return isMessageKey(key) ? t(key) : value;
}

/** A moment as date and time, as the language in use writes it. */
export const dateTime = (at: string | number | Date) => new Date(at).toLocaleString(locale);
export const dateOnly = (at: string | number | Date) => new Date(at).toLocaleDateString(locale);
export const timeOnly = (at: string | number | Date) => new Date(at).toLocaleTimeString(locale);

/**
 * A language's name (`de` → "German"), in the language in use, or with `inItself` in that
 * language (`de` → "Deutsch"); the tag itself where the browser knows no name for it.
 */
export function languageName(tag: string, inItself = false): string {
  try {
    return new Intl.DisplayNames([inItself ? tag : locale], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}
