import type { Session, Step } from "@tdt/proto/tdt/sessions/v1/sessions";
import { present } from "./downstream.js";
import { type NodeDocument, nodeDocumentOf } from "./tree-documents.js";

/**
 * Troubleshooting sessions as HTTP carries them (SPEC §6). A message leaves what is not there yet
 * unset; a document says so with `null` (outcome, left_at, completed_at) or `{}` (context).
 */

export interface StepDocument extends Omit<Step, "entered_at" | "left_at"> {
  entered_at: string;
  left_at: string | null;
}

export interface SessionDocument
  extends Omit<
    Session,
    "outcome" | "current_node" | "steps" | "context" | "started_at" | "updated_at" | "completed_at" | "variables"
  > {
  outcome: string | null;
  current_node: NodeDocument;
  steps: StepDocument[];
  context: Record<string, unknown>;
  variables: Record<string, unknown>;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

export function sessionDocumentOf(session: Session): SessionDocument {
  return {
    id: session.id,
    tree_id: session.tree_id,
    tree_version: session.tree_version,
    tree_title: session.tree_title,
    user_id: session.user_id,
    status: session.status,
    outcome: session.outcome ?? null,
    current_node: nodeDocumentOf(present(session.current_node, "current_node")),
    steps: session.steps.map(stepDocumentOf),
    notes: session.notes,
    context: session.context ?? {},
    started_at: present(session.started_at, "started_at"),
    updated_at: present(session.updated_at, "updated_at"),
    completed_at: session.completed_at ?? null,
    user_name: session.user_name,
    user_email: session.user_email,
    variables: session.variables ?? {},
    locale: session.locale,
  };
}

function stepDocumentOf(step: Step): StepDocument {
  return { ...step, entered_at: present(step.entered_at, "entered_at"), left_at: step.left_at ?? null };
}
