import { AppError, type Problem } from "@tdt/kit";
import { SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import { LOCALE } from "@tdt/proto/contracts/tree-languages";
import {
  compileRule,
  VARIABLE_NAME,
  VARIABLE_TYPES,
  type VariableDeclaration,
  valueRefusal,
} from "@tdt/proto/contracts/tree-logic";
import { enumValues, FIELD_RULES } from "@tdt/proto/tdt/contract";
import { type FormField, TreeInput, type Node as TreeNode, type Variable } from "@tdt/proto/tdt/trees/v1/trees";

/**
 * The rules of a tree document (SPEC §5.2), as a pure function: every problem is reported
 * at once, each with a `loc` into the request body and a stable `type`.
 *
 * Lengths count Unicode code points (as the gateway's JSON schemas do), and a required text
 * that is only whitespace counts as empty. SPEC bounds titles, node bodies and the node
 * count; the other limits are ours. All of them, and the closed lists, are the contract's
 * (`(tdt.contract.v1.field)` options and enums in trees.proto), which the gateway reads too.
 */
const INPUT = FIELD_RULES["tdt.trees.v1.TreeInput"];
const NODE = FIELD_RULES["tdt.trees.v1.Node"];
const OPTION = FIELD_RULES["tdt.trees.v1.Option"];
const VARIABLE = FIELD_RULES["tdt.trees.v1.Variable"];
const FIELD = FIELD_RULES["tdt.trees.v1.FormField"];
const RULE = FIELD_RULES["tdt.trees.v1.LogicRule"];
export const TREE_LIMITS = {
  maxNodes: INPUT.nodes.repeated.max_items,
  maxTags: INPUT.tags.repeated.max_items,
  titleMax: INPUT.title.string.max_len,
  descriptionMax: INPUT.description.string.max_len,
  categoryMax: INPUT.category.string.max_len,
  tagMax: INPUT.tags.repeated.items.string.max_len,
  changeNoteMax: INPUT.change_note.string.max_len,
  idMax: NODE.id.string.max_len,
  bodyMax: NODE.body.string.max_len,
  labelMax: OPTION.label.string.max_len,
  maxVariables: INPUT.variables.repeated.max_items,
  maxChoices: VARIABLE.choices.repeated.max_items,
  choiceMax: VARIABLE.choices.repeated.items.string.max_len,
  maxFields: NODE.fields.repeated.max_items,
  fieldLabelMax: FIELD.label.string.max_len,
  maxRules: NODE.rules.repeated.max_items,
  ruleMax: RULE.when.string.max_len,
} as const;

/** Node ids and option ids alike. */
export const ID_PATTERN = new RegExp(`^[A-Za-z0-9_.-]{1,${TREE_LIMITS.idMax}}$`);
export const TREE_STATUSES = enumValues("tdt.trees.v1.TreeStatus");
export const NODE_TYPES = enumValues("tdt.trees.v1.NodeType");

type Loc = Problem["loc"];

/** A `next` that resolves to a node: `to` is that node's index, `loc` the field that names it. */
interface Edge {
  to: number;
  loc: Loc;
}

/** Throws the 422 `AppError` listing every problem, if there is any. */
export function assertValidTree(input: TreeInput): void {
  const problems = validateTree(input);
  if (problems.length > 0) throw AppError.invalid(problems);
}

export function validateTree(input: TreeInput): Problem[] {
  // JSON read as a TreeInput (demo files, proto3 JSON) omits empty fields: read them as their defaults.
  const tree = TreeInput.fromPartial(input);
  const problems: Problem[] = [];
  checkDocumentFields(tree, problems);

  const { nodes } = tree;
  if (nodes.length > TREE_LIMITS.maxNodes) {
    // Past the limit the document is rejected anyway: per-node problems would only flood the answer.
    problems.push(problem(["body", "nodes"], `At most ${TREE_LIMITS.maxNodes} nodes`, "too_many_nodes"));
    return problems;
  }
  if (nodes.length === 0) {
    problems.push(problem(["body", "nodes"], "A tree needs at least one node", "missing_nodes"));
  }

  const variables = checkVariables(tree.variables, problems);
  const indexById = firstIndexById(nodes);
  const root = checkRoot(tree.root_node_id, indexById, problems);
  const graph = checkNodes(nodes, indexById, variables, problems);
  if (graph.hasDuplicateIds) return problems; // which node a `next` means is ambiguous: graph checks would guess

  // A cycle is a cycle however the broken references get fixed, so it is looked for regardless.
  checkAcyclic(graph.edges, root, problems);

  // Reachability and dead ends are only meaningful on a graph whose edges are all there:
  // a missing, unknown or misplaced `next` would make its intended targets look unreachable.
  if (!graph.complete || root === undefined) return problems;
  const reachable = reachableFrom(root, graph.edges);
  checkReachable(nodes, reachable, problems);
  checkEndsAtSolutions(nodes, graph.edges, reachable, problems);
  return problems;
}

function checkDocumentFields(input: TreeInput, problems: Problem[]): void {
  checkText(["body", "title"], input.title, REQUIRED, TREE_LIMITS.titleMax, problems);
  checkText(["body", "description"], input.description, OPTIONAL, TREE_LIMITS.descriptionMax, problems);
  checkText(["body", "category"], input.category, REQUIRED, TREE_LIMITS.categoryMax, problems);
  checkTags(input.tags, problems);
  checkEnum(["body", "status"], input.status, TREE_STATUSES, problems);
  checkText(["body", "change_note"], input.change_note, OPTIONAL, TREE_LIMITS.changeNoteMax, problems);
  if (input.language !== "" && !LOCALE.test(input.language)) {
    problems.push(problem(["body", "language"], "A language tag such as en, de or pt-BR", "locale_pattern"));
  }
}

function checkTags(tags: string[], problems: Problem[]): void {
  if (tags.length > TREE_LIMITS.maxTags) {
    problems.push(problem(["body", "tags"], `At most ${TREE_LIMITS.maxTags} tags`, "too_many_tags"));
  }
  // Compared exactly as sent: "Laser" and "laser" are two tags.
  const seen = new Set<string>();
  tags.forEach((tag, k) => {
    checkText(["body", "tags", k], tag, REQUIRED, TREE_LIMITS.tagMax, problems);
    if (seen.has(tag)) problems.push(problem(["body", "tags", k], `Tag ${quote(tag)} is repeated`, "duplicate_tag"));
    seen.add(tag);
  });
}

/**
 * The tree's variables: names, types, choices and defaults. Answers those declared well enough
 * for forms and rules to be checked against them (the first of each name).
 */
function checkVariables(variables: Variable[], problems: Problem[]): Map<string, VariableDeclaration> {
  const declared = new Map<string, VariableDeclaration>();
  if (variables.length > TREE_LIMITS.maxVariables) {
    problems.push(
      problem(["body", "variables"], `At most ${TREE_LIMITS.maxVariables} variables`, "too_many_variables"),
    );
    return declared;
  }
  variables.forEach((variable, k) => {
    const at: Loc = ["body", "variables", k];
    if (!VARIABLE_NAME.test(variable.name)) {
      const msg = "1 to 64 lowercase letters, digits or '_', starting with a letter";
      problems.push(problem([...at, "name"], msg, "variable_name_pattern"));
    } else if (declared.has(variable.name)) {
      const msg = `Another variable is named ${quote(variable.name)}`;
      problems.push(problem([...at, "name"], msg, "duplicate_variable"));
      return;
    }
    checkEnum([...at, "type"], variable.type, VARIABLE_TYPES, problems);
    const choices = checkChoices([...at, "choices"], variable.choices, problems);
    if (variable.type === "choice" && variable.choices.length === 0) {
      problems.push(problem([...at, "choices"], "A choice needs at least one value", "missing_choices"));
    } else if (variable.type !== "choice" && variable.choices.length > 0) {
      problems.push(unexpected([...at, "choices"], "Only a choice has choices"));
    }
    if (variable.default !== undefined && variable.default !== null) {
      const refusal = valueRefusal(variable.type, choices, variable.default);
      if (refusal) problems.push(problem([...at, "default"], refusal.msg, refusal.type));
    }
    if (VARIABLE_NAME.test(variable.name)) declared.set(variable.name, { ...variable, choices });
  });
  return declared;
}

/** A list of choices: each a non-empty text within bounds, none twice. Answers the list. */
function checkChoices(loc: Loc, choices: string[], problems: Problem[]): string[] {
  if (choices.length > TREE_LIMITS.maxChoices) {
    problems.push(problem(loc, `At most ${TREE_LIMITS.maxChoices} choices`, "too_many_choices"));
    return choices;
  }
  const seen = new Set<string>();
  choices.forEach((choice, j) => {
    checkText([...loc, j], choice, REQUIRED, TREE_LIMITS.choiceMax, problems);
    if (seen.has(choice)) problems.push(problem([...loc, j], `${quote(choice)} is repeated`, "duplicate_choice"));
    seen.add(choice);
  });
  return choices;
}

/** The root's index, when `root_node_id` names a node. */
function checkRoot(rootId: string, indexById: Map<string, number>, problems: Problem[]): number | undefined {
  if (rootId === "") {
    problems.push(problem(["body", "root_node_id"], "Field required", "missing"));
    return undefined;
  }
  const root = indexById.get(rootId);
  if (root === undefined) problems.push(unknownNode(["body", "root_node_id"], rootId));
  return root;
}

function firstIndexById(nodes: TreeNode[]): Map<string, number> {
  const indexById = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (!indexById.has(node.id)) indexById.set(node.id, i);
  });
  return indexById;
}

