import { MESSAGE_SCHEMAS } from "@tdt/proto/tdt/schemas";
import type {
  FormField,
  LogicRule,
  Option,
  TreeInput,
  Node as TreeNode,
  Variable,
} from "@tdt/proto/tdt/trees/v1/trees";
import type { FastifyInstance } from "fastify";
import { documentOf } from "./contract-schemas.js";
import { NODE_BODY_LEFT_OUT, TREE_LEFT_OUT } from "./schemas/trees.js";

/**
 * Tree documents as HTTP carries them (SPEC §5.2) and as the trees service's messages do.
 * A message has every field of every node type; a document has only those its node's type uses.
 */

/**
 * A node as a document carries it: `options` on a question only, `next` on an action, `outcome`
 * on a solution, `tree_id` (and `next` when it has one) on a link. A request body may put any of them anywhere: the service judges that.
 */
export type NodeDocument = Omit<TreeNode, "options" | "fields" | "rules"> & {
  options?: Option[];
  fields?: FormField[];
  rules?: LogicRule[];
};

/** A node as an author sends it: its `body` may be left out. */
type NodeBody = Omit<NodeDocument, "body"> & { body?: string };

/** A create or replace body as validated (TreeInput): what an author may leave out is optional. */
export type TreeBody = Pick<TreeInput, "title" | "category" | "root_node_id"> &
  Partial<Pick<TreeInput, keyof typeof TREE_LEFT_OUT>> & {
    nodes: NodeBody[];
    variables?: Variable[];
    language?: string;
  };

/**
 * Lets a scope's tree bodies be documents read back: the fields a `Tree` has and `input` (the
 * route's body schema) lacks are the ones the service sets, dropped before validation as
 * TreeInput's description says. Any other field the schema does not know is still refused.
 */
export function acceptTreesReadBack(
  scope: FastifyInstance,
  input: { properties: object },
  readBack: readonly ("tdt.trees.v1.Tree" | "tdt.trees.v1.TreeDraft")[] = ["tdt.trees.v1.Tree"],
): void {
  const setByService = [
    ...new Set(readBack.flatMap((message) => Object.keys(MESSAGE_SCHEMAS[message].properties))),
  ].filter((field) => !(field in input.properties));
  scope.addHook("preValidation", async (request) => {
    const { body } = request;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return;
    for (const field of setByService) delete (body as Record<string, unknown>)[field];
  });
}

/** The body as the service's TreeInput: only the authored fields, what was left out filled in, each node's links as sent. */
export function treeInputOf(body: TreeBody): TreeInput {
  const { title, category, root_node_id } = body;
  return {
    title,
    category,
    root_node_id,
    description: body.description ?? TREE_LEFT_OUT.description,
    tags: body.tags ?? [...TREE_LEFT_OUT.tags],
    status: body.status ?? TREE_LEFT_OUT.status,
    change_note: body.change_note ?? TREE_LEFT_OUT.change_note,
    nodes: body.nodes.map(nodeOf),
    variables: (body.variables ?? []).map((variable) => ({ ...variable, choices: variable.choices ?? [] })),
    language: body.language ?? "",
  };
}

function nodeOf(node: NodeBody): TreeNode {
  const { id, type, title, body = NODE_BODY_LEFT_OUT, options, next, outcome, tree_id, fields, rules } = node;
  return {
    id,
    type,
    title,
    body,
    options: options ?? [],
    fields: (fields ?? []).map((field) => ({
      ...field,
      required: field.required ?? false,
      choices: field.choices ?? [],
    })),
    rules: rules ?? [],
    // Only when sent: the service reads a link or an outcome where none belongs as a mistake to report.
    ...(next === undefined ? {} : { next }),
    ...(outcome === undefined ? {} : { outcome }),
    ...(tree_id === undefined ? {} : { tree_id }),
    ...(node.default_next === undefined ? {} : { default_next: node.default_next }),
  };
}

/** A node as documents show it (trees and sessions alike): only its type's fields (trees.proto's variants). */
export function nodeDocumentOf(node: TreeNode): NodeDocument {
  return documentOf("tdt.trees.v1.Node", node) as NodeDocument;
}
