import { sessionLocale } from "@tdt/proto/contracts/tree-languages";
import { answerOf, api, type Tree } from "../api.js";
import { h, show } from "../dom.js";
import { languageName, t } from "../i18n.js";
import { go, hashOf } from "../router.js";
import type { Screen } from "../screen.js";

/**
 * A tree before its session starts: what it covers, the ticket the session is for, and (when the
 * tree is translated) the language it runs in, the browser's by default.
 */
export async function startSessionScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
  let tree: Awaited<ReturnType<typeof loadTree>>;
  try {
    tree = await loadTree(treeId);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "trees", query: "" }) }, t("common.backToTrees")));
    return screen.fail(error);
  }
  const ticket = h("input", {
    id: "ticket",
    name: "ticket",
    placeholder: t("start.ticketExample"),
    autocomplete: "off",
  });
  const language = languagePicker(tree);
  const submit = h("button", { type: "submit" }, t("start.submit"));
  const form = h(
    "form",
    { class: "card narrow", id: "start-form" },
    h("h1", {}, tree.title),
    h("p", { class: "muted" }, t("start.facts", { category: tree.category, version: tree.version })),
    h("p", {}, tree.description),
    h("label", { for: "ticket" }, t("start.ticket")),
    ticket,
    ...(language ? [h("label", { for: "session-language" }, t("start.language")), language] : []),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const context = ticket.value.trim() ? { ticket: ticket.value.trim() } : {};
      const locale = language ? { locale: language.value } : {};
      const session = answerOf(await api.POST("/api/v1/sessions", { body: { tree_id: treeId, context, ...locale } }));
      // In place of this page: Back from the session goes to where the technician came from, not to
      // a form one click from a second session.
      go({ name: "session", sessionId: session.id }, { replace: true });
    } catch (error) {
      submit.disabled = false;
      screen.fail(error);
    }
  });
  show(screen.root, form);
  ticket.focus();
}

/**
 * The languages the tree's version runs in (its own and those it is translated into), each named
 * in itself, the browser's chosen; none when there is only the one.
 */
function languagePicker(tree: Tree): HTMLSelectElement | null {
  const language = tree.language || "en";
  const { translations } = tree;
  const offered = [language, ...translations.filter((tag) => tag !== language)];
  if (offered.length < 2) return null;
  const select = h(
    "select",
    { id: "session-language", name: "language" },
    ...offered.map((tag) => h("option", { value: tag, lang: tag }, languageName(tag, true))),
  );
  const browser = navigator.languages?.length ? navigator.languages : [navigator.language];
  select.value = sessionLocale(browser, translations, language);
  return select;
}

async function loadTree(id: string) {
  return answerOf(await api.GET("/api/v1/trees/{id}", { params: { path: { id } } }));
}
