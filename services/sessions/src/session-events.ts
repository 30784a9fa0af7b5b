/**
 * What a session's change announces (`sessions.session.*`, proto/contracts/session-events.ts),
 * derived from the state before and after it: plain functions, no I/O. The store writes the
 * events to its outbox in the statement (or transaction) that writes the change.
 */
import { randomUUID } from "node:crypto";
import type { OutboxEvent } from "@tdt/kit";
import { encodeSessionEvent, SESSION_SUBJECTS, type SessionEvent } from "@tdt/proto/contracts/session-events";
import { type SessionState, type StepRecord, treeOfStep } from "./step-engine.js";

/** What every event of a session names. */
export interface SessionIdentity {
  id: string;
  tree_id: string;
  tree_version: number;
  user_id: string;
  started_at: Date;
  /** Its organization: every event names it (issue 28), and the relay sends it as a header too. */
  org_id: string;
}

function header(session: SessionIdentity, now: Date) {
  return {
    event_id: randomUUID(),
    occurred_at: now.toISOString(),
    session_id: session.id,
    tree_id: session.tree_id,
    tree_version: session.tree_version,
    user_id: session.user_id,
    organization_id: session.org_id,
  };
}

/** The tree a step's node belongs to (a step from before links: the session's own). */
const nodeTreeOf = (session: SessionIdentity, step: StepRecord | undefined) =>
  step ? treeOfStep(step, session).tree_id : session.tree_id;

export function startedEvent(session: SessionIdentity, state: SessionState, now: Date): SessionEvent {
  const open = state.steps[state.steps.length - 1];
  return {
    subject: SESSION_SUBJECTS.started,
    event: { ...header(session, now), node_id: state.current_node_id, node_tree_id: nodeTreeOf(session, open) },
  };
}

export function abandonedEvent(
  session: SessionIdentity,
  state: Pick<SessionState, "steps">,
  nodeId: string,
  now: Date,
): SessionEvent {
  const open = state.steps[state.steps.length - 1];
  return {
    subject: SESSION_SUBJECTS.abandoned,
    event: { ...header(session, now), node_id: nodeId, node_tree_id: nodeTreeOf(session, open) },
  };
}

/**
 * The events of one change: a completion, or a step forward (answer, continue) or back; a note
 * changes nothing anyone counts and announces nothing.
 */
export function changeEvents(
  session: SessionIdentity,
  before: SessionState,
  after: SessionState,
  now: Date,
  /** A completed session's report in Markdown, for the completion's event (reportForEvent). */
  reportOf?: (after: SessionState) => string,
): SessionEvent[] {
  if (after.status === "completed" && before.status !== "completed") {
    const last = after.steps[after.steps.length - 1] as StepRecord;
    const report = reportOf ? reportForEvent(reportOf(after)) : "";
    return [
      {
        subject: SESSION_SUBJECTS.completed,
        event: {
          ...header(session, now),
          outcome: after.outcome ?? "",
          node_id: after.current_node_id,
          duration_ms: last.duration_ms,
          total_duration_ms: Math.max(0, now.getTime() - session.started_at.getTime()),
          node_tree_id: nodeTreeOf(session, last),
          report_markdown: report,
        },
      },
    ];
  }
  if (after.steps.length > before.steps.length) {
    // The step that was open, now closed (what follows it may include a linked tree's solution
    // passed on the way back, and the new open step).
    const left = after.steps[before.steps.length - 1] as StepRecord;
    return [
      stepEvent(session, now, {
        op: left.option_id ? "answer" : "continue",
        seq: left.seq,
        node_id: left.node_id,
        option_id: left.option_id,
        duration_ms: left.duration_ms,
        next_node_id: after.current_node_id,
        node_tree_id: nodeTreeOf(session, left),
        next_tree_id: nodeTreeOf(session, after.steps[after.steps.length - 1]),
      }),
    ];
  }
  if (after.steps.length < before.steps.length) {
    const left = before.steps[before.steps.length - 1] as StepRecord;
    return [
      stepEvent(session, now, {
        op: "back",
        seq: left.seq,
        node_id: left.node_id,
        option_id: "",
        duration_ms: Math.max(0, now.getTime() - Date.parse(left.entered_at)),
        next_node_id: after.current_node_id,
        node_tree_id: nodeTreeOf(session, left),
        next_tree_id: nodeTreeOf(session, after.steps[after.steps.length - 1]),
      }),
    ];
  }
  return [];
}

function stepEvent(
  session: SessionIdentity,
  now: Date,
  step: {
    op: string;
    seq: number;
    node_id: string;
    option_id: string;
    duration_ms: number;
    next_node_id: string;
    node_tree_id: string;
    next_tree_id: string;
  },
): SessionEvent {
  return { subject: SESSION_SUBJECTS.step, event: { ...header(session, now), ...step } };
}

/** An event as an outbox row. */
export function outboxEventOf(item: SessionEvent): OutboxEvent {
  return { id: item.event.event_id, subject: item.subject, payload: encodeSessionEvent(item) };
}

/** The longest report a completion's event carries: past it, the event says where to fetch it only. */
export const EVENT_REPORT_MAX_BYTES = 100 * 1024;

/** The report as the event carries it: whole, or nothing when it is too long for an event. */
export function reportForEvent(markdown: string): string {
  return Buffer.byteLength(markdown) <= EVENT_REPORT_MAX_BYTES ? markdown : "";
}
