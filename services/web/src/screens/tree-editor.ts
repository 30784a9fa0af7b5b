import {
  ApiError,
  answerOf,
  api,
  type HistoryEntry,
  type Problem,
  type Tree,
  type TreeDiff,
  type TreeDraft,
  type TreeDraftSave,
} from "../api.js";
import { h, show } from "../dom.js";
import { draftPreview } from "../draft-preview.js";
import { describeError } from "../error-messages.js";
import { type Content, nodeForm, withNewNode } from "../node-form.js";
import { placeOf, problemsByNode } from "../node-problems.js";
import { go, hashOf } from "../router.js";
import { saveFile } from "../save-file.js";
import type { Screen } from "../screen.js";
import { layoutTree, mapNodes } from "../tree-layout.js";
import { treeMap } from "../tree-map.js";

/** What an author edits of a draft: its content (the rest belongs to the service). */
function editable(draft: TreeDraft): Record<string, unknown> {
  const { title, description, category, tags, root_node_id, nodes } = draft;
  return { title, description, category, tags, root_node_id, nodes };
}

/** How long the author pauses before the draft is saved as they go. */
const AUTOSAVE_MS = 1500;
/** The editor's pending save as you go; a new editor or an action takes it over. */
let pendingAutosave: { timer: ReturnType<typeof setTimeout>; run: () => Promise<void> } | undefined;
const takeAutosave = () => {
  const pending = pendingAutosave;
  if (pending) clearTimeout(pending.timer);
  pendingAutosave = undefined;
  return pending;
};

/** What an editor holds: the tree as technicians get it, and the draft being worked on. */
interface Editing {
  tree: Tree;
  draft: TreeDraft;
  trees: Array<{ id: string; title: string }>;
}

/**
 * An engineer's view of a tree: the map of the draft as it is typed, a JSON editor, save (the
 * draft, which technicians never get), what the draft changes, publish (a new version, with a
 * change note), discard, and the change log with rollback. A 422's problems show at their nodes.
 */
export async function treeEditorScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  try {
    await edit(screen, await load(treeId), []);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "trees", query: "" }) }, "← Back to the trees"));
    screen.fail(error);
  }
}

/**
 * The tree and its draft; the trees a link may run are read once per editor (`trees` passes them
 * on to the reads after a save, a publish or a review).
 */
async function load(treeId: string, trees?: Editing["trees"]): Promise<Editing> {
  const path = { params: { path: { id: treeId } } };
  const [tree, draft, others] = await Promise.all([
    api.GET("/api/v1/trees/{id}", path).then(answerOf),
    api.GET("/api/v1/trees/{id}/draft", path).then(answerOf),
    trees ?? api.GET("/api/v1/trees", { params: { query: { limit: 100 } } }).then(answerOf),
  ]);
  // The trees a link node may run: any other.
  return { tree, draft, trees: others.filter((other) => other.id !== treeId).map(({ id, title }) => ({ id, title })) };
}

