import { OFF_SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ApiError, api, type Outcome, type ReportFormat, type Session, type TreeNode } from "../api.js";
import { h, show } from "../dom.js";
import { markdown } from "../markdown.js";
import { downloadReport } from "../report-download.js";
import { hashOf } from "../router.js";
import type { Screen } from "../screen.js";
import { complete, loadSession, step } from "../session-steps.js";

/** A session step by step: the current node, its answers, back, notes, completion and the report. */
export async function runSessionScreen(screen: Screen, sessionId: string): Promise<void> {
  show(screen.root, h("p", { class: "muted" }, "Loading…"));
  try {
    const session = await loadSession(sessionId);
    await learnTitles(session);
    draw(screen, session);
  } catch (error) {
    show(screen.root, h("a", { href: hashOf({ name: "sessions" }) }, "← My sessions"));
    screen.fail(error);
  }
}

/**
 * Draws the session. `typedNotes` are session notes typed but not saved yet: a step keeps them
 * (only "Save notes" or completing sends them).
 */
function draw(screen: Screen, session: Session, typedNotes?: string, passed: Session["steps"] = []): void {
  const act = (change: () => Promise<Session>) => async () => {
    for (const button of screen.root.querySelectorAll("button")) button.disabled = true;
    const typed = notes.value !== session.notes ? notes.value : undefined;
    try {
      const next = await change();
      await learnTitles(next);
      // A retry that went through puts right the error an earlier try showed.
      screen.clear();
      draw(screen, next, next.notes === typed ? undefined : typed, linkedSolutionsPassed(session, next));
    } catch (error) {
      screen.fail(error);
      // Moved on elsewhere (another tab): show where it is now.
      const reload = error instanceof ApiError && (error.detail === "stale_step" || error.status === 409);
      draw(screen, reload ? await loadSession(session.id).catch(() => session) : session, typed);
    }
  };
  const ticket = typeof session.context.ticket === "string" ? session.context.ticket : "";
  const notes = h("textarea", { id: "session-notes", rows: 3, placeholder: "Notes for the report" });
  notes.value = typedNotes ?? session.notes;
  const inProgress = session.status === "in_progress";

  show(
    screen.root,
    h(
      "div",
      { class: "heading" },
      h("h1", {}, session.tree_title),
      h("span", { class: `badge ${session.status}`, id: "session-status" }, session.status.replace("_", " ")),
    ),
    h(
      "p",
      { class: "muted" },
      ticket ? `Ticket ${ticket} · ` : "",
      `version ${session.tree_version} · started ${new Date(session.started_at).toLocaleString()}`,
    ),
    breadcrumb(session),
    ...passed.map((step) =>
      h(
        "p",
        { class: "card linked-solution", id: "linked-solution", role: "status" },
        `“${treeTitles.get(step.tree_id) ?? "The linked procedure"}” ended at “${step.node_title}” (${step.outcome}). `,
        `Back in “${treeTitles.get(treeOfCurrent(session)) ?? session.tree_title}”.`,
      ),
    ),
    inProgress ? currentNode(session, act) : completed(screen, session),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Session notes"),
      notes,
      inProgress
        ? h(
            "button",
            {
              id: "save-notes",
              class: "secondary",
              onclick: act(() => step(session.id, { op: "note", notes: notes.value })),
            },
            "Save notes",
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
    if (announce) announce.textContent = inProgress ? `Now: ${heading.textContent}` : (heading.textContent ?? "");
  }
}

type Act = (change: () => Promise<Session>) => () => Promise<void>;

/** The titles of the trees a session went through, by id: the session's own, and linked ones as they are read. */
const treeTitles = new Map<string, string>();

/** Learns the titles of the trees the session's steps are in that are not known yet. */
async function learnTitles(session: Session): Promise<void> {
  treeTitles.set(session.tree_id, session.tree_title);
  const unknown = [...new Set(session.steps.map((step) => step.tree_id))].filter((id) => id && !treeTitles.has(id));
  await Promise.all(
    unknown.map(async (id) => {
      const tree = await api.GET("/api/v1/trees/{id}", { params: { path: { id } } }).catch(() => undefined);
      if (tree?.data) treeTitles.set(id, tree.data.title);
    }),
  );
}

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
    { class: "breadcrumb", id: "breadcrumb", "aria-label": "Procedures" },
    path.map((id) => treeTitles.get(id) ?? "Linked procedure").join(" › "),
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
  const note = h("textarea", { id: "step-note", rows: 2, placeholder: "A note on this step (optional)" });
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
        "Done — continue",
      ),
    );
  }
  return h(
    "section",
    { class: `card node ${node.type}`, id: "current-node", "data-node-id": node.id },
    h("p", { class: "node-type" }, nodeKind(node)),
    h("h2", {}, node.title),
    node.body ? markdown(node.body) : null,
    node.type === "solution" ? null : h("label", { for: "step-note" }, "Note on this step"),
    node.type === "solution" ? null : note,
    h("div", { class: "choices" }, ...choices),
    h(
      "button",
      {
        id: "back",
        class: "secondary",
        disabled: session.steps.length <= 1,
        onclick: act(() => step(session.id, { op: "back" })),
      },
      "← Back",
    ),
  );
}

