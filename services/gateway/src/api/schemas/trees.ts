import { OLD_OUTCOME_SPELLINGS, SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { ENUMS } from "@tdt/proto/tdt/contract";
import { MESSAGE_SCHEMAS, type SchemaMessage } from "@tdt/proto/tdt/schemas";
import { requestSchema, sharedSchema, variantSchemas, variantUnion } from "../contract-schemas.js";
import { INT32_MAX, ref } from "./common.js";
import { EXAMPLE_NODES, EXAMPLE_TREE_INPUT, EXAMPLES } from "./examples.js";
import { SESSION_COUNT_FIELDS } from "./session-counts.js";

/**
 * The shapes of SPEC §5, shared by the trees routes and documented once in OpenAPI.
 *
 * Input schemas check types only. The rules of a tree (ids, links, cycles, reachability, what
 * each node type needs, lengths) belong to the trees service, which reports every broken one
 * at once as a 422 whose `loc` points into the body: a stricter schema here would answer first
 * with fewer, differently worded problems. So strings carry no `maxLength`; the 2 MB body
 * limit bounds them. The closed lists are the contract's (enums in trees.proto).
 *
 * The answers a message says as it is (a summary, a version, analytics but their `sessions`) are
 * trees.proto's; a tree document and its inputs are written here, each node with only the fields
 * of its type (tree-documents.ts).
 */

export const TREE_STATUSES = ENUMS["tdt.trees.v1.TreeStatus"].values;

type Schema = Record<string, unknown>;

const text = { type: "string" } as const;
const nodeId = { type: "string", description: "1 to 64 letters, digits, `_`, `.` or `-`" } as const;
const status = { type: "string", enum: TREE_STATUSES } as const;

export const OptionSchema = {
  $id: "Option",
  type: "object",
  description: "An answer to a question, and the node it leads to.",
  examples: [EXAMPLE_NODES[0]?.options?.[0]],
  required: ["id", "label", "next"],
  additionalProperties: false,
  properties: {
    id: { ...nodeId, description: "Unique within its question; 1 to 64 letters, digits, `_`, `.` or `-`" },
    label: text,
    next: { ...nodeId, description: "The id of the node this answer leads to" },
  },
} as const;

/** A tree's variables, a form's fields and a logic node's rules as answers show them. */
export const VariableSchema = sharedSchema("tdt.trees.v1.Variable");
export const FormFieldSchema = sharedSchema("tdt.trees.v1.FormField");
export const LogicRuleSchema = sharedSchema("tdt.trees.v1.LogicRule");

/** The same as an author sends them: what may be left out (`choices`, `required`, a default) is optional. */
const inputOf = (message: "tdt.trees.v1.Variable" | "tdt.trees.v1.FormField" | "tdt.trees.v1.LogicRule") => {
  const name = sharedSchema(message).$id as string;
  return { ...requestSchema(message), $id: `${name}Input`, description: `A ${name} as an author sends it.` };
};
export const VariableInputSchema = inputOf("tdt.trees.v1.Variable");
export const FormFieldInputSchema = inputOf("tdt.trees.v1.FormField");
export const LogicRuleInputSchema = inputOf("tdt.trees.v1.LogicRule");

/** In a node an author sends: its fields and rules as authors send them. */
function asInput(name: string, schema: Schema): Schema {
  if (name !== "fields" && name !== "rules") return schema;
  return { ...schema, items: ref(name === "fields" ? "FormFieldInput" : "LogicRuleInput") };
}

/**
 * What an author may leave out, and what it then is. Said in words, not as JSON Schema `default`s:
 * a generator reads a `default` as "always there" (openapi-typescript makes such a field required),
 * which in a body an author sends it is not. `treeInputOf` fills them in.
 */
export const TREE_LEFT_OUT = { description: "", tags: [], status: "draft", change_note: "" } as const;
export const NODE_BODY_LEFT_OUT = "";

/** A field's schema, saying what it is when left out. */
function leftOut<S extends object>(schema: S, value: unknown): S & { description: string } {
  const said = "description" in schema && typeof schema.description === "string" ? `${schema.description}. ` : "";
  return { ...schema, description: `${said}When left out: \`${JSON.stringify(value)}\`.` };
}

const NODE = "tdt.trees.v1.Node";
const LINK_EXAMPLE = {
  id: "network-check",
  type: "link",
  title: "Run the network check",
  body: "",
  tree_id: "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
  next: "printed",
};
const nodeExamples = (type: string) =>
  type === "link" ? [LINK_EXAMPLE] : EXAMPLE_NODES.filter((node) => node.type === type).slice(0, 1);

/** A node as answers show it, one schema per type (trees.proto's variants): exactly its fields, all there. */
export const NODE_SCHEMAS = variantSchemas(NODE, { examples: nodeExamples });
export const NodeSchema = variantUnion(NODE, NODE_SCHEMAS);

/** A solution's outcome as an author may send it: old spellings are still read (as today's). */
const withOldSpellings = (outcome: Schema): Schema => ({
  ...outcome,
  enum: [...SOLUTION_OUTCOMES, ...Object.keys(OLD_OUTCOME_SPELLINGS)],
  description: [
    outcome.description,
    ...Object.entries(OLD_OUTCOME_SPELLINGS).map(
      ([old, now]) => `\`${old}\` is the old spelling of \`${now}\`, still read as it`,
    ),
  ].join("; "),
});

/**
 * A node as an author sends it: the fields of its type, each optional beyond `id`, `type` and
 * `title`, unbounded, so that the trees service judges what is missing or too long (with every
 * other problem of the tree at once); a field of another type is refused here, where it was sent.
 */
export const NODE_INPUT_SCHEMAS = variantSchemas(NODE, {
  request: true,
  ownOptional: true,
  unbounded: true,
  name: (name) => `${name}Input`,
  description: ({ value }) => `A ${value} as an author sends it.`,
  examples: nodeExamples,
  field: (name, schema) =>
    name === "body"
      ? leftOut(schema, NODE_BODY_LEFT_OUT)
      : name === "outcome"
        ? withOldSpellings(schema)
        : asInput(name, schema),
});
export const NodeInputSchema = variantUnion(NODE, NODE_INPUT_SCHEMAS, {
  $id: "NodeInput",
  description: "A node as an author sends it, by its `type`.",
});

/** What an author writes: the fields of a tree document that are not set by the service. */
const authoredFields = {
  title: text,
  description: leftOut(text, TREE_LEFT_OUT.description),
  category: text,
  tags: leftOut({ type: "array", items: text }, TREE_LEFT_OUT.tags),
  status: leftOut({ ...status }, TREE_LEFT_OUT.status),
  root_node_id: { ...nodeId, description: "The id of the node a session starts at" },
  change_note: leftOut({ type: "string", description: "What this version changed" }, TREE_LEFT_OUT.change_note),
  nodes: { type: "array", items: ref("NodeInput") },
  variables: leftOut({ type: "array", items: ref("VariableInput") }, []),
  language: leftOut({ type: "string", description: "The language its texts are written in (BCP 47)" }, "en"),
} as const;

/**
 * A tree as an author sends it: the authored fields and, replacing, the `version` edited from.
 * Nothing the service sets is part of it; a document read back may still be sent as it is
 * (the routes drop what the service sets before validation, tree-documents.ts).
 */
const treeInput = (id: string, description: string, own: object, required: string[]) => ({
  $id: id,
  type: "object",
  description:
    `${description} A tree read back (\`Tree\`) may be sent as it is: the fields the service sets ` +
    "(`id`, `created_by`, `created_at`, `updated_at`, and when creating `version`) are ignored.",
  required: ["title", "category", "root_node_id", "nodes", ...required],
  additionalProperties: false,
  properties: { ...authoredFields, ...own },
  examples: [EXAMPLE_TREE_INPUT(required.includes("version"))],
});

export const TreeInputSchema = treeInput(
  "TreeInput",
  "A tree as an author sends it to create it, at version 1. The trees service checks the rules of SPEC §5.2 " +
    "and answers 422 listing every problem, each `loc` pointing into this body.",
  {},
  [],
);

export const TreeUpdateSchema = treeInput(
  "TreeUpdate",
  "A tree as an author sends it to replace it, with the `version` it was edited from; a stale one is " +
    "refused (409 `version_conflict`). The rules are TreeInput's.",
  {
    version: {
      type: "integer",
      minimum: 1,
      maximum: INT32_MAX,
      description: "The version the edit started from",
    },
  },
  ["version"],
);

/** A tree's content as an author writes it: the authored fields but how it is published. */
const { status: _status, change_note: _changeNote, ...contentFields } = authoredFields;
const { status: _s, change_note: _c, ...exampleContent } = EXAMPLE_TREE_INPUT(false);

/**
 * A draft as an author saves it: the content and the `draft_revision` it was edited from. An
 * unfinished draft may leave anything out; a draft or a tree read back may be sent as it is.
 */
export const TreeDraftSaveSchema = {
  $id: "TreeDraftSave",
  type: "object",
  description:
    "A draft as an author saves it: the tree's content and the `draft_revision` it was edited from (0 for a tree " +
    "without a draft). While unfinished it may leave out anything but `draft_revision` and break the rules of a " +
    "tree (they are checked when it is published), but not the limits. A draft (`TreeDraft`) or tree read back may " +
    "be sent as it is: the fields the service sets are ignored.",
  required: ["draft_revision"],
  additionalProperties: false,
  properties: {
    ...contentFields,
    draft_revision: {
      type: "integer",
      minimum: 0,
      maximum: INT32_MAX,
      description: "The revision the edit started from: 0 when the tree has no draft",
    },
  },
  examples: [{ ...exampleContent, draft_revision: 6 }],
};

/** A draft as answers show it: its nodes as an author saved them (they may be unfinished). */
const draft = sharedSchema("tdt.trees.v1.TreeDraft") as Schema & { properties: Record<string, Schema> };
export const TreeDraftSchema = {
  ...draft,
  properties: { ...draft.properties, nodes: { ...draft.properties.nodes, items: ref("NodeInput") } },
};

/** A portable tree as an import sends it: checked as a created tree is, by the trees service. */
export const PortableTreeInputSchema = {
  $id: "PortableTreeInput",
  type: "object",
  description:
    "A tree in the portable format (`GET /api/v1/schemas/tree.json`), as exported. The trees service checks it as " +
    "a created tree and answers 422 listing every problem, each `loc` pointing into this body.",
  required: ["format", "format_version", "title", "category", "root_node_id", "nodes"],
  additionalProperties: false,
  properties: {
    format: { type: "string", description: "Always `tdt-tree`" },
    format_version: { type: "integer", description: "This format's version: 1" },
    ...contentFields,
  },
  examples: [{ format: "tdt-tree", format_version: 1, ...exampleContent }],
};

export const PortableTreeSchema = sharedSchema("tdt.trees.v1.PortableTree");

/**
 * A message field's schema with the message it refers to written out in place, as the document has
 * always shown the parts of a summary and of analytics (no shared name of their own): the field's
 * description over the message's.
 */
function writtenOut(field: Schema): Schema {
  if (field.type === "array") return { ...field, items: writtenOut(field.items as Schema) };
  if (typeof field.$ref !== "string") return field;
  const { $ref, description, ...rest } = field;
  const message = MESSAGE_SCHEMAS[$ref.slice(0, -1) as SchemaMessage] as Schema & {
    properties: Record<string, Schema>;
  };
  const said = description ?? message.description;
  return {
    type: "object",
    ...(said ? { description: said } : {}),
    required: message.required,
    properties: Object.fromEntries(Object.entries(message.properties).map(([name, of]) => [name, writtenOut(of)])),
    ...rest,
  };
}

const summary = sharedSchema("tdt.trees.v1.TreeSummary") as Schema & { properties: Record<string, Schema> };

/** A summary; in search results with where it matched, written out in place as the document has always shown it. */
export const TreeSummarySchema = {
  ...summary,
  properties: {
    ...summary.properties,
    match: writtenOut(MESSAGE_SCHEMAS["tdt.trees.v1.TreeSummary"].properties.match as Schema),
  },
};

export const TreeSchema = { ...sharedSchema("tdt.trees.v1.Tree"), examples: [EXAMPLES.tree] };

export const TreeVersionSchema = sharedSchema("tdt.trees.v1.TreeVersion");

/** The analytics as the message has them, but `sessions`: one count a property (session-counts.ts). */
const analytics = writtenOut({ $ref: "tdt.trees.v1.GetTreeAnalyticsResponse#" }) as Schema & {
  properties: Record<string, Schema>;
};

export const TreeAnalyticsSchema = {
  $id: "TreeAnalytics",
  type: "object",
  description: analytics.description,
  examples: [EXAMPLES.treeAnalytics],
  required: analytics.required,
  properties: {
    ...analytics.properties,
    sessions: {
      type: "object",
      required: SESSION_COUNT_FIELDS,
      properties: Object.fromEntries(SESSION_COUNT_FIELDS.map((key) => [key, { type: "integer" }])),
    },
  },
};

export const TREE_SCHEMAS = [
  TreeAnalyticsSchema,
  OptionSchema,
  VariableSchema,
  FormFieldSchema,
  LogicRuleSchema,
  VariableInputSchema,
  FormFieldInputSchema,
  LogicRuleInputSchema,
  ...NODE_SCHEMAS,
  NodeSchema,
  ...NODE_INPUT_SCHEMAS,
  NodeInputSchema,
  TreeInputSchema,
  TreeUpdateSchema,
  TreeSchema,
  TreeSummarySchema,
  TreeVersionSchema,
  TreeDraftSaveSchema,
  TreeDraftSchema,
  PortableTreeInputSchema,
  PortableTreeSchema,
];
