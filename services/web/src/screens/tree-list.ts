import { answerOf, api, type TreeSummary } from "../api.js";
import { h, show } from "../dom.js";
import { t, wordFor } from "../i18n.js";
import { go, hashOf } from "../router.js";
import { canAuthor, type Screen } from "../screen.js";
import { newDraft } from "../tree-template.js";

/** The trees a user may run (engineers: every tree, drafts too), or those a search finds. */
export async function treeListScreen(screen: Screen, query: string): Promise<void> {
  const search = h("input", {
    id: "search",
    type: "search",
    name: "q",
    value: query,
    placeholder: t("trees.searchExample"),
  });
  const form = h(
    "form",
    { class: "search", role: "search" },
    h("label", { for: "search", class: "visually-hidden" }, t("trees.searchLabel")),
    search,
    h("button", { type: "submit" }, t("trees.search")),
    query
      ? h("a", { href: hashOf({ name: "trees", query: "" }), class: "button secondary" }, t("trees.showAll"))
      : null,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go({ name: "trees", query: search.value.trim() });
  });
  const list = h("ul", { class: "tree-list", id: "tree-list" }, h("li", { class: "muted" }, t("common.loading")));
  const create = canAuthor(screen.user)
    ? h("button", { id: "new-draft", class: "secondary" }, t("trees.newDraft"))
    : null;
  create?.addEventListener("click", async () => {
    try {
      const tree = answerOf(await api.POST("/api/v1/trees", { body: newDraft() }));
      go({ name: "tree", treeId: tree.id });
    } catch (error) {
      screen.fail(error);
    }
  });
  // Authors also import a tree from a file (the portable format) and see the archived ones.
  const importFile = h("input", { id: "import-file", type: "file", accept: ".json,application/json" });
  importFile.addEventListener("change", async () => {
    const file = importFile.files?.[0];
    if (!file) return;
    try {
      const body = JSON.parse(await file.text()) as never;
      const tree = answerOf(await api.POST("/api/v1/trees/import", { body }));
      go({ name: "tree", treeId: tree.id });
    } catch (error) {
      screen.fail(error instanceof SyntaxError ? new Error(t("trees.notJson", { file: file.name })) : error);
    }
  });
  let archived = false;
  const toggle = h("button", { id: "show-archived", class: "secondary", type: "button" }, t("trees.archived"));
  toggle.addEventListener("click", () => {
    archived = !archived;
    toggle.textContent = archived ? t("trees.live") : t("trees.archived");
    void fill();
  });
  const authoring = canAuthor(screen.user)
    ? h(
        "div",
        { class: "actions", id: "authoring-tools" },
        h("label", { class: "button secondary", for: "import-file" }, t("trees.import")),
        importFile,
        toggle,
      )
    : null;
  show(
    screen.root,
    h("div", { class: "heading" }, h("h1", {}, query ? t("trees.matching", { query }) : t("trees.title")), create),
    form,
    authoring,
    list,
  );

  const fill = async () => {
    try {
      const trees =
        query && !archived
          ? answerOf(await api.GET("/api/v1/trees/search", { params: { query: { q: query, limit: 50 } } }))
          : answerOf(await api.GET("/api/v1/trees", { params: { query: { limit: 100, archived } } }));
      show(
        list,
        ...(trees.length > 0
          ? trees.map((tree) => (archived ? archivedItem(screen, tree, fill) : treeItem(screen, tree)))
          : [h("li", { class: "muted" }, archived ? t("trees.noArchived") : t("trees.none"))]),
      );
    } catch (error) {
      show(list);
      screen.fail(error);
    }
  };
  await fill();
}

/** An archived tree: what it was, and a way back. */
function archivedItem(screen: Screen, tree: TreeSummary, refill: () => Promise<void>): HTMLElement {
  const restore = h("button", { class: "restore" }, t("trees.restore"));
  restore.addEventListener("click", async () => {
    restore.disabled = true;
    try {
      answerOf(await api.POST("/api/v1/trees/{id}/restore", { params: { path: { id: tree.id } } }));
      screen.notify(t("trees.restored", { title: tree.title }));
      await refill();
    } catch (error) {
      restore.disabled = false;
      screen.fail(error);
    }
  });
  return h(
    "li",
    { class: "card tree-item archived", "data-tree-id": tree.id },
    h("div", { class: "tree-head" }, h("h2", {}, tree.title), h("span", { class: "badge" }, t("trees.archivedBadge"))),
    h("p", { class: "muted" }, facts(tree)),
    h("div", { class: "actions" }, restore),
  );
}

/** A tree's category, size and version, on one line. */
const facts = (tree: TreeSummary) =>
  t("trees.facts", { category: tree.category, count: tree.node_count, version: tree.version });

function treeItem(screen: Screen, tree: TreeSummary): HTMLElement {
  return h(
    "li",
    { class: "card tree-item", "data-tree-id": tree.id },
    h(
      "div",
      { class: "tree-head" },
      h("h2", {}, tree.title),
      h("span", { class: `badge ${tree.status}` }, wordFor("treeStatus", tree.status)),
    ),
    h("p", { class: "muted" }, facts(tree)),
    h("p", {}, tree.description),
    h(
      "div",
      { class: "actions" },
      tree.status === "published"
        ? h("a", { class: "button", href: hashOf({ name: "start", treeId: tree.id }) }, t("start.submit"))
        : null,
      canAuthor(screen.user)
        ? h("a", { class: "button secondary", href: hashOf({ name: "tree", treeId: tree.id }) }, t("trees.edit"))
        : null,
    ),
  );
}
