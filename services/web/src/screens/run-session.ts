import { OFF_SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ApiError, api, type Outcome, type ReportFormat, type Session, type Tree, type TreeNode } from "../api.js";
import { h, show } from "../dom.js";
import { dateTime, t, wordFor } from "../i18n.js";
import { markdown } from "../markdown.js";
import { mediaImage } from "../media-images.js";
import { downloadReport } from "../report-download.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { sessionForm } from "../session-form.js";
import { complete, loadSession, step } from "../session-steps.js";

/** A session step by step: the current node, its answers, back, notes, completion and the report. */
export async function runSessionScreen(screen: Screen, sessionId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, t("common.loading")));
  try {
    const session = await loadSession(sessionId);
    await learnTrees(session);
    draw(screen, session);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "sessions" }) }, t("run.backToSessions")));
    screen.fail(error);
  }
}

/**
 * Draws the session. `typedNotes` are session notes typed but not saved yet: a step keeps them
 * (only "Save notes" or completing sends them).
 */
function draw(screen: Screen, session: Session, typedNotes?: string, passed: Session["steps"] = []): void {
  const act: Act = (change, inPlace) => async () => {
    const enabled = [...screen.root.querySelectorAll("button")].filter((button) => !button.disabled);
    for (const button of enabled) button.disabled = true;
    const typed = notes.value !== session.notes ? notes.value : undefined;
    try {
      const next = await change();
      await learnTrees(next);
      // A retry that went through puts right the error an earlier try showed.
      screen.clear();
      draw(screen, next, next.notes === typed ? undefined : typed, linkedSolutionsPassed(session, next));
    } catch (error) {
      screen.fail(error);
      // A refusal the page shows where it belongs (a form's values at their fields): it stays as typed.
      if (inPlace?.(error)) {
        for (const button of enabled) button.disabled = false;
        return;
      }
      // Moved on elsewhere (another tab): show where it is now.
      const reload = error instanceof ApiError && (error.detail === "stale_step" || error.status === 409);
      draw(screen, reload ? await loadSession(session.id).catch(() => session) : session, typed);
    }
  };
  const ticket = typeof session.context.ticket === "string" ? session.context.ticket : "";
  const notes = h("textarea", { id: "session-notes", rows: 3, placeholder: t("run.notesPlaceholder") });
  notes.value = typedNotes ?? session.notes;
  const inProgress = session.status === "in_progress";

  show(
    screen.root,
    h(
      "div",
      { class: "heading" },
      h("h1", {}, session.tree_title),
      h("span", { class: `badge ${session.status}`, id: "session-status" }, wordFor("sessionStatus", session.status)),
    ),
    h(
      "p",
      { class: "muted" },
      ticket
        ? t("run.factsWithTicket", { ticket, version: session.tree_version, started: dateTime(session.started_at) })
        : t("run.facts", { version: session.tree_version, started: dateTime(session.started_at) }),
    ),
    breadcrumb(session),
    ...passed.map((step) =>
      h(
        "p",
        { class: "card linked-solution", id: "linked-solution", role: "status" },
        t("run.linkedSolution", {
          tree: treeTitles.get(step.tree_id) ?? t("run.theLinkedProcedure"),
          node: step.node_title,
          outcome: wordFor("outcome", step.outcome ?? ""),
          back: treeTitles.get(treeOfCurrent(session)) ?? session.tree_title,
        }),
      ),
    ),
    inProgress ? currentNode(session, act) : completed(screen, session),
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("run.notes")),
      notes,
      inProgress
        ? h(
            "button",
            {
              id: "save-notes",
              class: "secondary",
              onclick: act(() => step(session.id, { op: "note", notes: notes.value })),
            },
            t("run.saveNotes"),
          )
        : null,
    ),
    inProgress ? completion(session, notes, act) : null,
    history(session),
    // Read out by screen readers: where the session stands after each step.
    h("p", { class: "visually-hidden", id: "announce", role: "status", "aria-live": "polite" }),
  );
  // Focus goes to what is new, and it is announced.
  const heading = screen.root.querySelector<HTMLElement>(inProgress ? "#current-node h2" : "#completed h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
    const announce = screen.root.querySelector("#announce");
    if (announce)
      announce.textContent = inProgress
        ? t("run.now", { heading: heading.textContent ?? "" })
        : (heading.textContent ?? "");
  }
}

