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
import { dateTime, t, timeOnly, wordFor } from "../i18n.js";
import { mediaImage } from "../media-images.js";
import { type Content, nodeForm, withNewNode } from "../node-form.js";
import { nodeIndexOf, placeOf, problemsByNode } from "../node-problems.js";
import { go, hashOf } from "../router.js";
import { saveFile } from "../save-file.js";
import type { Screen } from "../screen.js";
import { declaredVariables } from "../tree-content.js";
import { treeForm } from "../tree-form.js";
import { layoutTree, mapNodes } from "../tree-layout.js";
import { treeMap } from "../tree-map.js";

/** What an author edits of a draft: its content (the rest belongs to the service). */
function editable(draft: TreeDraft): Record<string, unknown> {
  const { title, description, category, tags, language, root_node_id, variables, nodes } = draft;
  return { title, description, category, tags, language, root_node_id, variables, nodes };
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
 * change note), discard, and the change log with rollback. A 422's problems show at their nodes
 * on the map and under their inputs in the forms.
 */
export async function treeEditorScreen(screen: Screen, treeId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
  try {
    await edit(screen, await load(treeId), []);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "trees", query: "" }) }, t("common.backToTrees")));
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
  const changeNote = h("input", {
    id: "change-note",
    placeholder: t("editor.changeNotePlaceholder"),
    maxlength: "1000",
  });
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

  // The node being edited in the form, by its index in the draft's nodes: after a refusal, the
  // first with a problem, which shows at its controls.
  let selected = problems.map(({ loc }) => nodeIndexOf(loc)).find((index) => index !== undefined);
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
  const treeFormArea = h("div", { id: "tree-form-area" });
  /** A change made in the form: the JSON follows, and the map and the form are drawn again. */
  const changed = (content: Content, pick?: number) => {
    editor.value = JSON.stringify(content, null, 2);
    selected = pick;
    redraw();
  };
  const redraw = () => {
    const content = parse(editor.value);
    if (!content) {
      parseNote.textContent = t("editor.notJsonYet");
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
        ? nodeForm({ ...content, nodes } as Content, selected, trees, changed, problemsByNode(problems).get(selected))
        : h("p", { class: "muted", id: "node-form-hint" }, t("editor.pickNode")),
    );
    show(
      treeFormArea,
      treeForm({ ...content, nodes } as Content, problems, (next) => changed(next, selected)),
    );
  };
  editor.addEventListener("input", redraw);
  const previewArea = h("div", { id: "preview-area" });
  const preview = () => {
    const content = parse(editor.value);
    if (!content) return screen.notify(t("editor.jsonDoesNotParse"), "error");
    const nodes = Array.isArray(content.nodes) ? (content.nodes as Array<Record<string, unknown>>) : [];
    const title = (id: string) => trees.find((other) => other.id === id)?.title;
    show(
      previewArea,
      draftPreview(
        { nodes, rootId: String(content.root_node_id ?? ""), variables: declaredVariables(content) },
        title,
        () => show(previewArea),
        mediaImage,
      ),
    );
  };
  const addNode = () => {
    const content = parse(editor.value);
    if (!content) return screen.notify(t("editor.jsonDoesNotParse"), "error");
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
      if (!content) throw new Error(t("editor.jsonDoesNotParse"));
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
    autosaveNote.textContent = t("editor.saving");
    try {
      const saved = await saveText();
      autosaveNote.textContent = t("editor.autosaved", { revision: saved.draft_revision, at: timeOnly(Date.now()) });
      // What the draft changes, as saved now (kept as it was if that cannot be read just now).
      const changes = await api
        .GET("/api/v1/trees/{id}/diff", path)
        .then(answerOf)
        .catch(() => undefined);
      if (changes && saved === draft) show(diffArea, diffCard(changes));
    } catch (error) {
      conflicted = error instanceof ApiError && error.detail === "draft_conflict";
      autosaveNote.textContent = conflicted
        ? t("editor.autosaveConflict")
        : t("editor.autosaveFailed", { problem: describeError(error) });
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
    screen.notify(t("editor.saved", { revision: saved.draft_revision, version: tree.version }));
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
    screen.notify(t("editor.published", { version: published.version }));
  });
  const discard = act(async () => {
    await saving;
    if (draft.draft_revision > 0) await api.DELETE("/api/v1/trees/{id}/draft", path).then(answerOf);
    await edit(screen, await load(tree.id, trees), []);
    screen.notify(t("editor.discarded"));
  }, "drop");
  const rollBack = (version: number) =>
    act(async () => {
      const back = answerOf(
        await api.POST("/api/v1/trees/{id}/rollback", {
          ...path,
          body: { version, change_note: changeNote.value || t("editor.rollbackNote", { version }) },
        }),
      );
      await edit(screen, await load(tree.id, trees), []);
      screen.notify(t("editor.rolledBack", { version, published: back.version }));
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
      h("span", { class: `badge ${tree.status}`, id: "tree-status" }, wordFor("treeStatus", tree.status)),
    ),
    h(
      "p",
      { class: "muted", id: "tree-version" },
      t("editor.facts", { version: tree.version, count: tree.nodes.length }),
    ),
    revisionNote,
    autosaveNote,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("editor.map")),
      parseNote,
      mapArea,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "add-node", class: "secondary", type: "button", onclick: addNode }, t("editor.addNode")),
        h(
          "button",
          {
            id: "zoom-out",
            class: "secondary",
            type: "button",
            onclick: zoomBy(1 / 1.25),
            "aria-label": t("editor.zoomOut"),
          },
          "−",
        ),
        h(
          "button",
          { id: "zoom-reset", class: "secondary", type: "button", onclick: zoomBy(undefined) },
          t("editor.zoomReset"),
        ),
        h(
          "button",
          {
            id: "zoom-in",
            class: "secondary",
            type: "button",
            onclick: zoomBy(1.25),
            "aria-label": t("editor.zoomIn"),
          },
          "+",
        ),
        h("button", { id: "preview", class: "secondary", type: "button", onclick: preview }, t("editor.preview")),
      ),
    ),
    previewArea,
    formArea,
    treeFormArea,
    problems.length > 0
      ? h("section", { class: "card problems-card" }, h("h2", {}, t("editor.problems")), problemList)
      : null,
    diffArea,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("editor.draft")),
      h(
        "details",
        { id: "json-toggle", ...(typed !== undefined ? { open: true } : {}) },
        h("summary", {}, t("editor.editJson")),
        editor,
      ),
      h("label", { for: "change-note" }, t("editor.changeNote")),
      changeNote,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "save-draft", onclick: save }, t("editor.saveDraft")),
        h("button", { id: "publish", class: "secondary", onclick: publish }, t("editor.publish")),
        draft.draft_revision > 0
          ? h("button", { id: "discard-draft", class: "secondary", onclick: discard }, t("editor.discardDraft"))
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
    ? t("editor.revision", { revision: draft.draft_revision, version: draft.based_on_version })
    : t("editor.noDraft");
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
      screen.notify(required.checked ? t("editor.reviewRequired") : t("editor.reviewNotRequired"));
    }),
  );
  const comment = h("input", { id: "review-comment", placeholder: t("editor.reviewComment"), maxlength: "2000" });
  const review = (decision: "approve" | "request_changes") =>
    act(async () => {
      answerOf(
        await api.POST("/api/v1/trees/{id}/reviews", {
          ...path,
          body: { draft_revision: draft.draft_revision, decision, comment: comment.value },
        }),
      );
      await reload();
      screen.notify(
        decision === "approve"
          ? t("editor.approvedNotice", { revision: draft.draft_revision })
          : t("editor.changesRequested"),
      );
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
    screen.notify(t("editor.archived", { title: tree.title }));
  });
  const ownDraft = draft.saved_by === screen.user.id;
  return h(
    "section",
    { class: "card", id: "review" },
    h("h2", {}, t("editor.review")),
    h("label", { class: "inline" }, required, " ", t("editor.reviewRequiredLabel")),
    draft.draft_revision === 0
      ? null
      : h(
          "div",
          { id: "review-state" },
          h(
            "p",
            {},
            draft.approved
              ? t("editor.approved", { revision: draft.draft_revision })
              : draft.review_required
                ? t("editor.notApprovedBlocking", { revision: draft.draft_revision })
                : t("editor.notApproved", { revision: draft.draft_revision }),
          ),
          ownDraft
            ? h("p", { class: "muted" }, t("editor.ownRevision"))
            : h(
                "div",
                { class: "actions" },
                comment,
                h("button", { id: "approve", onclick: review("approve") }, t("editor.approve")),
                h(
                  "button",
                  { id: "request-changes", class: "secondary", onclick: review("request_changes") },
                  t("editor.requestChanges"),
                ),
              ),
        ),
    h(
      "div",
      { class: "actions" },
      h(
        "a",
        { class: "button secondary", id: "tree-analytics", href: hashOf({ name: "analytics", treeId: tree.id }) },
        t("editor.analytics"),
      ),
      h(
        "a",
        { class: "button secondary", id: "tree-translations", href: hashOf({ name: "translations", treeId: tree.id }) },
        t("editor.translations"),
      ),
      h("button", { id: "export-tree", class: "secondary", onclick: exportTree }, t("editor.export")),
      h("button", { id: "archive-tree", class: "secondary", onclick: archive }, t("editor.archive")),
    ),
  );
}

