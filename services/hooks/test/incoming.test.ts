import { DEFAULT_ORGANIZATION_ID } from "@tdt/kit";
import { encodeSessionEvent, SESSION_SUBJECTS } from "@tdt/proto/contracts/session-events";
import { encodeTreeEvent, TREE_SUBJECTS } from "@tdt/proto/contracts/tree-events";
import { describe, expect, it } from "vitest";
import { incomingOf } from "../src/incoming.js";

const ORG = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const base = {
  event_id: "0b7a2f4e-8d1c-4d7e-9a51-3c6f0e2b9d11",
  occurred_at: "2026-12-06T10:00:00.000Z",
  session_id: "5f0c9a8e-1b2c-4d3e-8f9a-0b1c2d3e4f5a",
  tree_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  tree_version: 3,
  user_id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
  node_id: "done",
  node_tree_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  organization_id: ORG,
};

describe("events as deliveries", () => {
  it("make a completed session a tdt.session.completed CloudEvent with its report's link, in order per session", () => {
    const data = encodeSessionEvent({
      subject: SESSION_SUBJECTS.completed,
      event: {
        ...base,
        outcome: "resolved",
        duration_ms: 10,
        total_duration_ms: 65_000,
        report_markdown: "# Printer prints nothing\n\n- Outcome: resolved\n",
      },
    });
    const incoming = incomingOf(SESSION_SUBJECTS.completed, data, "https://tdt.example.com/");
    expect(incoming).toMatchObject({
      orgId: ORG,
      eventId: base.event_id,
      type: "tdt.session.completed",
      orderingKey: `session:${base.session_id}`,
      occurredAt: new Date(base.occurred_at),
    });
    expect(JSON.parse(incoming?.body ?? "")).toEqual({
      specversion: "1.0",
      id: base.event_id,
      source: "https://tdt.example.com",
      type: "tdt.session.completed",
      subject: base.session_id,
      time: base.occurred_at,
      datacontenttype: "application/json",
      data: {
        session_id: base.session_id,
        tree_id: base.tree_id,
        tree_version: 3,
        user_id: base.user_id,
        node_id: "done",
        outcome: "resolved",
        total_duration_ms: 65_000,
        report_markdown: "# Printer prints nothing\n\n- Outcome: resolved\n",
        report_url: `https://tdt.example.com/api/v1/sessions/${base.session_id}/export?format=pdf`,
      },
    });
  });

  it("hear no step, and put an event of before organizations in the default one", () => {
    const step = encodeSessionEvent({
      subject: SESSION_SUBJECTS.step,
      event: {
        event_id: base.event_id,
        occurred_at: base.occurred_at,
        session_id: base.session_id,
        tree_id: base.tree_id,
        tree_version: 3,
        user_id: base.user_id,
        op: "answer",
        seq: 1,
        node_id: "a",
        option_id: "yes",
        duration_ms: 5,
        next_node_id: "b",
        node_tree_id: base.tree_id,
        next_tree_id: base.tree_id,
        organization_id: ORG,
      },
    });
    expect(incomingOf(SESSION_SUBJECTS.step, step, "https://x")).toBeUndefined();
    const old = encodeSessionEvent({ subject: SESSION_SUBJECTS.started, event: { ...base, organization_id: "" } });
    expect(incomingOf(SESSION_SUBJECTS.started, old, "https://x")?.orgId).toBe(DEFAULT_ORGANIZATION_ID);
    expect(incomingOf("auth.session.revoked", old, "https://x")).toBeUndefined();
  });

  it("make a tree's new version tdt.tree.published and its deletion tdt.tree.deleted, in order per tree", () => {
    const changed = (change: string) =>
      encodeTreeEvent({
        subject: TREE_SUBJECTS.treeChanged,
        event: {
          event_id: base.event_id,
          occurred_at: base.occurred_at,
          tree_id: base.tree_id,
          version: 4,
          change,
          organization_id: ORG,
        },
      });
    expect(incomingOf(TREE_SUBJECTS.treeChanged, changed("updated"), "https://x")).toMatchObject({
      type: "tdt.tree.published",
      orderingKey: `tree:${base.tree_id}`,
    });
    expect(incomingOf(TREE_SUBJECTS.treeChanged, changed("deleted"), "https://x")?.type).toBe("tdt.tree.deleted");
  });
});
