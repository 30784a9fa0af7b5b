import { ENUMS } from "@tdt/proto/tdt/contract";
import { sharedSchema } from "../contract-schemas.js";
import { bounds, ref } from "./common.js";
import { EXAMPLES } from "./examples.js";

/**
 * The shapes of SPEC §6, shared by the sessions routes and documented once in OpenAPI.
 *
 * Input schemas check shapes, the closed vocabularies (ops, outcomes, formats) and the contract's
 * bounds (sessions.proto's field options, which the sessions service enforces too, with the same
 * 422). What depends on the session (the current node, its options, whether it may still change)
 * belongs to the sessions service, which answers 409 or a 422 whose `loc` points into the body.
 */

/** The closed lists are the contract's (enums in sessions.proto; outcomes, trees.proto's). */
export const SESSION_STATUSES = ENUMS["tdt.sessions.v1.SessionStatus"].values;
export const REPORT_FORMATS = ENUMS["tdt.sessions.v1.ReportFormat"].values;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What a report is sent as, per format: the contract's media types, which the sessions service sends. */
export const REPORT_MEDIA_TYPES: Record<ReportFormat, string> = ENUMS["tdt.sessions.v1.ReportFormat"].mediaTypes;

const nodeId = { type: "string", description: "The id of a node of the session's tree" } as const;
const note = { type: "string", description: "A note on this step" } as const;

/**
 * sessions.proto's Step, but for what the message cannot say: `left_at` is `null` while the step is
 * open (a document says so, session-documents.ts), and a duration (an int64) is never negative.
 */
const { required, examples, properties, ...step } = sharedSchema("tdt.sessions.v1.Step") as {
  required: string[];
  examples: object[];
  properties: Record<string, { description?: string }>;
};
export const SessionStepSchema = {
  ...step,
  // In the order the OpenAPI document has always shown them.
  required,
  examples,
  properties: {
    ...properties,
    left_at: { ...properties.left_at, type: ["string", "null"] },
    duration_ms: { type: "integer", minimum: 0, description: properties.duration_ms?.description },
  },
};

/**
 * sessions.proto's Session as a session document carries it (session-documents.ts): `null` for an
 * outcome and a completion that have not happened, and the technician's name and email beside
 * their id, where the document has always shown them (the message declares them last).
 */
const session = sharedSchema("tdt.sessions.v1.Session") as {
  $id: string;
  type: string;
  description: string;
  properties: Record<string, { enum?: string[] }>;
};
const { id, tree_id, tree_version, tree_title, user_id, user_name, user_email, ...sessionFields } = session.properties;
const sessionProperties = {
  id,
  tree_id,
  tree_version,
  tree_title,
  user_id,
  user_name,
  user_email,
  ...sessionFields,
  outcome: { ...sessionFields.outcome, type: ["string", "null"], enum: [...(sessionFields.outcome?.enum ?? []), null] },
  completed_at: { ...sessionFields.completed_at, type: ["string", "null"] },
};

export const SessionSchema = {
  $id: session.$id,
  type: session.type,
  description: session.description,
  examples: [EXAMPLES.session],
  required: Object.keys(sessionProperties),
  properties: sessionProperties,
};

/**
 * One step of a session, keyed on `op` (the discriminator reports only the named op's problems,
 * at their own `loc`). `node_id` names the node the client saw: a retry of a step that already
 * happened then fails with 409 `stale_step` instead of being applied twice.
 */
const STEP = "tdt.sessions.v1.StepSessionRequest";
const stepNodeId = { ...nodeId, ...bounds(STEP, "node_id") };
const stepNote = { ...note, ...bounds(STEP, "note") };

/** One kind of step: a named schema, so that generators (and the discriminator's mapping) can pick it by `op`. */
const stepVariant = (id: string, op: string, description: string, required: string[], own: object) => ({
  $id: id,
  type: "object",
  title: op,
  description,
  additionalProperties: false,
  required: ["op", ...required],
  properties: { op: { type: "string", const: op }, ...own },
});