async function edit(screen: Screen, editing: Editing, problems: Problem[], typed?: string): Promise<void> {
  // A change of the editor drawn before is saved before this one reads the draft.
  await takeAutosave()?.run();
  const { tree, trees } = editing;
  // The draft as last saved, and its text: saving again only when the text changed.
  let draft = editing.draft;
  let savedText = JSON.stringify(editable(draft), null, 2);
  const path = { params: { path: { id: tree.id } } };
  const editor = h("textarea", { id: "tree-json", spellcheck: "false", rows: 30 });
  editor.value = typed ?? savedText;
  const changeNote = h("input", { id: "change-note", placeholder: "What this version changes", maxlength: "1000" });
  const mapArea = h("div", { class: "map-area", id: "tree-map" });
  const parseNote = h("p", { class: "form-error", id: "json-error", role: "alert" });
  const autosaveNote = h("p", { class: "muted", id: "autosave", "aria-live": "polite" });
  const revisionNote = h("p", { class: "muted", id: "draft-revision" }, revisionText(draft));
  const problemList = h(
    "ul",
    { class: "problems", id: "problems" },
    ...problems.map((problem) =>
      h("li", {}, h("strong", {}, placeOf(problem.loc, parsedNodes(editor.value))), `: ${problem.msg}`),
    ),
  );

  // The node being edited in the form, by its index in the draft's nodes.
  let selected: number | undefined;
  // The map's zoom (its area scrolls to pan), kept while the draft is edited.
  let zoom = 1;
  const scaled = (map: SVGSVGElement) => {
    const natural = (name: string) => Number(map.dataset[name] ?? map.getAttribute(name));
    map.dataset.width = String(natural("width"));
    map.dataset.height = String(natural("height"));
    map.setAttribute("width", String(Math.round(natural("width") * zoom)));
    map.setAttribute("height", String(Math.round(natural("height") * zoom)));
  };
  const zoomBy = (factor: number | undefined) => () => {
    zoom = factor === undefined ? 1 : Math.min(2, Math.max(0.3, zoom * factor));
    const map = mapArea.querySelector("svg");
    if (map) scaled(map);
  };
  const formArea = h("div", { id: "node-form-area" });
  /** A change made in the form: the JSON follows, and the map and the form are drawn again. */
  const changed = (content: Content, pick?: number) => {
    editor.value = JSON.stringify(content, null, 2);
    selected = pick;
    redraw();
  };
  const redraw = () => {
    const content = parse(editor.value);
    if (!content) {
      parseNote.textContent = "Not valid JSON yet: the map shows the last valid version.";
      return;
    }
    parseNote.textContent = "";
    if (editor.value !== savedText) scheduleAutosave();
    const pick = {
      onSelect: (index: number) => {
        selected = index;
        redraw();
        screen.root.querySelector<HTMLElement>("#node-title")?.focus();
      },
      selected,
    };
    const drawn = treeMap(
      layoutTree(mapNodes(content.nodes), String(content.root_node_id ?? "")),
      problemsByNode(problems),
      pick,
    );
    scaled(drawn);
    show(mapArea, drawn);
    const nodes = Array.isArray(content.nodes) ? content.nodes : [];
    show(
      formArea,
      selected !== undefined && nodes[selected]
        ? nodeForm({ ...content, nodes } as Content, selected, trees, changed)
        : h("p", { class: "muted", id: "node-form-hint" }, "Pick a node on the map to edit it."),
    );
  };
  editor.addEventListener("input", redraw);
  const previewArea = h("div", { id: "preview-area" });
  const preview = () => {
    const content = parse(editor.value);
    if (!content) return screen.notify("The JSON does not parse: fix it first.", "error");
    const nodes = Array.isArray(content.nodes) ? (content.nodes as Array<Record<string, unknown>>) : [];
    const title = (id: string) => trees.find((other) => other.id === id)?.title;
    show(
      previewArea,
      draftPreview(nodes, String(content.root_node_id ?? ""), title, () => show(previewArea)),
    );
  };
  const addNode = () => {
    const content = parse(editor.value);
    if (!content) return screen.notify("The JSON does not parse: fix it first.", "error");
    const added = withNewNode({ ...content, nodes: Array.isArray(content.nodes) ? content.nodes : [] } as Content);
    changed(added.content, added.index);
  };

  const busy = (on: boolean) => {
    for (const button of screen.root.querySelectorAll("button")) button.disabled = on;
  };
  // One save at a time, each from the revision the one before answered.
  let saving: Promise<unknown> = Promise.resolve();
  /** Saves the text as the draft, if it changed since the draft was loaded or saved. */
  const saveText = (): Promise<TreeDraft> => {
    const save = async () => {
      const text = editor.value;
      const content = parse(text);
      if (!content) throw new Error("The JSON does not parse: fix it first.");
      if (text === savedText && draft.draft_revision > 0) return draft;
      draft = answerOf(
        await api.PUT("/api/v1/trees/{id}/draft", {
          ...path,
          body: { ...content, draft_revision: draft.draft_revision } as TreeDraftSave,
        }),
      );
      savedText = text;
      revisionNote.textContent = revisionText(draft);
      return draft;
    };
    const next = saving.then(save, save);
    saving = next.catch(() => undefined);
    return next;
  };
  /**
   * Saved as you go: once the author pauses, the draft (never what technicians get) is saved.
   * A conflict stops it, so that another engineer's save is never overwritten unseen.
   */
  let conflicted = false;
  const autosave = async () => {
    if (conflicted || parse(editor.value) === undefined || editor.value === savedText) return;
    autosaveNote.textContent = "Saving…";
    try {
      const saved = await saveText();
      autosaveNote.textContent = `Saved as you go (revision ${saved.draft_revision}) at ${new Date().toLocaleTimeString()}.`;
      // What the draft changes, as saved now (kept as it was if that cannot be read just now).
      const changes = await api
        .GET("/api/v1/trees/{id}/diff", path)
        .then(answerOf)
        .catch(() => undefined);
      if (changes && saved === draft) show(diffArea, diffCard(changes));
    } catch (error) {
      conflicted = error instanceof ApiError && error.detail === "draft_conflict";
      autosaveNote.textContent = conflicted
        ? "Not saved: someone else saved this draft since you opened it. Copy your change, reload, and apply it again."
        : `Not saved yet: ${describeError(error)} Saving again at your next change, or press Save draft.`;
    }
  };
  function scheduleAutosave() {
    takeAutosave();
    const entry = { timer: setTimeout(() => void takeAutosave()?.run(), AUTOSAVE_MS), run: autosave };
    pendingAutosave = entry;
  }
  const act =
    (work: () => Promise<void>, pending: "save" | "drop" = "save") =>
    async () => {
      // What the author typed last is saved first (or, to discard, dropped).
      const waiting = takeAutosave();
      if (pending === "save") await waiting?.run();
      busy(true);
      try {
        await work();
      } catch (error) {
        if (error instanceof ApiError) {
          screen.fail(error);
          await edit(screen, { tree, draft, trees }, error.problems, editor.value);
        } else {
          screen.notify(error instanceof Error ? error.message : String(error), "error");
          busy(false);
        }
      }
    };

  const save = act(async () => {
    const saved = await saveText();
    await edit(screen, { tree, draft: saved, trees }, []);
    screen.notify(`Draft saved (revision ${saved.draft_revision}). Technicians still get version ${tree.version}.`);
  });
  const publish = act(async () => {
    // Saved first: a refusal shows its problems on this revision.
    const saved = await saveText();
    const published = answerOf(
      await api.POST("/api/v1/trees/{id}/publish", {
        ...path,
        body: { draft_revision: saved.draft_revision, change_note: changeNote.value },
      }),
    );
    await edit(screen, await load(tree.id, trees), []);
    screen.notify(`Published as version ${published.version}.`);
  });
  const discard = act(async () => {
    await saving;
    if (draft.draft_revision > 0) await api.DELETE("/api/v1/trees/{id}/draft", path).then(answerOf);
    await edit(screen, await load(tree.id, trees), []);
    screen.notify("Draft discarded.");
  }, "drop");
  const rollBack = (version: number) =>
    act(async () => {
      const back = answerOf(
        await api.POST("/api/v1/trees/{id}/rollback", {
          ...path,
          body: { version, change_note: changeNote.value || `Back to version ${version}` },
        }),
      );
      await edit(screen, await load(tree.id, trees), []);
      screen.notify(`Version ${version}'s content is published again as version ${back.version}.`);
    });

  const [diff, history] = await Promise.all([
    draft.draft_revision > 0 ? api.GET("/api/v1/trees/{id}/diff", path).then(answerOf) : undefined,
    api.GET("/api/v1/trees/{id}/history", path).then(answerOf),
  ]);
  const diffArea = h("div", { id: "diff-area" }, diff ? diffCard(diff) : null);

  show(
    screen.root,
    h(
      "div",
      { class: "heading" },
      h("h1", {}, tree.title),
      h("span", { class: `badge ${tree.status}`, id: "tree-status" }, tree.status),
    ),
    h("p", { class: "muted", id: "tree-version" }, `Version ${tree.version} · ${tree.nodes.length} nodes`),
    revisionNote,
    autosaveNote,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Map"),
      parseNote,
      mapArea,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "add-node", class: "secondary", type: "button", onclick: addNode }, "Add a node"),
        h(
          "button",
          { id: "zoom-out", class: "secondary", type: "button", onclick: zoomBy(1 / 1.25), "aria-label": "Zoom out" },
          "−",
        ),
        h("button", { id: "zoom-reset", class: "secondary", type: "button", onclick: zoomBy(undefined) }, "100 %"),
        h(
          "button",
          { id: "zoom-in", class: "secondary", type: "button", onclick: zoomBy(1.25), "aria-label": "Zoom in" },
          "+",
        ),
        h("button", { id: "preview", class: "secondary", type: "button", onclick: preview }, "Preview as a technician"),
      ),
    ),
    previewArea,
    formArea,
    problems.length > 0 ? h("section", { class: "card problems-card" }, h("h2", {}, "Problems"), problemList) : null,
    diffArea,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "The draft"),
      h(
        "details",
        { id: "json-toggle", ...(typed !== undefined ? { open: true } : {}) },
        h("summary", {}, "Edit as JSON"),
        editor,
      ),
      h("label", { for: "change-note" }, "Change note"),
      changeNote,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "save-draft", onclick: save }, "Save draft"),
        h("button", { id: "publish", class: "secondary", onclick: publish }, "Publish"),
        draft.draft_revision > 0
          ? h("button", { id: "discard-draft", class: "secondary", onclick: discard }, "Discard draft")
          : null,
      ),
    ),
    reviewCard(screen, tree, draft, act, () => load(tree.id, trees).then((next) => edit(screen, next, []))),
    historyCard(history, tree.version, rollBack),
  );
  redraw();
}