interface NodeGraph {
  /** Outgoing edges per node index: the `next`s its type defines that name an existing node. */
  edges: Edge[][];
  /** Every edge the node types require is present, resolves and nothing is misplaced. */
  complete: boolean;
  hasDuplicateIds: boolean;
}

/** Each node's own rules; collects the edges between nodes for the graph checks. */
function checkNodes(
  nodes: TreeNode[],
  indexById: Map<string, number>,
  variables: Map<string, VariableDeclaration>,
  problems: Problem[],
): NodeGraph {
  const graph: NodeGraph = { edges: [], complete: true, hasDuplicateIds: false };
  nodes.forEach((node, i) => {
    const at: Loc = ["body", "nodes", i];
    const edges: Edge[] = [];
    graph.edges.push(edges);

    checkId([...at, "id"], node.id, "node_id_pattern", problems);
    if (indexById.get(node.id) !== i) {
      problems.push(problem([...at, "id"], `Another node already has id ${quote(node.id)}`, "duplicate_node_id"));
      graph.hasDuplicateIds = true;
    }
    checkText([...at, "title"], node.title, REQUIRED, TREE_LIMITS.titleMax, problems);
    checkText([...at, "body"], node.body, OPTIONAL, TREE_LIMITS.bodyMax, problems);

    if (!checkNodeType({ node, at, indexById, edges, problems, variables })) graph.complete = false;
    if (node.type !== "link" && present(node.tree_id) !== undefined) {
      problems.push(unexpected([...at, "tree_id"], "Only a link names a tree"));
    }
    if (node.type !== "form" && node.fields.length > 0) {
      problems.push(unexpected([...at, "fields"], "Only a form has fields"));
    }
    if (node.type !== "logic" && node.rules.length > 0) {
      problems.push(unexpected([...at, "rules"], "Only a logic node has rules"));
    }
    if (node.type !== "logic" && present(node.default_next) !== undefined) {
      problems.push(unexpected([...at, "default_next"], "Only a logic node has a default_next"));
    }
  });
  return graph;
}