export const StepAnswerSchema = stepVariant(
  "StepAnswer",
  "answer",
  "Answer the current question.",
  ["node_id", "option_id"],
  {
    node_id: stepNodeId,
    option_id: {
      type: "string",
      ...bounds(STEP, "option_id"),
      description: "The id of one of the current question's options",
    },
    note: stepNote,
  },
);
export const StepContinueSchema = stepVariant(
  "StepContinue",
  "continue",
  "Go on past the current action.",
  ["node_id"],
  {
    node_id: stepNodeId,
    note: stepNote,
  },
);
export const StepBackSchema = stepVariant("StepBack", "back", "Go back one step.", [], {});
export const StepNoteSchema = stepVariant("StepNote", "note", "Replace the session's notes.", ["notes"], {
  notes: { type: "string", ...bounds(STEP, "notes"), description: "The new notes" },
});

export const StepOperationSchema = {
  $id: "StepOperation",
  type: "object",
  description:
    "`answer` a question, `continue` past an action, go `back` one step, or replace the session's `notes`. " +
    "`node_id` must be the current node (else 409 `stale_step`).",
  required: ["op"],
  discriminator: { propertyName: "op" },
  examples: [
    { op: "answer", node_id: "power", option_id: "yes", note: "Steady green" },
    { op: "continue", node_id: "paper" },
    { op: "back" },
    { op: "note", notes: "Second floor, room 2.14" },
  ],
  oneOf: [ref("StepAnswer"), ref("StepContinue"), ref("StepBack"), ref("StepNote")],
} as const;

/**
 * The JSON report: the session and the trees it went through, as the sessions service keeps them
 * (its messages' JSON, every field of every node), for archiving and other tools.
 */
export const SessionReportSchema = {
  $id: "SessionReport",
  type: "object",
  description:
    "A session's JSON report: the session, its tree and the trees it entered through links, each at its pinned version.",
  required: ["session", "tree", "linked_trees"],
  properties: {
    session: { type: "object", additionalProperties: true, description: "The session with every step" },
    tree: { type: "object", additionalProperties: true, description: "The session's tree at the version it ran on" },
    linked_trees: {
      type: "array",
      items: { type: "object", additionalProperties: true },
      description: "The trees entered through links, at the versions the session pinned",
    },
  },
  examples: [
    {
      session: {
        id: EXAMPLES.session.id,
        tree_id: EXAMPLES.session.tree_id,
        tree_version: EXAMPLES.session.tree_version,
        tree_title: EXAMPLES.session.tree_title,
        status: EXAMPLES.session.status,
        steps: EXAMPLES.session.steps,
      },
      tree: EXAMPLES.tree,
      linked_trees: [],
    },
  ],
} as const;

/** What each report format is, for the export's answer: JSON as its object, text as text, the PDF as bytes. */
export const REPORT_SCHEMAS: Record<ReportFormat, object> = {
  json: ref("SessionReport"),
  markdown: {
    type: "string",
    description: "The Markdown report",
    examples: [
      "# Troubleshooting report: Printer does not print\n\n- Outcome: in progress\n\n## Steps\n\n" +
        "| # | Tree | Step | Answer | Note | Time |\n|---|---|---|---|---|---|\n" +
        "| 1 | Printer does not print | Is the power light on? | Yes | Steady green | 4 min 12 s |\n",
    ],
  },
  csv: {
    type: "string",
    description: "The CSV report (RFC 4180): a header, then a row per step",
    examples: [
      "seq,node_id,node_title,option_id,option_label,note,entered_at,left_at,duration_ms,tree_id,tree_version\r\n" +
        "1,power,Is the power light on?,yes,Yes,Steady green,2026-11-28T09:30:00.000Z,2026-11-28T09:34:12.000Z," +
        "252000,4b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10,3\r\n",
    ],
  },
  pdf: { type: "string", format: "binary", contentMediaType: "application/pdf", description: "The PDF report" },
};

export const SESSION_SCHEMAS = [
  SessionStepSchema,
  SessionSchema,
  StepAnswerSchema,
  StepContinueSchema,
  StepBackSchema,
  StepNoteSchema,
  StepOperationSchema,
  SessionReportSchema,
];
