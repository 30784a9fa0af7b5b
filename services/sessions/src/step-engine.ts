/**
 * The session step engine (SPEC §6): plain functions from a session's state, the tree version
 * it runs on and one operation, to the next state. No I/O, so every rule is testable alone.
 */
import { AppError } from "@tdt/kit";
import { currentOutcomeSpelling, OFF_SOLUTION_OUTCOMES, OUTCOMES, type Outcome } from "@tdt/proto/contracts/outcomes";
import { fillPlaceholders, firstHolding, type Values } from "@tdt/proto/contracts/tree-logic";
import { type EnumValue, enumValues, FIELD_RULES } from "@tdt/proto/tdt/contract";
import type { Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { formValues, valuesIn } from "./session-variables.js";

/** A link the session went through and will come back to: the linking tree and its link node. */
export interface Frame {
  tree_id: string;
  tree_version: number;
  link_node_id: string;
}

export interface StepRecord {
  seq: number;
  node_id: string;
  node_title: string;
  option_id: string;
  option_label: string;
  note: string;
  entered_at: string;
  /** Empty while the step is open (the current node). */
  left_at: string;
  duration_ms: number;
  /** The tree the node belongs to; absent in steps written before links (the session's own tree). */
  tree_id?: string;
  tree_version?: number;
  /** The links the session is inside at this step, outermost first (none: the session's own tree). */
  frames?: Frame[];
  /** A linked tree's solution passed on the way back to the linking tree: its outcome. */
  outcome?: string;
  /** Passed without the technician (that solution, a logic node): `back` steps over it. */
  passed?: boolean;
  /** A form's step: the values submitted, by field id. */
  values?: Values;
  /** A logic node's step: the rule that held (its index from 0), or `default`. */
  rule?: string;
}

/** How deep links may nest: deeper is a loop of links (409 `link_depth_exceeded`). */
export const MAX_LINK_DEPTH = 8;

/**
 * The trees a session runs on: its own, and those it entered through links (each pinned at the
 * version it first entered, for the session's life). The engine is pure and loads nothing: its
 * caller puts in the book, before it runs, every tree the operation can look up (`departureOf`
 * and `moveFrom` show the way a step walks).
 */
export interface TreeBook {
  /** The session's own tree. */
  root: Tree;
  /** A tree at a version the session pinned. */
  version(treeId: string, version: number): Tree;
  /** The latest published version of a tree first entered now; null when it has none. */
  latest(treeId: string): Tree | null;
}

/** The tree versions a session pinned (tree id → version). */
export type Pins = Record<string, number>;

/** A book of one tree (a session that never links, or a test). */
export function bookOf(root: Tree): TreeBook {
  const lacking = (tree: string) => new Error(`tree ${tree} is not in the book of ${root.id}@${root.version}`);
  return {
    root,
    version: (treeId, version) => {
      if (treeId === root.id && version === root.version) return root;
      throw lacking(`${treeId}@${version}`);
    },
    latest: (treeId) => {
      throw lacking(treeId);
    },
  };
}

/** Where a session stands: a node of a tree, inside these links. */
export interface Place {
  tree: Tree;
  node: Node;
  frames: Frame[];
}

export const SESSION_STATUSES = enumValues("tdt.sessions.v1.SessionStatus");
export type SessionStatus = EnumValue<"tdt.sessions.v1.SessionStatus">;

export interface SessionState {
  status: SessionStatus;
  outcome: Outcome | null;
  current_node_id: string;
  /** Every node passed through; the last one is the current node, still open. */
  steps: StepRecord[];
  notes: string;
  completed_at: string | null;
  /** The version each tree entered through a link was pinned at. */
  pins: Pins;
  /** The variables' values: given at the start, and what forms filled in since. */
  variables: Values;
}

export type StepOp =
  | { op: "answer"; node_id: string; option_id: string; note?: string | undefined }
  | { op: "continue"; node_id: string; note?: string | undefined }
  | { op: "submit"; node_id: string; values: Record<string, unknown>; note?: string | undefined }
  | { op: "back" }
  | { op: "note"; notes: string };

/** The contract's bound of a note (StepSessionRequest in sessions.proto). */
export const MAX_NOTE_LENGTH = FIELD_RULES["tdt.sessions.v1.StepSessionRequest"].note.string.max_len;

const invalid = (field: string, msg: string, type: string) => AppError.invalid([{ loc: ["body", field], msg, type }]);

export function nodeById(tree: Tree, id: string): Node {
  const node = tree.nodes.find((candidate) => candidate.id === id);
  // Trees are validated before they are stored, so every reference resolves.
  if (!node) throw new Error(`tree ${tree.id} v${tree.version} has no node ${id}`);
  return node;
}

function openStep(seq: number, place: Place, now: Date, values: Values): StepRecord {
  return {
    seq,
    node_id: place.node.id,
    // As the technician was shown it: with the variables' values of then.
    node_title: fillPlaceholders(place.node.title, valuesIn(place.tree, values), "text"),
    option_id: "",
    option_label: "",
    note: "",
    entered_at: now.toISOString(),
    left_at: "",
    duration_ms: 0,
    tree_id: place.tree.id,
    tree_version: place.tree.version,
    ...(place.frames.length > 0 ? { frames: place.frames } : {}),
  };
}

/** The tree (and version) of a step's node: the session's own for a step written before links. */
export function treeOfStep(step: StepRecord, session: { tree_id: string; tree_version: number }) {
  return { tree_id: step.tree_id ?? session.tree_id, tree_version: step.tree_version ?? session.tree_version };
}

/** Where a step stands: its node in its tree (the session's own for a step from before links). */
export function placeOf(step: StepRecord, book: TreeBook): Place {
  const tree = step.tree_id ? book.version(step.tree_id, step.tree_version ?? 0) : book.root;
  return { tree, node: nodeById(tree, step.node_id), frames: step.frames ?? [] };
}

/** The tree of the session's current node. */
export function currentTreeOf(state: SessionState, book: TreeBook): Tree {
  return placeOf(state.steps[state.steps.length - 1] as StepRecord, book).tree;
}

/** Where a session starts: its tree's root node, inside no link. */
export const rootPlace = (tree: Tree): Place => ({ tree, node: nodeById(tree, tree.root_node_id), frames: [] });

/**
 * The most moves one step makes by itself. Each tree is acyclic and links nest at most
 * MAX_LINK_DEPTH deep, so a walk ends; the bound is for what nobody foresaw, so that no tree can
 * keep a request spinning.
 */
export const MAX_MOVES = 1000;

/** A tree a link enters: at the version the session pinned, or (none) its latest published version. */
export interface TreeEntered {
  tree_id: string;
  version: number | undefined;
}

/** The tree the link at `at` enters; none when `at` is no link, or one nested too deep to follow. */
export function treeEntered(at: Place, pins: Pins): TreeEntered | undefined {
  if (at.node.type !== "link" || at.frames.length >= MAX_LINK_DEPTH) return undefined;
  const treeId = at.node.tree_id ?? "";
  return { tree_id: treeId, version: pins[treeId] };
}

/**
 * The move a session makes by itself from `at`, with `book`'s trees: a logic node goes on where
 * its first rule that holds for `values` leads (else its `default_next`), passing it; a link
 * enters its tree (pinned, or its latest published version, pinned now) at the root; a linked
 * tree's solution goes back out to the innermost link with a `next`, passing that solution. None:
 * the session stands at `at`. A link too deep, or to a tree with no published version, is
 * refused: answered, not thrown, for the engine throws it and a caller loading trees stops there.
 */
export function moveFrom(
  at: Place,
  pins: Pins,
  book: TreeBook,
  values: Values,
): { to: Place; pins: Pins; passing: boolean; rule?: string } | AppError | undefined {
  if (at.node.type === "logic") {
    const fired = firstHolding(at.node.rules, at.tree.variables ?? [], valuesIn(at.tree, values));
    const next = fired === "default" ? at.node.default_next : at.node.rules[fired]?.next;
    return { to: { ...at, node: nodeById(at.tree, next ?? "") }, pins, passing: true, rule: String(fired) };
  }
  if (at.node.type === "link") {
    const entered = treeEntered(at, pins);
    if (!entered) return new AppError("link_depth_exceeded");
    const linked =
      entered.version !== undefined ? book.version(entered.tree_id, entered.version) : book.latest(entered.tree_id);
    if (!linked) return new AppError("link_target_unpublished");
    const frame = { tree_id: at.tree.id, tree_version: at.tree.version, link_node_id: at.node.id };
    const to = { tree: linked, node: nodeById(linked, linked.root_node_id), frames: [...at.frames, frame] };
    return { to, pins: { ...pins, [entered.tree_id]: linked.version }, passing: false };
  }
  const back = at.node.type === "solution" && at.frames.length > 0 ? wayBack(at, book) : undefined;
  return back && { to: back, pins, passing: true };
}

/**
 * Moves onto `place` and on by itself (`moveFrom`): a linked tree's solution passed on the way
 * back is a step with its outcome; with no way back, the session stays at the solution and
 * completing there ends it with that outcome. Answers the steps passed and where it stands.
 */
function arrive(start: Place, pins: Pins, book: TreeBook, firstSeq: number, now: Date, values: Values) {
  const passed: StepRecord[] = [];
  let at = start;
  let pinned = pins;
  for (let moves = 0; moves < MAX_MOVES; moves++) {
    const move = moveFrom(at, pinned, book, values);
    if (move instanceof AppError) throw move;
    if (!move) return { passed, at, pins: pinned };
    if (move.passing) {
      const step = openStep(firstSeq + passed.length, at, now, values);
      passed.push({
        ...step,
        left_at: step.entered_at,
        ...(move.rule === undefined ? { outcome: solutionOutcome(at.node) } : { rule: move.rule }),
        passed: true,
      });
    }
    at = move.to;
    pinned = move.pins;
  }
  throw new AppError("link_depth_exceeded");
}

/** From a linked tree's solution: the `next` of the innermost link that has one, or none. */
function wayBack(at: Place, book: TreeBook): Place | undefined {
  for (let k = at.frames.length - 1; k >= 0; k--) {
    const frame = at.frames[k] as Frame;
    const outer = book.version(frame.tree_id, frame.tree_version);
    const link = nodeById(outer, frame.link_node_id);
    if (link.next) return { tree: outer, node: nodeById(outer, link.next), frames: at.frames.slice(0, k) };
  }
  return undefined;
}

interface Closing {
  option_id?: string;
  option_label?: string;
  note?: string | undefined;
  values?: Values;
}

function closeStep(step: StepRecord, now: Date, answer: Closing): StepRecord {
  return {
    ...step,
    option_id: answer.option_id ?? "",
    option_label: answer.option_label ?? "",
    note: answer.note ?? step.note,
    ...(answer.values ? { values: answer.values } : {}),
    left_at: now.toISOString(),
    duration_ms: Math.max(0, now.getTime() - Date.parse(step.entered_at)),
  };
}

/** Why a note is refused (longer than the contract's bound), or none. */
function noteRefusal(note: string | undefined, field: string): AppError | undefined {
  if (note === undefined || note.length <= MAX_NOTE_LENGTH) return undefined;
  return invalid(field, `At most ${MAX_NOTE_LENGTH} characters`, "string_too_long");
}

function checkNote(note: string | undefined, field: string): void {
  const refusal = noteRefusal(note, field);
  if (refusal) throw refusal;
}

/** Why a session may not change: completed or abandoned (409); none while it may. */
function closedRefusal(state: SessionState): AppError | undefined {
  if (state.status === "completed") return new AppError("session_completed");
  if (state.status === "abandoned") return new AppError("session_abandoned");
  return undefined;
}

function assertChangeable(state: SessionState): void {
  const refusal = closedRefusal(state);
  if (refusal) throw refusal;
}

type MovingOp = Extract<StepOp, { op: "answer" | "continue" | "submit" }>;

const isMoving = (op: StepOp): op is MovingOp => op.op === "answer" || op.op === "continue" || op.op === "submit";

/** Where a step leaves the open node for, what it closes the open step with, and the variables it sets. */
interface Leaving {
  next: string;
  closing: Closing;
  assigns?: Values;
}

/**
 * Where an answer, a continue or a submit leaves the current node for, and what it closes the
 * open step with; or why it may not (answered, not thrown: `departureOf` asks it too).
 */
function leave(place: Place, op: MovingOp): Leaving | AppError {
  const current = place.node;
  // The node guard: a retry of a step that already happened is refused, never applied twice.
  if (op.node_id !== current.id) return new AppError("stale_step");
  if (op.op === "submit") {
    if (current.type !== "form" || !current.next) {
      return invalid("op", `The current node is a ${current.type}; submit needs a form`, "op_not_allowed");
    }
    const tooLong = noteRefusal(op.note, "note");
    if (tooLong) return tooLong;
    const filled = formValues(current, place.tree, op.values);
    if (filled instanceof AppError) return filled;
    return { next: current.next, closing: { note: op.note, values: filled.byField }, assigns: filled.byVariable };
  }
  if (op.op === "continue") {
    if (current.type !== "action" || !current.next) {
      return invalid("op", `The current node is a ${current.type}; continue needs an action`, "op_not_allowed");
    }
    return noteRefusal(op.note, "note") ?? { next: current.next, closing: { note: op.note } };
  }
  if (current.type !== "question") {
    return invalid("op", `The current node is a ${current.type}; answer needs a question`, "op_not_allowed");
  }
  const tooLong = noteRefusal(op.note, "note");
  if (tooLong) return tooLong;
  const option = current.options.find((candidate) => candidate.id === op.option_id);
  if (!option) return invalid("option_id", `No option "${op.option_id}" on node "${current.id}"`, "unknown_option");
  return { next: option.next, closing: { option_id: option.id, option_label: option.label, note: op.note } };
}

/**
 * The first state of a session: the root node (through any link or logic node it is), entered
 * now, with the variables' first values (checked by the caller: `startValues`).
 */
export function startState(book: TreeBook, now: Date, variables: Values = {}): SessionState {
  const { passed, at, pins } = arrive(rootPlace(book.root), {}, book, 1, now, variables);
  return {
    status: "in_progress",
    outcome: null,
    current_node_id: at.node.id,
    steps: [...passed, openStep(passed.length + 1, at, now, variables)],
    notes: "",
    completed_at: null,
    pins,
    variables,
  };
}

/** Moves on from the open step (closed as `closed`) to `next` in its tree, with the variables `values`. */
function moveOn(
  state: SessionState,
  place: Place,
  closed: StepRecord,
  next: Node,
  book: TreeBook,
  now: Date,
  values: Values,
) {
  const done = state.steps.slice(0, -1);
  const arrived = arrive({ ...place, node: next }, state.pins ?? {}, book, closed.seq + 1, now, values);
  const open = openStep(closed.seq + 1 + arrived.passed.length, arrived.at, now, values);
  return {
    ...state,
    current_node_id: arrived.at.node.id,
    steps: [...done, closed, ...arrived.passed, open],
    pins: arrived.pins,
    variables: values,
  };
}

/**
 * Where `op` sets the session off from its open step: the node an answer, a continue or a submit
 * goes to, before the moves the session makes by itself from there (`moveFrom`), and the
 * variables it goes with. None when the operation goes nowhere new (back, note) or the engine
 * refuses it. The caller loads that walk's trees before the engine runs.
 */
export function departureOf(
  state: SessionState,
  book: TreeBook,
  op: StepOp,
): { place: Place; values: Values } | undefined {
  if (!isMoving(op) || closedRefusal(state)) return undefined;
  const place = placeOf(state.steps[state.steps.length - 1] as StepRecord, book);
  const leaving = leave(place, op);
  if (leaving instanceof AppError) return undefined;
  return {
    place: { ...place, node: nodeById(place.tree, leaving.next) },
    values: { ...(state.variables ?? {}), ...leaving.assigns },
  };
}

/** Applies one step operation. */
export function applyStep(state: SessionState, book: TreeBook, op: StepOp, now: Date): SessionState {
  assertChangeable(state);
  const open = state.steps[state.steps.length - 1] as StepRecord;
  const place = placeOf(open, book);
  const done = state.steps.slice(0, -1);

  switch (op.op) {
    case "note":
      checkNote(op.notes, "notes");
      return { ...state, notes: op.notes };

    case "answer":
    case "continue":
    case "submit": {
      const leaving = leave(place, op);
      if (leaving instanceof AppError) throw leaving;
      const closed = closeStep(open, now, leaving.closing);
      const values = { ...(state.variables ?? {}), ...leaving.assigns };
      return moveOn(state, place, closed, nodeById(place.tree, leaving.next), book, now, values);
    }

    case "back": {
      // Over the solutions passed on the way back from a linked tree and the logic nodes passed:
      // the technician did not stand there.
      let k = done.length - 1;
      while (k >= 0 && done[k]?.passed) k--;
      const previous = done[k];
      if (!previous) throw invalid("op", "The session is at its first step", "nothing_to_go_back_to");
      // The previous step opens again, unanswered, in its own tree (back out of a linked tree's
      // first node: to the step that led to the link); its note stays for the technician. A form
      // opened again keeps the variables it filled until it is submitted again.
      const { values: _submitted, ...unanswered } = previous;
      const reopened: StepRecord = { ...unanswered, option_id: "", option_label: "", left_at: "", duration_ms: 0 };
      return { ...state, current_node_id: previous.node_id, steps: [...done.slice(0, k), reopened] };
    }
  }
}

/** A solution's outcome as the session's, in today's spelling (a copy made before it changed may hold an old one). */
function solutionOutcome(solution: Node): Outcome {
  return currentOutcomeSpelling(solution.outcome ?? "") as Outcome;
}

/**
 * Completes a session. At a solution any outcome may be given, and it defaults to the solution's;
 * elsewhere the technician must give one of the contract's `off_solution` outcomes.
 */
export function completeState(
  state: SessionState,
  book: TreeBook,
  input: { outcome?: string | undefined; notes?: string | undefined },
  now: Date,
): SessionState {
  assertChangeable(state);
  checkNote(input.notes, "notes");
  const current = placeOf(state.steps[state.steps.length - 1] as StepRecord, book).node;
  const atSolution = current.type === "solution";
  const allowed: readonly string[] = atSolution ? OUTCOMES : OFF_SOLUTION_OUTCOMES;
  if (input.outcome !== undefined && !allowed.includes(input.outcome)) {
    throw invalid("outcome", `Must be one of ${allowed.join(", ")} here`, "enum");
  }
  const outcome = (input.outcome as Outcome | undefined) ?? (atSolution ? solutionOutcome(current) : undefined);
  if (!outcome) throw invalid("outcome", `Not at a solution: give ${allowed.join(" or ")}`, "missing");
  const open = state.steps[state.steps.length - 1] as StepRecord;
  return {
    ...state,
    status: "completed",
    outcome,
    notes: input.notes ?? state.notes,
    steps: [...state.steps.slice(0, -1), closeStep(open, now, {})],
    completed_at: now.toISOString(),
  };
}