/** What a node's type requires; `edges` receives its resolving `next`s. */
interface NodeContext {
  node: TreeNode;
  at: Loc;
  indexById: Map<string, number>;
  edges: Edge[];
  problems: Problem[];
  /** The tree's variables, by name. */
  variables: Map<string, VariableDeclaration>;
}

/** The rules that depend on a node's type. False when its edges are not all there and in place. */
function checkNodeType(context: NodeContext): boolean {
  switch (context.node.type) {
    case "question":
      return checkQuestion(context);
    case "action":
      return checkAction(context);
    case "solution":
      return checkSolution(context);
    case "link":
      return checkLink(context);
    case "form":
      return checkForm(context);
    case "logic":
      return checkLogic(context);
    default:
      checkEnum([...context.at, "type"], context.node.type, NODE_TYPES, context.problems);
      // What its edges should be is unknown too: check whatever the author wrote.
      checkOptions(context);
      if (present(context.node.next) !== undefined) checkNext(context);
      return false;
  }
}

function checkQuestion(context: NodeContext): boolean {
  const { node, at, problems } = context;
  let intact = checkOptions(context);
  if (node.options.length === 0) {
    problems.push(problem([...at, "options"], "A question needs at least one option", "missing_options"));
    intact = false;
  }
  if (present(node.next) !== undefined) {
    problems.push(unexpected([...at, "next"], "A question leads on through its options, not `next`"));
    intact = false;
  }
  if (present(node.outcome) !== undefined) {
    problems.push(unexpected([...at, "outcome"], "Only a solution has an outcome"));
  }
  return intact;
}