function revisionText(draft: TreeDraft): string {
  return draft.draft_revision > 0
    ? `Draft revision ${draft.draft_revision}, from version ${draft.based_on_version}: technicians do not get it until it is published.`
    : "No draft: editing starts one, saved as you go; technicians keep the published version until you publish.";
}

/**
 * Review and the tree's own actions: whether publishing needs another engineer's approval, the
 * draft revision's review (by anyone but who saved it), export as a file, and archive.
 */
function reviewCard(
  screen: Screen,
  tree: Tree,
  draft: TreeDraft,
  act: (work: () => Promise<void>) => () => Promise<void>,
  reload: () => Promise<void>,
): HTMLElement {
  const path = { params: { path: { id: tree.id } } };
  const required = h("input", {
    id: "review-required",
    type: "checkbox",
    ...(draft.review_required ? { checked: true } : {}),
  });
  required.addEventListener(
    "change",
    act(async () => {
      answerOf(
        await api.PATCH("/api/v1/trees/{id}/settings", { ...path, body: { review_required: required.checked } }),
      );
      await reload();
      screen.notify(
        required.checked ? "Publishing now needs another engineer's approval." : "Publishing needs no review now.",
      );
    }),
  );
  const comment = h("input", { id: "review-comment", placeholder: "A comment for the author", maxlength: "2000" });
  const review = (decision: "approve" | "request_changes") =>
    act(async () => {
      answerOf(
        await api.POST("/api/v1/trees/{id}/reviews", {
          ...path,
          body: { draft_revision: draft.draft_revision, decision, comment: comment.value },
        }),
      );
      await reload();
      screen.notify(decision === "approve" ? `Revision ${draft.draft_revision} approved.` : "Changes requested.");
    });
  const exportTree = act(async () => {
    const result = await api.GET("/api/v1/trees/{id}/export", { ...path, parseAs: "blob" });
    const blob = answerOf(result) as unknown as Blob;
    const name = /filename="?([^";]+)"?/.exec(result.response.headers.get("content-disposition") ?? "")?.[1];
    saveFile(blob, name ?? "tree.json");
    screen.clear();
    for (const button of screen.root.querySelectorAll("button")) button.disabled = false;
  });
  const archive = act(async () => {
    answerOf(await api.POST("/api/v1/trees/{id}/archive", path));
    go({ name: "trees", query: "" });
    screen.notify(`"${tree.title}" is archived: restore it from the archived trees.`);
  });
  const ownDraft = draft.saved_by === screen.user.id;
  return h(
    "section",
    { class: "card", id: "review" },
    h("h2", {}, "Review and publishing"),
    h("label", { class: "inline" }, required, " Publishing needs another engineer's approval of the exact draft"),
    draft.draft_revision === 0
      ? null
      : h(
          "div",
          { id: "review-state" },
          h(
            "p",
            {},
            draft.approved
              ? `Revision ${draft.draft_revision} is approved.`
              : `Revision ${draft.draft_revision} is not approved${draft.review_required ? ": it cannot be published yet" : ""}.`,
          ),
          ownDraft
            ? h("p", { class: "muted" }, "You saved this revision: another engineer reviews it.")
            : h(
                "div",
                { class: "actions" },
                comment,
                h("button", { id: "approve", onclick: review("approve") }, "Approve"),
                h(
                  "button",
                  { id: "request-changes", class: "secondary", onclick: review("request_changes") },
                  "Request changes",
                ),
              ),
        ),
    h(
      "div",
      { class: "actions" },
      h(
        "a",
        { class: "button secondary", id: "tree-analytics", href: hashOf({ name: "analytics", treeId: tree.id }) },
        "Analytics",
      ),
      h("button", { id: "export-tree", class: "secondary", onclick: exportTree }, "Export (JSON file)"),
      h("button", { id: "archive-tree", class: "secondary", onclick: archive }, "Archive"),
    ),
  );
}

