/**
 * Which language this browser reads the app in: the one chosen on the switcher (kept in
 * localStorage, written only when someone chooses), else the first of the browser's languages the
 * app ships (by primary subtag: de-AT reads German), else English. Dates and numbers follow the
 * browser's own variant of that language (en-GB stays en-GB), and the page says its language.
 */
import { isShipped, useLanguage } from "./i18n.js";

const STORAGE_KEY = "tdt-language";

const browserLanguages = () => (navigator.languages?.length ? navigator.languages : [navigator.language]);

function primarySubtag(tag: string): string {
  return tag.split("-")[0]?.toLowerCase() ?? "";
}

/** At start: the saved choice, else the browser's languages, else English. */
export function useBrowserLanguage(): void {
  apply(savedChoice() ?? browserLanguages().map(primarySubtag).find(isShipped) ?? "en");
}

/** The switcher's choice: used at once and kept in this browser. */
export function chooseLanguage(chosen: string): void {
  if (!isShipped(chosen)) return;
  try {
    localStorage.setItem(STORAGE_KEY, chosen);
  } catch {
    // Storage refused (a private window's policy): not kept across a reload, but this page switches.
  }
  apply(chosen);
}

function savedChoice(): string | undefined {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved && isShipped(saved) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function apply(language: string): void {
  useLanguage(language, browserLanguages().find((tag) => primarySubtag(tag) === language) ?? language);
  document.documentElement.lang = language;
}