function checkAction(context: NodeContext): boolean {
  const intact = checkNext(context);
  return refuseOptionsAndOutcome(context) && intact;
}

/** Options and an outcome on a node that leads on by `next` (an action, a link); false when options were sent. */
function refuseOptionsAndOutcome({ node, at, problems }: NodeContext): boolean {
  if (present(node.outcome) !== undefined) {
    problems.push(unexpected([...at, "outcome"], "Only a solution has an outcome"));
  }
  if (node.options.length === 0) return true;
  problems.push(unexpected([...at, "options"], "Only a question has options"));
  return false;
}

function checkSolution(context: NodeContext): boolean {
  const { node, at, problems } = context;
  const outcome = present(node.outcome);
  if (outcome === undefined) {
    problems.push(problem([...at, "outcome"], "A solution needs an outcome", "missing"));
  } else {
    checkEnum([...at, "outcome"], outcome, SOLUTION_OUTCOMES, problems);
  }
  let intact = true;
  if (present(node.next) !== undefined) {
    problems.push(unexpected([...at, "next"], "A solution ends the tree: no `next`"));
    intact = false;
  }
  if (node.options.length > 0) {
    problems.push(unexpected([...at, "options"], "A solution ends the tree: no options"));
    intact = false;
  }
  return intact;
}

/** A form: its fields, each into a declared variable of its type, then `next`. */
function checkForm(context: NodeContext): boolean {
  const { node, at, problems } = context;
  if (node.fields.length === 0) {
    problems.push(problem([...at, "fields"], "A form needs at least one field", "missing_fields"));
  } else if (node.fields.length > TREE_LIMITS.maxFields) {
    problems.push(problem([...at, "fields"], `At most ${TREE_LIMITS.maxFields} fields`, "too_many_fields"));
  }
  const ids = new Set<string>();
  const filled = new Set<string>();
  node.fields.forEach((field, j) => {
    const fieldAt: Loc = [...at, "fields", j];
    checkId([...fieldAt, "id"], field.id, "field_id_pattern", problems);
    if (ids.has(field.id)) {
      problems.push(problem([...fieldAt, "id"], `Another field has id ${quote(field.id)}`, "duplicate_field_id"));
    }
    ids.add(field.id);
    checkText([...fieldAt, "label"], field.label, REQUIRED, TREE_LIMITS.fieldLabelMax, problems);
    if (filled.has(field.variable)) {
      const msg = `Another field of this form fills ${quote(field.variable)}`;
      problems.push(problem([...fieldAt, "variable"], msg, "duplicate_field_variable"));
    }
    filled.add(field.variable);
    checkField(fieldAt, field, context.variables.get(field.variable), problems);
  });
  const intact = checkNext(context);
  return refuseOptionsAndOutcome(context) && intact;
}

