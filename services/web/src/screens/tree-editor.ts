import { ApiError, answerOf, api, type Problem, type Tree, type TreeInput, type TreeUpdate } from "../api.js";
import { h, show } from "../dom.js";
import { placeOf, problemsByNode } from "../node-problems.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { layoutTree, type MapNode } from "../tree-layout.js";
import { treeMap } from "../tree-map.js";

/** The fields an author edits; the rest (id, version, dates) belong to the service. */
function editable(tree: Tree): Omit<TreeInput, "version"> {
  const { title, description, category, tags, status, root_node_id, nodes } = tree;
  return { title, description, category, tags, status, root_node_id, change_note: "", nodes };
}

/**
 * An engineer's view of a tree: the map of the draft as it is typed, a JSON editor, save (a new
 * version, from the version it was opened at) and publish. A 422's problems show at their nodes.
 */
export async function treeEditorScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  try {
    edit(screen, answerOf(await api.GET("/api/v1/trees/{id}", { params: { path: { id: treeId } } })), []);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "trees", query: "" }) }, "← Back to the trees"));
    screen.fail(error);
  }
}

function edit(screen: Screen, tree: Tree, problems: Problem[], text = JSON.stringify(editable(tree), null, 2)): void {
  const editor = h("textarea", { id: "tree-json", spellcheck: "false", rows: 30 });
  editor.value = text;
  const mapArea = h("div", { class: "map-area", id: "tree-map" });
  const parseNote = h("p", { class: "form-error", id: "json-error", role: "alert" });
  const problemList = h(
    "ul",
    { class: "problems", id: "problems" },
    ...problems.map((problem) =>
      h("li", {}, h("strong", {}, placeOf(problem.loc, parsedNodes(editor.value))), `: ${problem.msg}`),
    ),
  );

  const redraw = () => {
    const draft = parse(editor.value);
    if (!draft) {
      parseNote.textContent = "Not valid JSON yet: the map shows the last valid version.";
      return;
    }
    parseNote.textContent = "";
    show(
      mapArea,
      treeMap(layoutTree(mapNodes(draft.nodes), String(draft.root_node_id ?? "")), problemsByNode(problems)),
    );
  };
  editor.addEventListener("input", redraw);

  const save = (status?: "published") => async () => {
    const draft = parse(editor.value);
    if (!draft) return screen.notify("The JSON does not parse: fix it first.", "error");
    for (const button of screen.root.querySelectorAll("button")) button.disabled = true;
    // The text is the author's: the service judges it, and a 422 says where it is wrong.
    const body = { ...draft, ...(status ? { status } : {}), version: tree.version } as TreeUpdate;
    try {
      const saved = answerOf(await api.PUT("/api/v1/trees/{id}", { params: { path: { id: tree.id } }, body }));
      screen.notify(
        saved.status === "published" ? `Published as version ${saved.version}.` : `Saved version ${saved.version}.`,
      );
      edit(screen, saved, []);
    } catch (error) {
      screen.fail(error);
      const found = error instanceof ApiError ? error.problems : [];
      edit(screen, tree, found, editor.value);
    }
  };

  show(
    screen.root,
    h(
      "div",
      { class: "heading" },
      h("h1", {}, tree.title),
      h("span", { class: `badge ${tree.status}`, id: "tree-status" }, tree.status),
    ),
    h("p", { class: "muted", id: "tree-version" }, `Version ${tree.version} · ${tree.nodes.length} nodes`),
    h("section", { class: "card" }, h("h2", {}, "Map"), parseNote, mapArea),
    problems.length > 0 ? h("section", { class: "card problems-card" }, h("h2", {}, "Problems"), problemList) : null,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Edit (JSON)"),
      editor,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "save-draft", onclick: save() }, "Save"),
        h("button", { id: "publish", class: "secondary", onclick: save("published") }, "Publish"),
      ),
    ),
  );
  redraw();
}

function parse(text: string): (Record<string, unknown> & { nodes?: unknown }) | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The draft's nodes as the map can draw them, whatever the author typed. */
function mapNodes(nodes: unknown): MapNode[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node: Record<string, unknown> | null, index) => ({
    id: typeof node?.id === "string" ? node.id : `#${index + 1}`,
    type: typeof node?.type === "string" ? node.type : "unknown",
    title: typeof node?.title === "string" ? node.title : "",
    options: Array.isArray(node?.options) ? (node.options as MapNode["options"]) : undefined,
    next: typeof node?.next === "string" ? node.next : undefined,
  }));
}

const parsedNodes = (text: string) => mapNodes(parse(text)?.nodes);
