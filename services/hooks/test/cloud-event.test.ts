import { SESSION_SUBJECTS } from "@tdt/proto/contracts/session-events";
import { TREE_SUBJECTS } from "@tdt/proto/contracts/tree-events";
import { describe, expect, it } from "vitest";
import { cloudEvent, EVENT_TYPES, eventTypeOf } from "../src/cloud-event.js";

describe("webhook bodies", () => {
  it("name each event the services publish by its webhook type, and a session's steps by none", () => {
    expect(eventTypeOf(SESSION_SUBJECTS.started)).toBe("tdt.session.started");
    expect(eventTypeOf(SESSION_SUBJECTS.completed)).toBe("tdt.session.completed");
    expect(eventTypeOf(SESSION_SUBJECTS.abandoned)).toBe("tdt.session.abandoned");
    expect(eventTypeOf(SESSION_SUBJECTS.step)).toBeUndefined();
    expect(eventTypeOf(TREE_SUBJECTS.treeChanged, "created")).toBe("tdt.tree.published");
    expect(eventTypeOf(TREE_SUBJECTS.treeChanged, "updated")).toBe("tdt.tree.published");
    expect(eventTypeOf(TREE_SUBJECTS.treeChanged, "deleted")).toBe("tdt.tree.deleted");
    expect(eventTypeOf("auth.session.revoked")).toBeUndefined();
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });

  it("are CloudEvents 1.0 JSON events with the event's own id", () => {
    const event = cloudEvent({
      id: "0b7a2f4e-8d1c-4d7e-9a51-3c6f0e2b9d11",
      source: "https://tdt.example.com",
      type: "tdt.session.completed",
      subject: "5f0c…",
      time: new Date("2026-12-06T10:00:00Z"),
      data: { outcome: "resolved" },
    });
    expect(event).toEqual({
      specversion: "1.0",
      id: "0b7a2f4e-8d1c-4d7e-9a51-3c6f0e2b9d11",
      source: "https://tdt.example.com",
      type: "tdt.session.completed",
      subject: "5f0c…",
      time: "2026-12-06T10:00:00.000Z",
      datacontenttype: "application/json",
      data: { outcome: "resolved" },
    });
    expect("subject" in cloudEvent({ id: "x", source: "s", type: "t", time: new Date(0), data: null })).toBe(false);
  });
});
