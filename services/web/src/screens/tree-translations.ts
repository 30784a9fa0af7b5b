import { canonicalTag, LOCALE, textKey } from "@tdt/proto/contracts/tree-languages";
import {
  ApiError,
  answerOf,
  api,
  type TranslatedText,
  type TranslationSummary,
  type Tree,
  type TreeTranslation,
} from "../api.js";
import { h, show } from "../dom.js";
import { fieldProblem } from "../form.js";
import { languageName, t, wordFor } from "../i18n.js";
import { go, hashOf } from "../router.js";
import type { Screen } from "../screen.js";

/**
 * A tree's translations, for its authors: the languages it is translated into (how many of its
 * texts each covers, how many are outdated), a language added by its tag, and for one language
 * every text of the latest version, the tree's own (read only) beside its translation, an
 * outdated one flagged. Save sends the texts changed. Technicians get them with the next version
 * published.
 */
export async function treeTranslationsScreen(screen: Screen, treeId: string, locale?: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
  try {
    const path = { id: treeId };
    const [tree, summaries, translation] = await Promise.all([
      api.GET("/api/v1/trees/{id}", { params: { path } }).then(answerOf),
      api.GET("/api/v1/trees/{id}/translations", { params: { path } }).then(answerOf),
      locale
        ? api.GET("/api/v1/trees/{id}/translations/{locale}", { params: { path: { ...path, locale } } }).then(answerOf)
        : undefined,
    ]);
    draw(screen, tree, summaries, translation);
  } catch (error) {
    show(screen.root, backToEditor(treeId));
    screen.fail(error);
  }
}

const backToEditor = (treeId: string) =>
  h("a", { href: hashOf({ name: "tree", treeId }), id: "back-to-editor" }, t("translations.backToEditor"));

/** A language by its name in the app's language, and its tag. */
const named = (tag: string) => t("translations.languageTag", { name: languageName(tag), tag });

function draw(screen: Screen, tree: Tree, summaries: TranslationSummary[], translation?: TreeTranslation): void {
  const language = tree.language || "en";
  show(
    screen.root,
    h("div", { class: "heading" }, h("h1", {}, t("translations.title", { title: tree.title }))),
    h("p", { class: "muted", id: "translations-intro" }, t("translations.intro", { language: named(language) })),
    h("p", {}, backToEditor(tree.id)),
    localesCard(screen, tree, language, summaries, translation?.locale),
    translation ? textsCard(screen, tree, language, translation) : null,
  );
}

function localesCard(
  screen: Screen,
  tree: Tree,
  language: string,
  summaries: TranslationSummary[],
  open: string | undefined,
): HTMLElement {
  const tag = h("input", {
    id: "new-locale",
    name: "locale",
    maxlength: "35",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: t("translations.localeExample"),
  });
  const problem = fieldProblem(tag, "locale");
  const add = h(
    "form",
    { id: "add-locale", class: "inline-form" },
    h("label", { for: "new-locale" }, t("translations.addLabel")),
    h("div", { class: "search" }, tag, h("button", { type: "submit" }, t("translations.add"))),
    problem.line,
  );
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    const locale = canonicalTag(tag.value.trim());
    const why = !LOCALE.test(locale)
      ? t("translations.notATag")
      : locale === language
        ? t("translations.ownLanguage", { language: named(language) })
        : "";
    problem.line.textContent = why;
    if (why) {
      tag.setAttribute("aria-invalid", "true");
      tag.focus();
      return;
    }
    screen.clear();
    go({ name: "translations", treeId: tree.id, locale });
  });
  return h(
    "section",
    { class: "card", id: "translation-locales" },
    h("h2", {}, t("translations.languages")),
    summaries.length === 0
      ? h("p", { class: "muted", id: "no-translations" }, t("translations.none"))
      : h(
          "table",
          { class: "stacked" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", {}, t("translations.language")),
              h("th", {}, t("translations.translated")),
              h("th", {}, t("translations.outdated")),
              h("th", {}, t("translations.total")),
              h("th", {}, ""),
            ),
          ),
          h(
            "tbody",
            {},
            ...summaries.map((summary) =>
              h(
                "tr",
                { "data-locale": summary.locale, class: summary.locale === open ? "current" : undefined },
                h("td", { "data-label": t("translations.language") }, named(summary.locale)),
                h("td", { "data-label": t("translations.translated") }, String(summary.translated)),
                h("td", { "data-label": t("translations.outdated") }, String(summary.outdated)),
                h("td", { "data-label": t("translations.total") }, String(summary.total)),
                h(
                  "td",
                  {},
                  h(
                    "a",
                    { href: hashOf({ name: "translations", treeId: tree.id, locale: summary.locale }) },
                    t("translations.edit"),
                  ),
                ),
              ),
            ),
          ),
        ),
    add,
  );
}