/**
 * Runs `change` and draws the session it answers; `inPlace` may keep a refusal on the page as it
 * is (saying whether it did), else the session is drawn again.
 */
type Act = (change: () => Promise<Session>, inPlace?: (error: unknown) => boolean) => () => Promise<void>;

/** The titles of the trees a session went through, by id: the session's own, and linked ones as they are read. */
const treeTitles = new Map<string, string>();

/**
 * The versions of trees a session runs on, by `<id>@<version>`, as far as the page needs them: a
 * form's variables (a choice's values) and the labels of the fields a step's values are for.
 */
const treeVersions = new Map<string, Tree>();
const versionKey = (id: string, version: number) => `${id}@${version}`;

/** Learns the titles of the trees the session's steps are in, and the versions its forms are in, not known yet. */
async function learnTrees(session: Session): Promise<void> {
  treeTitles.set(session.tree_id, session.tree_title);
  const unknown = [...new Set(session.steps.map((step) => step.tree_id))].filter((id) => id && !treeTitles.has(id));
  const current = session.steps.at(-1);
  const withForms = session.steps.filter(
    (step) => step.values !== undefined || (step === current && session.current_node.type === "form"),
  );
  const versions = new Map(withForms.map((step) => [versionKey(step.tree_id, step.tree_version), step]));
  await Promise.all([
    ...unknown.map(async (id) => {
      const tree = await api.GET("/api/v1/trees/{id}", { params: { path: { id } } }).catch(() => undefined);
      if (tree?.data) treeTitles.set(id, tree.data.title);
    }),
    ...[...versions]
      .filter(([key]) => !treeVersions.has(key))
      .map(async ([key, { tree_id: id, tree_version: version }]) => {
        const tree = await api
          .GET("/api/v1/trees/{id}", { params: { path: { id }, query: { version } } })
          .catch(() => undefined);
        if (tree?.data) treeVersions.set(key, tree.data);
      }),
  ]);
}

/** The version of the tree a step is in, if the page has read it. */
const treeOfStep = (step: Session["steps"][number] | undefined) =>
  step ? treeVersions.get(versionKey(step.tree_id, step.tree_version)) : undefined;

/** The tree the session stands in: the one of its last step. */
const treeOfCurrent = (session: Session) => session.steps.at(-1)?.tree_id || session.tree_id;

/**
 * Where the session stands among the trees it entered through links: the session's tree, then
 * each linked tree it is inside of, from its steps (a step in a tree already on the way back
 * returns to it).
 */
function treePath(session: Session): string[] {
  const path = [session.tree_id];
  for (const step of session.steps) {
    const at = path.indexOf(step.tree_id);
    if (at >= 0) path.splice(at + 1);
    else if (step.tree_id) path.push(step.tree_id);
  }
  return path;
}

function breadcrumb(session: Session): HTMLElement | null {
  const path = treePath(session);
  if (path.length < 2) return null;
  return h(
    "nav",
    { class: "breadcrumb", id: "breadcrumb", "aria-label": t("run.procedures") },
    path.map((id) => treeTitles.get(id) ?? t("run.linkedProcedure")).join(" › "),
  );
}

/** Linked trees' solutions a change passed on its way back: shown once, after that change. */
function linkedSolutionsPassed(before: Session, after: Session): Session["steps"] {
  const key = (step: Session["steps"][number]) => `${step.seq} ${step.entered_at}`;
  const seen = new Set(before.steps.map(key));
  return after.steps.filter((step) => !seen.has(key(step)) && step.outcome);
}

