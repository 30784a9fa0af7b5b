import { ENUMS } from "@tdt/proto/tdt/contract";
import { sharedSchema, variantSchemas, variantUnion } from "../contract-schemas.js";
import { ref } from "./common.js";
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

/** sessions.proto's Step and Session as a session document carries them (`null` for what has not happened). */
export const SessionStepSchema = sharedSchema("tdt.sessions.v1.Step");
export const SessionSchema = { ...sharedSchema("tdt.sessions.v1.Session"), examples: [EXAMPLES.session] };

/**
 * One step of a session, one schema per `op` (sessions.proto's variants; the discriminator reports
 * only the named op's problems, at their own `loc`). `node_id` names the node the client saw: a
 * retry of a step that already happened then fails with 409 `stale_step` instead of being applied twice.
 */
const STEP = "tdt.sessions.v1.StepSessionRequest";
export const STEP_SCHEMAS = variantSchemas(STEP, { request: true, omit: ["id"] });
export const StepOperationSchema = variantUnion(STEP, STEP_SCHEMAS, { type: "object", required: ["op"] });

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
  ...STEP_SCHEMAS,
  StepOperationSchema,
  SessionReportSchema,
];