/** One row of the texts: the text and its translation as loaded, and the control that edits it. */
interface Row {
  text: TranslatedText;
  control: HTMLTextAreaElement;
  /** An outdated translation the author says is still right: sent again as it is. */
  confirmed: boolean;
}

function textsCard(screen: Screen, tree: Tree, language: string, translation: TreeTranslation): HTMLElement {
  const { locale } = translation;
  const rows: Row[] = translation.texts.map((text, n) => {
    const control = h("textarea", {
      id: `translation-${n}`,
      class: text.outdated ? "translation-input outdated" : "translation-input",
      rows: text.field === "body" ? 4 : 1,
      lang: locale,
      "aria-label": t("translations.translationOf", { where: whereOf(text) }),
    });
    control.value = text.text;
    return { text, control, confirmed: false };
  });
  const save = h("button", { id: "save-translation", type: "submit" }, t("translations.save"));
  const form = h(
    "form",
    { class: "card", id: "translation-texts", "data-locale": locale },
    h("h2", {}, t("translations.textsHeading", { language: named(locale) })),
    h("p", { class: "muted" }, t("translations.textsIntro", { version: translation.version })),
    h(
      "table",
      { class: "translation-table stacked" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("translations.where")),
          h("th", { scope: "col", lang: language }, named(language)),
          h("th", { scope: "col" }, named(locale)),
        ),
      ),
      h("tbody", {}, ...rows.map((row) => rowOf(row))),
    ),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changed = rows.filter((row) => row.confirmed || row.control.value !== row.text.text);
    if (changed.length === 0) return screen.notify(t("translations.nothingChanged"));
    save.disabled = true;
    for (const line of form.querySelectorAll(".control-problem")) line.remove();
    try {
      const texts = changed.map(({ text, control }) => ({
        node_id: text.node_id,
        field: text.field,
        item_id: text.item_id,
        text: control.value.trim(),
      }));
      answerOf(
        await api.PUT("/api/v1/trees/{id}/translations/{locale}", {
          params: { path: { id: tree.id, locale } },
          body: { texts },
        }),
      );
      // Drawn again from what is stored now, the counts with it.
      await treeTranslationsScreen(screen, tree.id, locale);
      screen.notify(t("translations.saved", { count: texts.length }));
    } catch (error) {
      save.disabled = false;
      screen.fail(error);
      placeProblems(error, changed);
    }
  });
  return form;
}

function rowOf(row: Row): HTMLElement {
  const { text, control } = row;
  const flag = text.outdated
    ? h(
        "div",
        { class: "outdated-flag" },
        h("span", { class: "badge outdated" }, t("translations.outdatedBadge")),
        h(
          "button",
          {
            class: "secondary keep",
            type: "button",
            onclick: (event: Event) => {
              row.confirmed = true;
              (event.currentTarget as HTMLButtonElement).replaceWith(
                h("span", { class: "muted" }, t("translations.keptNote")),
              );
            },
          },
          t("translations.keep"),
        ),
      )
    : null;
  return h(
    "tr",
    { "data-key": textKey(text), class: text.outdated ? "outdated" : undefined },
    h("td", { class: "where" }, whereOf(text)),
    h("td", { class: "primary-text", "data-label": t("translations.primary") }, text.primary),
    h("td", { class: "translation" }, control, flag),
  );
}

/** Where a text is: its node, and which of the node's texts. */
function whereOf(text: TranslatedText): string {
  const field = wordFor("textField", text.field);
  return text.item_id
    ? t("translations.whereItem", { node: text.node_id, field, item: text.item_id })
    : t("translations.whereNode", { node: text.node_id, field });
}

/** A 422's problems at the rows sent (`loc` ["body", "texts", <index sent>, …]). */
function placeProblems(error: unknown, sent: Row[]): void {
  if (!(error instanceof ApiError)) return;
  for (const { loc, msg } of error.problems) {
    const row = loc[0] === "body" && loc[1] === "texts" && typeof loc[2] === "number" ? sent[loc[2]] : undefined;
    if (!row) continue;
    const line = h("p", { class: "form-error control-problem", id: `${row.control.id}-problem` }, msg);
    row.control.setAttribute("aria-invalid", "true");
    row.control.setAttribute("aria-describedby", line.id);
    row.control.after(line);
  }
}