function currentNode(session: Session, act: Act): HTMLElement {
  const node: TreeNode = session.current_node;
  const note = h("textarea", { id: "step-note", rows: 2, placeholder: t("run.stepNotePlaceholder") });
  const withNote = () => (note.value.trim() ? { note: note.value.trim() } : {});
  const choices: HTMLElement[] = [];
  if (node.type === "question") {
    for (const option of node.options) {
      choices.push(
        h(
          "button",
          {
            class: "option",
            "data-option-id": option.id,
            onclick: act(() =>
              step(session.id, { op: "answer", node_id: node.id, option_id: option.id, ...withNote() }),
            ),
          },
          option.label,
        ),
      );
    }
  } else if (node.type === "action") {
    choices.push(
      h(
        "button",
        { id: "continue", onclick: act(() => step(session.id, { op: "continue", node_id: node.id, ...withNote() })) },
        t("run.continue"),
      ),
    );
  }
  let form: HTMLFormElement | null = null;
  if (node.type === "form") {
    // The server checks the values (and says where each is wrong): the browser does not stop them first.
    const fields = sessionForm(node, treeOfStep(session.steps.at(-1))?.variables ?? [], session.variables);
    form = h(
      "form",
      { id: "session-form", novalidate: true },
      fields.element,
      h("div", { class: "choices" }, h("button", { type: "submit", id: "submit-form" }, t("run.submitForm"))),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void act(
        () => step(session.id, { op: "submit", node_id: node.id, values: fields.values(), ...withNote() }),
        (error) => fields.tell(error),
      )();
    });
  }
  return h(
    "section",
    { class: `card node ${node.type}`, id: "current-node", "data-node-id": node.id, lang: session.locale || undefined },
    h("p", { class: "node-type" }, nodeKind(node)),
    h("h2", {}, node.title),
    node.body ? markdown(node.body, mediaImage) : null,
    form,
    node.type === "solution" ? null : h("label", { for: "step-note" }, t("run.stepNote")),
    node.type === "solution" ? null : note,
    choices.length > 0 ? h("div", { class: "choices" }, ...choices) : null,
    h(
      "button",
      {
        id: "back",
        class: "secondary",
        disabled: session.steps.length <= 1,
        onclick: act(() => step(session.id, { op: "back" })),
      },
      t("common.back"),
    ),
  );
}

function nodeKind(node: TreeNode): string {
  if (node.type === "question") return t("run.question");
  if (node.type === "action") return t("run.doThis");
  // A session never stands at a link (it enters the linked tree at once); named for completeness.
  if (node.type === "link") return t("run.linkedProcedure");
  if (node.type === "solution") return t("run.solution", { outcome: wordFor("outcome", node.outcome) });
  if (node.type === "form") return t("run.fillIn");
  return wordFor("nodeType", node.type);
}

/**
 * At a solution, completing takes its outcome; elsewhere the technician picks one of the outcomes
 * the contract allows away from a solution (unresolved or escalated), a button each.
 */
