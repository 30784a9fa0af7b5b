import { ENUMS } from "@tdt/proto/tdt/contract";
import { INT32_MAX, ref, timestamp, uuid } from "./common.js";

/**
 * The shapes of SPEC §5, shared by the trees routes and documented once in OpenAPI.
 *
 * Input schemas check types only. The rules of a tree (ids, links, cycles, reachability, what
 * each node type needs, lengths) belong to the trees service, which reports every broken one
 * at once as a 422 whose `loc` points into the body: a stricter schema here would answer first
 * with fewer, differently worded problems. So strings carry no `maxLength`; the 2 MB body
 * limit bounds them. The closed lists are the contract's (enums in trees.proto).
 */

export const TREE_STATUSES = ENUMS["tdt.trees.v1.TreeStatus"].values;
export const NODE_TYPES = ENUMS["tdt.trees.v1.NodeType"].values;
const SOLUTION_OUTCOMES = ENUMS["tdt.trees.v1.SolutionOutcome"].values;

const text = { type: "string" } as const;
const nodeId = { type: "string", description: "1 to 64 letters, digits, `_`, `.` or `-`" } as const;
const status = { type: "string", enum: TREE_STATUSES } as const;

export const OptionSchema = {
  $id: "Option",
  type: "object",
  description: "An answer to a question, and the node it leads to.",
  required: ["id", "label", "next"],
  additionalProperties: false,
  properties: {
    id: { ...nodeId, description: "Unique within its question; 1 to 64 letters, digits, `_`, `.` or `-`" },
    label: text,
    next: { ...nodeId, description: "The id of the node this answer leads to" },
  },
} as const;

export const NodeSchema = {
  $id: "Node",
  type: "object",
  description:
    "One step of a tree. A `question` has `options`, an `action` has `next`, a `solution` has `outcome`; " +
    "a field its type does not use is absent.",
  required: ["id", "type", "title"],
  additionalProperties: false,
  properties: {
    id: { ...nodeId, description: "Unique within the tree; 1 to 64 letters, digits, `_`, `.` or `-`" },
    type: { type: "string", enum: NODE_TYPES },
    title: text,
    body: { type: "string", default: "", description: "Markdown" },
    options: { type: "array", items: ref("Option"), description: "Questions only: one or more answers" },
    next: { ...nodeId, description: "Actions only: the id of the node that follows" },
    // Not an enum here: an empty string reads as "no outcome" to the trees service, which judges it.
    outcome: {
      type: "string",
      description: `Solutions only: ${SOLUTION_OUTCOMES.map((outcome) => `\`${outcome}\``).join(" or ")}`,
    },
  },
} as const;

/** What an author writes: the fields of a tree document that are not set by the service. */
const authoredFields = {
  title: text,
  description: { type: "string", default: "" },
  category: text,
  tags: { type: "array", items: text, default: [] },
  status: { ...status, default: "draft" },
  root_node_id: { ...nodeId, description: "The id of the node a session starts at" },
  change_note: { type: "string", default: "", description: "What this version changed" },
  nodes: { type: "array", items: ref("Node") },
} as const;

/** Set by the service: a document read back may be sent again, and these are then ignored. */
const ignoredOnInput = { description: "Set by the service; ignored when sent" } as const;

export const TreeInputSchema = {
  $id: "TreeInput",
  type: "object",
  description:
    "A tree as an author sends it to create or replace it. The trees service checks the rules of SPEC §5.2 " +
    "and answers 422 listing every problem, each `loc` pointing into this body.",
  required: ["title", "category", "root_node_id", "nodes"],
  additionalProperties: false,
  properties: {
    ...authoredFields,
    version: {
      type: "integer",
      minimum: 1,
      maximum: INT32_MAX,
      description: "Replacing: the version the edit started from (required). Creating: ignored.",
    },
    id: { ...text, ...ignoredOnInput },
    created_by: { ...text, ...ignoredOnInput },
    created_at: { ...text, ...ignoredOnInput },
    updated_at: { ...text, ...ignoredOnInput },
  },
} as const;

/** A replacement: a TreeInput that names the version it was edited from. */
export const TreeUpdateSchema = {
  $id: "TreeUpdate",
  description: "A TreeInput with the `version` it was edited from; a stale one is refused (409 `version_conflict`).",
  allOf: [ref("TreeInput"), { type: "object", required: ["version"] }],
} as const;

/** What a tree and its summary both say about it. */
const header = {
  id: uuid,
  title: text,
  description: text,
  category: text,
  tags: { type: "array", items: text },
  status,
  version: { type: "integer", minimum: 1 },
  created_by: { ...uuid, description: "The user who created the tree" },
  created_at: { ...timestamp, description: "When the tree was created" },
  updated_at: { ...timestamp, description: "When this version was written" },
} as const;

export const TreeSchema = {
  $id: "Tree",
  type: "object",
  description: "A tree document at one version (SPEC §5.2).",
  required: [...Object.keys(header), "root_node_id", "change_note", "nodes"],
  properties: {
    ...header,
    root_node_id: authoredFields.root_node_id,
    change_note: { ...text, description: "What this version changed" },
    nodes: authoredFields.nodes,
  },
} as const;

export const TreeSummarySchema = {
  $id: "TreeSummary",
  type: "object",
  description: "A tree's latest visible version, without its nodes.",
  required: [...Object.keys(header), "node_count"],
  properties: { ...header, node_count: { type: "integer", minimum: 0 } },
} as const;

export const TreeVersionSchema = {
  $id: "TreeVersion",
  type: "object",
  description: "One immutable version in a tree's history.",
  required: ["version", "created_by", "created_at", "change_note"],
  properties: {
    version: header.version,
    created_by: { ...uuid, description: "The user who wrote this version" },
    created_at: { ...timestamp, description: "When this version was written" },
    change_note: text,
  },
} as const;

export const TREE_SCHEMAS = [
  OptionSchema,
  NodeSchema,
  TreeInputSchema,
  TreeUpdateSchema,
  TreeSchema,
  TreeSummarySchema,
  TreeVersionSchema,
];
