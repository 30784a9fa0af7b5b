/**
 * Real examples for the OpenAPI document: one small tree, the people who use it and a session
 * through it, consistent with each other (the ids match), so Swagger UI and ReDoc show bodies
 * that would work. A test checks each against its schema.
 */

import { outcomeCounts } from "@tdt/proto/contracts/outcomes";
import { MESSAGE_SCHEMAS } from "@tdt/proto/tdt/schemas";
import { sessionCountsBody } from "./session-counts.js";

const TREE_ID = "4b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10";
const ENGINEER_ID = "0f7b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const TECHNICIAN_ID = "9a8b7c6d-5e4f-4d3c-8b2a-1f0e9d8c7b6a";
const SESSION_ID = "c3d2e1f0-a9b8-4c7d-9e6f-5a4b3c2d1e0f";
const AT = "2026-11-28T09:30:00.000Z";
const LATER = "2026-11-28T09:34:12.000Z";

export const EXAMPLE_NODES = [
  {
    id: "power",
    type: "question",
    title: "Is the power light on?",
    body: "Look at the **front panel**.",
    options: [
      { id: "yes", label: "Yes", next: "paper" },
      { id: "no", label: "No", next: "repair" },
    ],
  },
  { id: "paper", type: "action", title: "Refill the paper tray", body: "Use A4, 80 g/m².", next: "printed" },
  { id: "printed", type: "solution", title: "Printing resumed", body: "", outcome: "resolved" },
  { id: "repair", type: "solution", title: "Send the printer for repair", body: "", outcome: "escalated" },
];

const authored = {
  title: "Printer does not print",
  description: "Office laser printers that accept jobs but print nothing.",
  category: "Printers",
  tags: ["laser", "office"],
  status: "published",
  root_node_id: "power",
  change_note: "Ask about the power light first",
};

/** A TreeInput, or with `version` a TreeUpdate. */
export function EXAMPLE_TREE_INPUT(withVersion: boolean) {
  return { ...authored, ...(withVersion ? { version: 2 } : {}), nodes: EXAMPLE_NODES };
}

const treeHeader = {
  id: TREE_ID,
  ...authored,
  version: 3,
  created_by: ENGINEER_ID,
  created_at: "2026-11-02T14:05:00.000Z",
  updated_at: AT,
};

/** auth.proto's example user (the technician of the session below). */
const user = MESSAGE_SCHEMAS["tdt.auth.v1.User"].examples[0];

export const EXAMPLES = {
  user,
  tokenPair: {
    access_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiI5YThiIn0.c2lnbmF0dXJl",
    refresh_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ.eyJzaWQiOiI1ZTZmIn0.c2lnbmF0dXJl",
    token_type: "bearer",
    expires_in: 900,
  },
  me: {
    ...user,
    linked_providers: [{ provider: "keycloak", email: "ada@example.com", linked_at: AT }],
    has_password: false,
    email_verified: true,
    organization: MESSAGE_SCHEMAS["tdt.auth.v1.Organization"].examples[0],
    is_platform_admin: false,
  },
  providers: [MESSAGE_SCHEMAS["tdt.auth.v1.OidcProvider"].examples[0]],
  treeAnalytics: {
    sessions: sessionCountsBody({
      started: 40,
      completed: 34,
      abandoned: 3,
      outcomes: outcomeCounts({ resolved: 27, escalated: 5, unresolved: 2 }),
    }),
    resolution_rate: 0.794,
    duration_ms: { median: 252000, p90: 611000 },
    nodes: [
      {
        node_id: "power",
        visits: 40,
        exits: 1,
        time_ms: { median: 8000, p90: 21000 },
        options: [
          { option_id: "yes", count: 31 },
          { option_id: "no", count: 8 },
        ],
      },
      { node_id: "printed", visits: 27, exits: 27, time_ms: { median: 4000, p90: 9000 }, options: [] },
    ],
    paths: [
      { node_ids: ["power", "paper", "printed"], count: 25 },
      { node_ids: ["power", "repair"], count: 5 },
    ],
    days: [
      { day: "2026-11-27", started: 18, completed: 15, resolved: 12 },
      { day: "2026-11-28", started: 22, completed: 19, resolved: 15 },
    ],
  },
  logoutToken: {
    logout_token: "eyJhbGciOiJSUzI1NiIsInR5cCI6ImxvZ291dCtqd3QifQ.eyJzaWQiOiIwOGE1In0.c2lnbmF0dXJl",
  },
  providerLogout: {
    end_session_url:
      "https://sso.example.com/realms/example/protocol/openid-connect/logout?client_id=tdt&post_logout_redirect_uri=https%3A%2F%2Ftdt.example.com%2F",
  },
  tree: { ...treeHeader, nodes: EXAMPLE_NODES, variables: [], language: "en", translations: ["de"] },
  session: {
    id: SESSION_ID,
    tree_id: TREE_ID,
    tree_version: 3,
    tree_title: authored.title,
    user_id: TECHNICIAN_ID,
    user_name: user.full_name,
    user_email: user.email,
    status: "in_progress",
    outcome: null,
    current_node: EXAMPLE_NODES[1],
    steps: [
      // sessions.proto's example step.
      MESSAGE_SCHEMAS["tdt.sessions.v1.Step"].examples[0],
      {
        seq: 2,
        node_id: "paper",
        node_title: "Refill the paper tray",
        option_id: "",
        option_label: "",
        note: "",
        entered_at: LATER,
        left_at: null,
        duration_ms: 0,
        tree_id: TREE_ID,
        tree_version: 3,
      },
    ],
    notes: "Second floor, room 2.14",
    // sessions.proto's example start: the session is about what it gave.
    context: MESSAGE_SCHEMAS["tdt.sessions.v1.StartSessionRequest"].examples[0].context,
    started_at: AT,
    updated_at: LATER,
    completed_at: null,
    variables: {},
    locale: "en",
  },
} as const;