function nodeKind(node: TreeNode): string {
  if (node.type === "question") return "Question";
  if (node.type === "action") return "Do this";
  // A session never stands at a link (it enters the linked tree at once); named for completeness.
  if (node.type === "link") return "Linked procedure";
  return `Solution (${node.outcome})`;
}

/**
 * At a solution, completing takes its outcome; elsewhere the technician picks one of the outcomes
 * the contract allows away from a solution (unresolved or escalated), a button each.
 */
function completion(session: Session, notes: HTMLTextAreaElement, act: Act): HTMLElement {
  const atSolution = session.current_node.type === "solution";
  const finish = (outcome: Outcome | undefined, note = "") =>
    act(() => complete(session.id, outcome, [notes.value.trim(), note.trim()].filter(Boolean).join("\n\n")));
  const card = h("section", { class: "card", id: "completion" }, h("h2", {}, "Complete the session"));
  const choose = () =>
    show(
      card,
      h("h2", {}, "Complete the session"),
      atSolution
        ? h("button", { id: "complete", onclick: finish(undefined) }, "Complete")
        : h(
            "div",
            { class: "choices" },
            ...OFF_SOLUTION_OUTCOMES.map((outcome) =>
              h(
                "button",
                { id: `complete-${outcome}`, class: "secondary", onclick: () => confirm(outcome) },
                capitalized(outcome),
              ),
            ),
          ),
    );
  // Away from a solution the session ends without one: asked once more, with room to say why.
  const confirm = (outcome: Outcome) => {
    const why = h("textarea", { id: "completion-note", rows: 2, placeholder: "Why (added to the notes)" });
    show(
      card,
      h("h2", {}, `Complete as ${outcome}?`),
      h("p", { class: "muted" }, "The session ends here, without reaching a solution."),
      h("label", { for: "completion-note" }, "Note"),
      why,
      h(
        "div",
        { class: "choices" },
        h("button", { id: "confirm-complete", onclick: () => finish(outcome, why.value)() }, `Complete as ${outcome}`),
        h("button", { id: "cancel-complete", class: "secondary", onclick: choose }, "Cancel"),
      ),
    );
    why.focus();
  };
  choose();
  return card;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

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
    h("h2", {}, `Outcome: ${session.outcome ?? "—"}`),
    h(
      "p",
      { class: "muted" },
      session.completed_at ? `Completed ${new Date(session.completed_at).toLocaleString()}` : "",
    ),
    h("p", {}, "Download the report:"),
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
        "Start another",
      ),
      h("a", { class: "button secondary", href: hashOf({ name: "trees", query: "" }) }, "Back to the trees"),
    ),
  );
}

function history(session: Session): HTMLElement {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Steps"),
    h(
      "ol",
      { id: "steps", class: "steps" },
      ...session.steps.map((done) =>
        h(
          "li",
          {},
          h("strong", {}, done.node_title),
          done.option_label ? ` → ${done.option_label}` : "",
          done.note ? h("div", { class: "muted" }, `Note: ${done.note}`) : null,
        ),
      ),
    ),
  );
}
