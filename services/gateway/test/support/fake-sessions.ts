import { randomUUID } from "node:crypto";
import type { Handlers } from "@tdt/kit";
import { type Session, SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Node } from "@tdt/proto/tdt/trees/v1/trees";
import { FakeService } from "./fake-service.js";
import { sampleTree } from "./fake-trees.js";

type Sessions = typeof SessionsServiceService;

export const OWNER = "0d9a8b7c-6e5f-4a3b-8c2d-1e0f9a8b7c6d";
const TREE = sampleTree();

/** A node of the SPEC's printer tree as the trees service's message carries it. */
export function sampleNode(id: string): Node {
  const node = TREE.nodes.find((candidate) => candidate.id === id);
  if (!node) throw new Error(`the sample tree has no node ${id}`);
  return node;
}

/**
 * A session as the sessions service answers it: in progress at "paper" after answering "power",
 * so its last step is open (no `left_at`) and it has no outcome and no completion time.
 */
export function sampleSession(overrides: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    tree_id: TREE.id,
    tree_version: TREE.version,
    tree_title: TREE.title,
    user_id: OWNER,
    user_name: "Ada Lovelace",
    user_email: "ada@example.com",
    locale: "en",
    status: "in_progress",
    current_node: sampleNode("paper"),
    steps: [
      {
        seq: 1,
        node_id: "power",
        node_title: "Is the power light on?",
        option_id: "yes",
        option_label: "Yes",
        note: "Light is green",
        tree_id: TREE.id,
        tree_version: TREE.version,
        entered_at: "2025-03-04T10:00:00.000Z",
        left_at: "2025-03-04T10:00:42.500Z",
        duration_ms: 42_500,
      },
      {
        seq: 2,
        node_id: "paper",
        node_title: "Is there paper in the tray?",
        option_id: "",
        option_label: "",
        note: "",
        tree_id: TREE.id,
        tree_version: TREE.version,
        entered_at: "2025-03-04T10:00:42.500Z",
        duration_ms: 0,
      },
    ],
    notes: "",
    context: { ticket: "INC-1042", device: { model: "HP LaserJet 4", floor: 3 } },
    started_at: "2025-03-04T10:00:00.000Z",
    updated_at: "2025-03-04T10:00:42.500Z",
    ...overrides,
  };
}

/** Not text: every byte value, as a PDF's compressed streams hold them. */
export const PDF_BYTES = Buffer.concat([
  Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1"),
  Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)),
  Buffer.from("\n%%EOF\n"),
]);

const REPORTS: Record<string, { content: Buffer; content_type: string; extension: string }> = {
  json: { content: Buffer.from('{"session":{}}'), content_type: "application/json", extension: "json" },
  markdown: { content: Buffer.from("# Report\n"), content_type: "text/markdown; charset=utf-8", extension: "md" },
  csv: {
    content: Buffer.from("seq,node_id\r\n1,power\r\n"),
    content_type: "text/csv; charset=utf-8",
    extension: "csv",
  },
  pdf: { content: PDF_BYTES, content_type: "application/pdf", extension: "pdf" },
};

/** The sessions service, faked (see FakeService): sessions as above, reports in every format. */
export class FakeSessions extends FakeService<Sessions> {
  private constructor() {
    super(SessionsServiceService, "tdt.sessions.v1.SessionsService");
  }

  static async start(): Promise<FakeSessions> {
    const fake = new FakeSessions();
    await fake.listen();
    return fake;
  }

  protected readonly defaults: Handlers<Sessions> = {
    listSessions: async (request) => {
      const all = [1, 2, 3].map(() => sampleSession());
      return {
        sessions: all.slice(request.skip, request.skip + request.limit),
        total: all.length,
        total_capped: false,
        next_cursor: "",
      };
    },
    listSessionSummaries: async (request) => {
      const all = [1, 2, 3].map(() => {
        const {
          current_node,
          steps: _,
          notes: _notes,
          variables: _variables,
          locale: _locale,
          ...brief
        } = sampleSession();
        return { ...brief, current_node_id: current_node?.id ?? "" };
      });
      return {
        sessions: all.slice(request.skip, request.skip + request.limit),
        total: all.length,
        total_capped: false,
        next_cursor: "",
      };
    },
    getSession: async (request) => ({ session: sampleSession({ id: request.id }) }),
    startSession: async (request) => ({
      session: sampleSession({
        tree_id: request.tree_id,
        context: request.context,
        current_node: sampleNode("power"),
        steps: [],
      }),
    }),
    stepSession: async (request) => ({ session: sampleSession({ id: request.id }) }),
    completeSession: async (request) => ({
      session: sampleSession({
        id: request.id,
        status: "completed",
        outcome: request.outcome ?? "resolved",
        notes: request.notes ?? "",
        current_node: sampleNode("toner"),
        completed_at: "2025-03-04T10:05:00.000Z",
      }),
    }),
    exportSession: async (request) => {
      const report = REPORTS[request.format] ?? (REPORTS.json as (typeof REPORTS)[string]);
      const { content, content_type, extension } = report;
      return {
        content,
        content_type,
        filename: `session-printer-does-not-print-${request.id.slice(0, 8)}.${extension}`,
      };
    },
  };
}