function completion(session: Session, notes: HTMLTextAreaElement, act: Act): HTMLElement {
  const atSolution = session.current_node.type === "solution";
  const finish = (outcome: Outcome | undefined, note = "") =>
    act(() => complete(session.id, outcome, [notes.value.trim(), note.trim()].filter(Boolean).join("\n\n")));
  const card = h("section", { class: "card", id: "completion" }, h("h2", {}, t("run.complete")));
  const choose = () =>
    show(
      card,
      h("h2", {}, t("run.complete")),
      atSolution
        ? h("button", { id: "complete", onclick: finish(undefined) }, t("run.completeButton"))
        : h(
            "div",
            { class: "choices" },
            ...OFF_SOLUTION_OUTCOMES.map((outcome) =>
              h(
                "button",
                { id: `complete-${outcome}`, class: "secondary", onclick: () => confirm(outcome) },
                wordFor("completeAs", outcome),
              ),
            ),
          ),
    );
  // Away from a solution the session ends without one: asked once more, with room to say why.
  const confirm = (outcome: Outcome) => {
    const why = h("textarea", { id: "completion-note", rows: 2, placeholder: t("run.whyPlaceholder") });
    const named = wordFor("outcome", outcome);
    show(
      card,
      h("h2", {}, t("run.completeAsQuestion", { outcome: named })),
      h("p", { class: "muted" }, t("run.endsWithoutSolution")),
      h("label", { for: "completion-note" }, t("run.note")),
      why,
      h(
        "div",
        { class: "choices" },
        h(
          "button",
          { id: "confirm-complete", onclick: () => finish(outcome, why.value)() },
          t("run.completeAs", { outcome: named }),
        ),
        h("button", { id: "cancel-complete", class: "secondary", onclick: choose }, t("common.cancel")),
      ),
    );
    why.focus();
  };
  choose();
  return card;
}

function completed(screen: Screen, session: Session): HTMLElement {
  const download = (format: ReportFormat, label: string) =>
    h(
      "button",
      {
        class: "secondary",
        "data-format": format,
        onclick: () => downloadReport(session.id, format).catch((error) => screen.fail(error)),
      },
      label,
    );
  return h(
    "section",
    { class: "card", id: "completed" },
    h("h2", {}, t("run.outcome", { outcome: session.outcome ? wordFor("outcome", session.outcome) : "—" })),
    h(
      "p",
      { class: "muted" },
      session.completed_at ? t("run.completedAt", { at: dateTime(session.completed_at) }) : "",
    ),
    h("p", {}, t("run.download")),
    h(
      "div",
      { class: "choices", id: "downloads" },
      download("json", "JSON"),
      download("markdown", "Markdown"),
      download("csv", "CSV"),
      download("pdf", "PDF"),
    ),
    h(
      "p",
      { class: "actions" },
      h(
        "a",
        { class: "button", id: "start-another", href: hashOf({ name: "start", treeId: session.tree_id }) },
        t("run.startAnother"),
      ),
      h("a", { class: "button secondary", href: hashOf({ name: "trees", query: "" }) }, t("run.backToTrees")),
    ),
  );
}

function history(session: Session): HTMLElement {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("run.steps")),
    h(
      "ol",
      { id: "steps", class: "steps" },
      ...session.steps.map((done) =>
        h(
          "li",
          { "data-node-id": done.node_id },
          h("strong", {}, done.node_title),
          done.option_label ? ` → ${done.option_label}` : "",
          done.rule !== undefined ? h("span", { class: "step-rule" }, ` → ${ruleText(done.rule)}`) : null,
          done.values !== undefined ? h("div", { class: "step-values" }, valuesText(done)) : null,
          done.note ? h("div", { class: "muted" }, t("run.stepNoteShown", { note: done.note })) : null,
        ),
      ),
    ),
  );
}

/** Which rule of a logic node held (`rule` counts from 0), or that none did. */
const ruleText = (rule: string) =>
  rule === "default" || !/^\d+$/.test(rule) ? t("run.ruleDefault") : t("run.ruleHeld", { number: Number(rule) + 1 });

/** A form step's values, each by its field's label (its id when the tree is not at hand). */
function valuesText(done: Session["steps"][number]): string {
  const node = treeOfStep(done)?.nodes.find((candidate) => candidate.id === done.node_id);
  const fields = node?.type === "form" ? node.fields : [];
  return Object.entries(done.values ?? {})
    .map(([id, value]) => {
      const label = fields.find((field) => field.id === id)?.label ?? id;
      const shown = value === true ? t("run.yes") : value === false ? t("run.no") : String(value);
      return t("run.value", { label, value: shown });
    })
    .join(" · ");
}
