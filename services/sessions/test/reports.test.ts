import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { csvField, csvReport } from "../src/reports/csv.js";
import { markdownReport } from "../src/reports/markdown.js";
import { renderReport, reportFilename } from "../src/reports/report.js";

const session: Session = {
  id: "0f8fad5b-d9cb-469f-a165-70867728950e",
  tree_id: "t",
  tree_version: 2,
  tree_title: "Wi-Fi: no connection!",
  user_id: "u",
  user_name: "Ada Lovelace",
  user_email: "ada@example.com",
  locale: "en",
  status: "completed",
  outcome: "escalated",
  current_node: {
    id: "s",
    type: "solution",
    title: "Escalate",
    body: "",
    options: [],
    fields: [],
    rules: [],
    outcome: "escalated",
  },
  steps: [
    {
      seq: 1,
      node_id: "q",
      node_title: 'Is the "router" on?',
      option_id: "no",
      option_label: "No",
      note: '=HYPERLINK("http://evil")',
      tree_id: "t",
      tree_version: 2,
      entered_at: "2026-01-01T10:00:00.000Z",
      left_at: "2026-01-01T10:01:05.000Z",
      duration_ms: 65_000,
    },
    {
      seq: 2,
      node_id: "s",
      node_title: "Escalate | to network",
      option_id: "",
      option_label: "",
      note: "line one\nline two",
      tree_id: "t",
      tree_version: 2,
      entered_at: "2026-01-01T10:01:05.000Z",
      left_at: "2026-01-01T10:01:10.000Z",
      duration_ms: 5_000,
    },
  ],
  notes: "Customer informed",
  context: { ticket: "INC-7", site: { floor: 3 } },
  variables: {},
  started_at: "2026-01-01T10:00:00.000Z",
  updated_at: "2026-01-01T10:01:10.000Z",
  completed_at: "2026-01-01T10:01:10.000Z",
};
const tree = {
  id: "t",
  title: "Wi-Fi: no connection!",
  version: 2,
  nodes: [
    { id: "q", type: "question", title: 'Is the "router" on?', body: "", options: [], fields: [], rules: [] },
    { id: "a", type: "action", title: "Restart it", body: "", options: [], fields: [], rules: [] },
    {
      id: "s",
      type: "solution",
      title: "Escalate | to network",
      body: "",
      options: [],
      fields: [],
      rules: [],
      outcome: "escalated",
    },
  ],
} as unknown as Tree;

describe("reports", () => {
  it("writes CSV with one row per step, quoting and defusing formulas", () => {
    const rows = csvReport(session).split("\r\n");
    expect(rows[0]).toBe(
      "seq,node_id,node_title,option_id,option_label,note,entered_at,left_at,duration_ms,tree_id,tree_version",
    );
    expect(rows[1]).toBe(
      '1,q,"Is the ""router"" on?",no,No,"\'=HYPERLINK(""http://evil"")",2026-01-01T10:00:00.000Z,2026-01-01T10:01:05.000Z,65000,t,2',
    );
    expect(rows[2]).toContain('"line one\nline two"');
    expect(csvField("-1+2")).toBe("'-1+2");
    expect(csvField(-5)).toBe("-5");
  });

  it("writes Markdown with the facts, the context and a table that pipes cannot break", () => {
    const markdown = markdownReport(session, [tree]);
    expect(markdown).toContain("- Outcome: escalated");
    expect(markdown).toContain("- ticket: INC-7");
    expect(markdown).toContain('- site: {"floor":3}');
    // `://` is escaped: a GitHub-flavoured renderer would otherwise link the bare URL.
    expect(markdown).toContain(
      '| 1 | Wi-Fi: no connection! v2 | Is the "router" on? | No | =HYPERLINK("http\\://evil") | 1 min 5 s |',
    );
    // A solution asks nothing: no answer (it read "done").
    expect(markdown).toContain(
      "| 2 | Wi-Fi: no connection! v2 | Escalate \\| to network |  | line one<br>line two | 5 s |",
    );
    // The technician reads as written: their proven address is left as it is, no entities, no backslashes.
    expect(markdown).toContain("- Technician: Ada Lovelace (ada@example.com)");
    expect(markdown).toContain("## Notes\n\nCustomer informed");
  });

  it("shows an unanswered question as unanswered, and an action continued past as done", () => {
    const step = (seq: number, node_id: string, option_label = "") => ({
      ...(session.steps[0] as Session["steps"][number]),
      seq,
      node_id,
      node_title: node_id,
      option_label,
      note: "",
    });
    // Escalated at a question: it was never answered (it read "Answer: done").
    const escalated = { ...session, steps: [step(1, "q", "Yes"), step(2, "a"), step(3, "q")] };
    const markdown = markdownReport(escalated, [tree]);
    expect(markdown).toContain("| 1 | Wi-Fi: no connection! v2 | q | Yes |");
    expect(markdown).toContain("| 2 | Wi-Fi: no connection! v2 | a | done |");
    expect(markdown).toContain("| 3 | Wi-Fi: no connection! v2 | q | unanswered |");
    // Ended at an action it never continued past: not done.
    const stoppedAtAction = { ...session, steps: [step(1, "q", "Yes"), step(2, "a")] };
    expect(markdownReport(stoppedAtAction, [tree])).toContain("| 2 | Wi-Fi: no connection! v2 | a |  |");
  });

  it("names the technician by user id when the session does not know their name", () => {
    const unknown = { ...session, user_name: "", user_email: "" };
    expect(markdownReport(unknown, [tree])).toContain("- Technician: u\n");
  });

  it("names files safely and refuses an unknown format", async () => {
    expect(reportFilename(session, "pdf")).toBe("session-wi-fi-no-connection-0f8fad5b.pdf");
    await expect(renderReport(session, [tree], "docx")).rejects.toMatchObject({
      code: "validation_error",
      extra: { problems: [expect.objectContaining({ loc: ["query", "format"] })] },
    });
  });

  it("renders a PDF document", async () => {
    const file = await renderReport(session, [tree], "pdf");
    expect(file.content_type).toBe("application/pdf");
    expect(file.content.subarray(0, 5).toString()).toBe("%PDF-");
  });
});
