/**
 * The session step engine (SPEC §6): plain functions from a session's state, the tree version
 * it runs on and one operation, to the next state. No I/O, so every rule is testable alone.
 */
import { AppError } from "@tdt/kit";
import { type EnumValue, enumValues, FIELD_RULES } from "@tdt/proto/tdt/contract";
import type { Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";

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
}

export const SESSION_STATUSES = enumValues("tdt.sessions.v1.SessionStatus");
export type SessionStatus = EnumValue<"tdt.sessions.v1.SessionStatus">;
export type Outcome = EnumValue<"tdt.sessions.v1.SessionOutcome">;

export interface SessionState {
  status: SessionStatus;
  outcome: Outcome | null;
  current_node_id: string;
  /** Every node passed through; the last one is the current node, still open. */
  steps: StepRecord[];
  notes: string;
  completed_at: string | null;
}

export type StepOp =
  | { op: "answer"; node_id: string; option_id: string; note?: string | undefined }
  | { op: "continue"; node_id: string; note?: string | undefined }
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

function openStep(seq: number, node: Node, now: Date): StepRecord {
  return {
    seq,
    node_id: node.id,
    node_title: node.title,
    option_id: "",
    option_label: "",
    note: "",
    entered_at: now.toISOString(),
    left_at: "",
    duration_ms: 0,
  };
}

function closeStep(step: StepRecord, now: Date, answer: { option_id?: string; option_label?: string; note?: string }) {
  return {
    ...step,
    option_id: answer.option_id ?? "",
    option_label: answer.option_label ?? "",
    note: answer.note ?? step.note,
    left_at: now.toISOString(),
    duration_ms: Math.max(0, now.getTime() - Date.parse(step.entered_at)),
  };
}

function checkNote(note: string | undefined, field: string): void {
  if (note !== undefined && note.length > MAX_NOTE_LENGTH) {
    throw invalid(field, `At most ${MAX_NOTE_LENGTH} characters`, "string_too_long");
  }
}

/** A session that can still change; a completed or abandoned one is a 409. */
function assertChangeable(state: SessionState): void {
  if (state.status === "completed") throw new AppError("session_completed");
  if (state.status === "abandoned") throw new AppError("session_abandoned");
}

/** The first state of a session: the root node, entered now. */
export function startState(tree: Tree, now: Date): SessionState {
  const root = nodeById(tree, tree.root_node_id);
  return {
    status: "in_progress",
    outcome: null,
    current_node_id: root.id,
    steps: [openStep(1, root, now)],
    notes: "",
    completed_at: null,
  };
}

/** Applies one step operation. */
export function applyStep(state: SessionState, tree: Tree, op: StepOp, now: Date): SessionState {
  assertChangeable(state);
  const current = nodeById(tree, state.current_node_id);
  const open = state.steps[state.steps.length - 1] as StepRecord;
  const done = state.steps.slice(0, -1);

  switch (op.op) {
    case "note":
      checkNote(op.notes, "notes");
      return { ...state, notes: op.notes };

    case "answer": {
      // The node guard: a retry of a step that already happened is refused, never applied twice.
      if (op.node_id !== current.id) throw new AppError("stale_step");
      if (current.type !== "question") {
        throw invalid("op", `The current node is a ${current.type}; answer needs a question`, "op_not_allowed");
      }
      checkNote(op.note, "note");
      const option = current.options.find((candidate) => candidate.id === op.option_id);
      if (!option) throw invalid("option_id", `No option "${op.option_id}" on node "${current.id}"`, "unknown_option");
      const next = nodeById(tree, option.next);
      const closed = closeStep(open, now, { option_id: option.id, option_label: option.label, note: op.note });
      return { ...state, current_node_id: next.id, steps: [...done, closed, openStep(open.seq + 1, next, now)] };
    }

    case "continue": {
      if (op.node_id !== current.id) throw new AppError("stale_step");
      if (current.type !== "action" || !current.next) {
        throw invalid("op", `The current node is a ${current.type}; continue needs an action`, "op_not_allowed");
      }
      checkNote(op.note, "note");
      const next = nodeById(tree, current.next);
      const closed = closeStep(open, now, { note: op.note });
      return { ...state, current_node_id: next.id, steps: [...done, closed, openStep(open.seq + 1, next, now)] };
    }

    case "back": {
      const previous = done[done.length - 1];
      if (!previous) throw invalid("op", "The session is at its first step", "nothing_to_go_back_to");
      // The previous step opens again, unanswered; its note stays for the technician to keep or change.
      const reopened: StepRecord = { ...previous, option_id: "", option_label: "", left_at: "", duration_ms: 0 };
      return { ...state, current_node_id: previous.node_id, steps: [...done.slice(0, -1), reopened] };
    }
  }
}

/** A solution's outcome as the session's; `escalate` is the old spelling of a copy made before it changed. */
const SOLUTION_OUTCOMES: Record<string, Outcome> = {
  resolved: "resolved",
  escalated: "escalated",
  escalate: "escalated",
};

/**
 * Completes a session. At a solution the outcome defaults to the solution's; elsewhere the
 * technician must say `unresolved` or `escalated`.
 */
export function completeState(
  state: SessionState,
  tree: Tree,
  input: { outcome?: string | undefined; notes?: string | undefined },
  now: Date,
): SessionState {
  assertChangeable(state);
  checkNote(input.notes, "notes");
  const current = nodeById(tree, state.current_node_id);
  const atSolution = current.type === "solution";
  const allowed: string[] = atSolution ? ["resolved", "unresolved", "escalated"] : ["unresolved", "escalated"];
  if (input.outcome !== undefined && !allowed.includes(input.outcome)) {
    throw invalid("outcome", `Must be one of ${allowed.join(", ")} here`, "enum");
  }
  const outcome = (input.outcome ?? (atSolution ? SOLUTION_OUTCOMES[current.outcome ?? ""] : undefined)) as
    | Outcome
    | undefined;
  if (!outcome) throw invalid("outcome", "Not at a solution: give unresolved or escalated", "missing");
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