/** What the draft changes against the latest version, node by node. */
function diffCard(diff: TreeDiff) {
  const items = [
    ...diff.fields.map((field) => h("li", {}, t("diff.treeField", { field }))),
    ...diff.added.map((id) => h("li", { class: "added" }, t("diff.added", { id }))),
    ...diff.removed.map((id) => h("li", { class: "removed" }, t("diff.removed", { id }))),
    ...diff.changed.map((change) =>
      h("li", {}, t("diff.changed", { id: change.node_id, fields: change.fields.join(", ") })),
    ),
  ];
  return h(
    "section",
    { class: "card", id: "draft-diff" },
    h("h2", {}, t("diff.title", { version: diff.from })),
    items.length > 0 ? h("ul", {}, ...items) : h("p", { class: "muted" }, t("diff.nothing")),
  );
}

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
    h("h2", {}, t("history.title")),
    h(
      "ol",
      { class: "history" },
      ...history.map((entry) => {
        const version = entry.version;
        const canRollBack = version !== undefined && offered.get(version) === entry;
        return h(
          "li",
          { "data-action": entry.action },
          h("time", { datetime: entry.at }, dateTime(entry.at)),
          ` ${wordFor("historyAction", entry.action)}`,
          version !== undefined ? ` · ${t("history.version", { version })}` : "",
          entry.note ? ` · ${entry.note}` : "",
          canRollBack && version !== undefined
            ? h(
                "button",
                { class: "secondary rollback", "data-version": String(version), onclick: rollBack(version) },
                t("history.publishAgain", { version }),
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