/** A field against its variable: the same type, bounds that fit it, choices among the variable's. */
function checkField(at: Loc, field: FormField, variable: VariableDeclaration | undefined, problems: Problem[]): void {
  checkEnum([...at, "type"], field.type, VARIABLE_TYPES, problems);
  if (!variable) {
    problems.push(problem([...at, "variable"], `No variable is named ${quote(field.variable)}`, "unknown_variable"));
    return;
  }
  if (field.type !== variable.type) {
    const msg = `The variable ${quote(variable.name)} is a ${variable.type}`;
    problems.push(problem([...at, "type"], msg, "field_type_mismatch"));
  }
  const bounded = variable.type === "number" || variable.type === "text";
  for (const bound of ["min", "max"] as const) {
    if (field[bound] !== undefined && !bounded) {
      problems.push(unexpected([...at, bound], "Only a number or a text has bounds"));
    }
  }
  if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
    problems.push(problem([...at, "max"], "Must not be less than min", "bounds_order"));
  }
  if (field.choices.length > 0 && variable.type !== "choice") {
    problems.push(unexpected([...at, "choices"], "Only a choice has choices"));
  }
  checkChoices([...at, "choices"], field.choices, problems).forEach((choice, j) => {
    if (variable.type === "choice" && !variable.choices.includes(choice)) {
      const msg = `${quote(choice)} is not one of the variable's choices`;
      problems.push(problem([...at, "choices", j], msg, "unknown_choice"));
    }
  });
}

/**
 * A logic node: rules that read and type-check against the tree's variables, each leading to a
 * node, and `default_next`. A loop of logic nodes alone is a cycle, which no tree may have.
 */
function checkLogic(context: NodeContext): boolean {
  const { node, at, problems } = context;
  let intact = true;
  if (node.rules.length === 0) {
    problems.push(problem([...at, "rules"], "A logic node needs at least one rule", "missing_rules"));
  } else if (node.rules.length > TREE_LIMITS.maxRules) {
    problems.push(problem([...at, "rules"], `At most ${TREE_LIMITS.maxRules} rules`, "too_many_rules"));
  }
  const declared = [...context.variables.values()];
  node.rules.forEach((rule, j) => {
    const ruleAt: Loc = [...at, "rules", j];
    if (rule.when.trim() === "") {
      problems.push(problem([...ruleAt, "when"], "Must not be empty", "string_too_short"));
    } else if (rule.when.length > TREE_LIMITS.ruleMax) {
      problems.push(problem([...ruleAt, "when"], `At most ${TREE_LIMITS.ruleMax} characters`, "string_too_long"));
    } else {
      const compiled = compileRule(rule.when, declared);
      if ("refusal" in compiled)
        problems.push(problem([...ruleAt, "when"], compiled.refusal.msg, compiled.refusal.type));
    }
    if (rule.next === "") {
      problems.push(problem([...ruleAt, "next"], "Field required", "missing"));
      intact = false;
    } else if (!resolveEdge([...ruleAt, "next"], rule.next, context)) {
      intact = false;
    }
  });
  const fallback = present(node.default_next);
  if (fallback === undefined) {
    problems.push(problem([...at, "default_next"], "Field required", "missing"));
    intact = false;
  } else if (!resolveEdge([...at, "default_next"], fallback, context)) {
    intact = false;
  }
  if (present(node.next) !== undefined) {
    problems.push(unexpected([...at, "next"], "A logic node leads on through its rules and default_next"));
    intact = false;
  }
  return refuseOptionsAndOutcome(context) && intact;
}