/** What the draft changes against the latest version, node by node. */
function diffCard(diff: TreeDiff) {
  const items = [
    ...diff.fields.map((field) => h("li", {}, `Tree ${field} changed`)),
    ...diff.added.map((id) => h("li", { class: "added" }, `Node "${id}" added`)),
    ...diff.removed.map((id) => h("li", { class: "removed" }, `Node "${id}" removed`)),
    ...diff.changed.map((change) => h("li", {}, `Node "${change.node_id}": ${change.fields.join(", ")} changed`)),
  ];
  return h(
    "section",
    { class: "card", id: "draft-diff" },
    h("h2", {}, `What the draft changes (from version ${diff.from})`),
    items.length > 0 ? h("ul", {}, ...items) : h("p", { class: "muted" }, "Nothing yet."),
  );
}

const ACTIONS: Record<string, string> = {
  created: "created it",
  imported: "imported it",
  updated: "saved a version",
  draft_saved: "saved the draft",
  draft_discarded: "discarded the draft",
  published: "published",
  rolled_back: "rolled back",
  approved: "approved the draft",
  changes_requested: "asked for changes",
  settings_changed: "changed the settings",
  archived: "archived it",
  restored: "restored it",
};

/** Who did what, newest first; each earlier version can be published again. */
function historyCard(history: HistoryEntry[], latest: number, rollBack: (version: number) => () => void) {
  // Each earlier version once, at its newest entry.
  const offered = new Map<number, HistoryEntry>();
  for (const entry of history) {
    const { version } = entry;
    if (version !== undefined && version < latest && !offered.has(version)) offered.set(version, entry);
  }
  return h(
    "section",
    { class: "card", id: "history" },
    h("h2", {}, "History"),
    h(
      "ol",
      { class: "history" },
      ...history.map((entry) => {
        const version = entry.version;
        const canRollBack = version !== undefined && offered.get(version) === entry;
        return h(
          "li",
          { "data-action": entry.action },
          h("time", { datetime: entry.at }, new Date(entry.at).toLocaleString()),
          ` ${ACTIONS[entry.action] ?? entry.action}`,
          version !== undefined ? ` · version ${version}` : "",
          entry.note ? ` · ${entry.note}` : "",
          canRollBack && version !== undefined
            ? h(
                "button",
                { class: "secondary rollback", "data-version": String(version), onclick: rollBack(version) },
                `Publish version ${version} again`,
              )
            : null,
        );
      }),
    ),
  );
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

const parsedNodes = (text: string) => mapNodes(parse(text)?.nodes);