const TREE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A link runs the tree `tree_id` names (that it exists is the store's to say); its `next`, when
 * there, is where the session goes on once that tree reaches a solution.
 */
function checkLink(context: NodeContext): boolean {
  const { node, at, problems } = context;
  const treeId = present(node.tree_id);
  if (treeId === undefined) problems.push(problem([...at, "tree_id"], "Field required", "missing"));
  else if (!TREE_ID.test(treeId)) problems.push(problem([...at, "tree_id"], "Must be a tree's id (a UUID)", "uuid"));
  const intact = present(node.next) === undefined || resolveEdge([...at, "next"], node.next as string, context);
  return refuseOptionsAndOutcome(context) && intact;
}

/** The node's own `next`: required, and must name a node. */
function checkNext(context: NodeContext): boolean {
  const next = present(context.node.next);
  const loc = [...context.at, "next"];
  if (next === undefined) {
    context.problems.push(problem(loc, "Field required", "missing"));
    return false;
  }
  return resolveEdge(loc, next, context);
}

/** Option rules; resolving `next`s become edges. False when a `next` is missing or names no node. */
function checkOptions(context: NodeContext): boolean {
  const { node, at, problems } = context;
  let intact = true;
  const seenIds = new Set<string>();
  node.options.forEach((option, j) => {
    const optionAt: Loc = [...at, "options", j];
    checkId([...optionAt, "id"], option.id, "option_id_pattern", problems);
    if (seenIds.has(option.id)) {
      const msg = `Another option of this node has id ${quote(option.id)}`;
      problems.push(problem([...optionAt, "id"], msg, "duplicate_option_id"));
    }
    seenIds.add(option.id);
    checkText([...optionAt, "label"], option.label, REQUIRED, TREE_LIMITS.labelMax, problems);
    if (option.next === "") {
      problems.push(problem([...optionAt, "next"], "Field required", "missing"));
      intact = false;
    } else if (!resolveEdge([...optionAt, "next"], option.next, context)) {
      intact = false;
    }
  });
  return intact;
}

/** An edge when `target` names a node, else an `unknown_node` problem. */
function resolveEdge(loc: Loc, target: string, { indexById, edges, problems }: NodeContext): boolean {
  const to = indexById.get(target);
  if (to === undefined) {
    problems.push(unknownNode(loc, target));
    return false;
  }
  edges.push({ to, loc });
  return true;
}

/**
 * One `cycle` problem per back edge of a depth-first search (from the root first, so the
 * edge reported is the one that returns towards the root), at the `next` that closes it.
 * Iterative: a 2,000-node chain must not overflow the stack.
 */
function checkAcyclic(edges: Edge[][], root: number | undefined, problems: Problem[]): void {
  const NEW = 0;
  const ON_PATH = 1;
  const DONE = 2;
  const state = new Uint8Array(edges.length);
  const starts = root === undefined ? edges.keys() : [root, ...edges.keys()];
  for (const start of starts) {
    if (state[start] !== NEW) continue;
    const path = [start];
    const cursor = [0];
    state[start] = ON_PATH;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top];
      const out = edges[node];
      if (cursor[top] === out.length) {
        state[node] = DONE;
        path.pop();
        cursor.pop();
        continue;
      }
      const edge = out[cursor[top]++];
      if (state[edge.to] === ON_PATH) {
        problems.push(problem(edge.loc, "This link leads back to an earlier step: the tree has a cycle", "cycle"));
      } else if (state[edge.to] === NEW) {
        state[edge.to] = ON_PATH;
        path.push(edge.to);
        cursor.push(0);
      }
    }
  }
}

function reachableFrom(root: number, edges: Edge[][]): Uint8Array {
  const reached = new Uint8Array(edges.length);
  reached[root] = 1;
  const queue = [root];
  for (let head = 0; head < queue.length; head++) {
    for (const { to } of edges[queue[head]]) {
      if (reached[to] === 1) continue;
      reached[to] = 1;
      queue.push(to);
    }
  }
  return reached;
}

function checkReachable(nodes: TreeNode[], reachable: Uint8Array, problems: Problem[]): void {
  nodes.forEach((node, i) => {
    if (reachable[i] === 1) return;
    problems.push(
      problem(["body", "nodes", i, "id"], `Node ${quote(node.id)} cannot be reached from the root`, "unreachable_node"),
    );
  });
}

/**
 * "Every path ends at a solution". On a complete graph every question has an option and every
 * action a `next`, both naming real nodes, so only solutions have no way on; without cycles
 * every path therefore ends at a solution, and the rules above already cover it. What they let
 * through is a cycle with no way out: `cycle` names the edge, and this names the nodes that
 * can never reach a solution (`dead_end`), found by walking the edges backwards from the
 * solutions. Unreachable nodes are already reported as such, so only reachable ones are.
 */
function checkEndsAtSolutions(nodes: TreeNode[], edges: Edge[][], reachable: Uint8Array, problems: Problem[]): void {
  const incoming: number[][] = edges.map(() => []);
  edges.forEach((out, from) => {
    for (const { to } of out) incoming[to].push(from);
  });
  const finishes = new Uint8Array(nodes.length);
  const queue: number[] = [];
  nodes.forEach((node, i) => {
    // A link without `next` ends where the linked tree does: at one of its solutions.
    if (node.type !== "solution" && !(node.type === "link" && present(node.next) === undefined)) return;
    finishes[i] = 1;
    queue.push(i);
  });
  for (let head = 0; head < queue.length; head++) {
    for (const from of incoming[queue[head]]) {
      if (finishes[from] === 1) continue;
      finishes[from] = 1;
      queue.push(from);
    }
  }
  nodes.forEach((node, i) => {
    if (reachable[i] !== 1 || finishes[i] === 1) return;
    problems.push(
      problem(["body", "nodes", i, "id"], `No path from node ${quote(node.id)} reaches a solution`, "dead_end"),
    );
  });
}

const REQUIRED = true;
const OPTIONAL = false;

/** A required text must hold more than whitespace; any text is at most `max` code points. */
function checkText(loc: Loc, text: string, required: boolean, max: number, problems: Problem[]): void {
  if (required && text.trim().length === 0) {
    problems.push(problem(loc, "Must not be empty", "string_too_short"));
  } else if (text.length > max && codePointCount(text) > max) {
    problems.push(problem(loc, `At most ${max} characters`, "string_too_long"));
  }
}

function checkId(loc: Loc, id: string, type: string, problems: Problem[]): void {
  if (!ID_PATTERN.test(id)) {
    problems.push(problem(loc, "1 to 64 letters, digits, '_', '.' or '-'", type));
  }
}

function checkEnum(loc: Loc, value: string, allowed: readonly string[], problems: Problem[]): void {
  if (!allowed.includes(value)) problems.push(problem(loc, `Must be one of: ${allowed.join(", ")}`, "enum"));
}

/** An optional string field, where an empty string counts as absent (JSON clients send either). */
function present(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A value for a message, shortened: the request may carry megabytes of it. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function unknownNode(loc: Loc, id: string): Problem {
  return problem(loc, `No node has id ${quote(id)}`, "unknown_node");
}

function unexpected(loc: Loc, msg: string): Problem {
  return problem(loc, msg, "unexpected_field");
}

function problem(loc: Loc, msg: string, type: string): Problem {
  return { loc, msg, type };
}
