/**
 * A session's variables (docs/decisions/logic-forms-media-languages.md): the values a session
 * starts with, and those a form's submit fills in, checked against the tree's declarations as any
 * request is, each problem at its value's place in the body. Pure functions.
 */
import { AppError, type Problem } from "@tdt/kit";
import { compileRule, ownValue, type Values, valueRefusal } from "@tdt/proto/contracts/tree-logic";
import type { Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";

/** The most values a request may name: past any tree's variables or form's fields (50, 20). */
const MAX_VALUES_SENT = 100;

/** Whether `value` is a JSON object (what a Struct carries), not a list or a scalar. */
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A value left out: absent, null, or an empty text (an untouched input of a form). */
const isLeftOut = (value: unknown) => value === undefined || value === null || value === "";

/** The tree's defaults, under `values`: what its logic and its text read. */
export function valuesIn(tree: Tree, values: Values): Values {
  const defaults: Values = {};
  for (const variable of tree.variables ?? []) {
    const value = variable.default;
    if (value !== undefined && value !== null && !Object.hasOwn(values, variable.name)) {
      defaults[variable.name] = value;
    }
  }
  return Object.keys(defaults).length === 0 ? values : { ...defaults, ...values };
}

/**
 * The variables a session on `tree` must be given at its start: those a logic rule reads that
 * have no default and that no form of the tree fills in.
 */
export function variablesNeededAtStart(tree: Tree): string[] {
  const filled = new Set(
    tree.nodes.flatMap((node) => (node.type === "form" ? node.fields : []).map((f) => f.variable)),
  );
  const read = new Set<string>();
  for (const node of tree.nodes) {
    if (node.type !== "logic") continue;
    for (const rule of node.rules) {
      const compiled = compileRule(rule.when, tree.variables ?? []);
      if ("rule" in compiled) for (const name of compiled.rule.reads) read.add(name);
    }
  }
  return (tree.variables ?? [])
    .filter((variable) => read.has(variable.name) && !filled.has(variable.name))
    .filter((variable) => variable.default === undefined || variable.default === null)
    .map((variable) => variable.name);
}

/**
 * The values a session on `tree` starts with: `sent` (the start request's `variables`) checked
 * against the declarations, then the defaults. A 422 lists every problem: a name the tree does not
 * declare, a value not of its type, a variable the tree's logic needs and nobody gave.
 */
export function startValues(tree: Tree, sent: Record<string, unknown> | undefined): Values {
  const problems: Problem[] = [];
  const declared = new Map((tree.variables ?? []).map((variable) => [variable.name, variable]));
  const values: Values = {};
  const entries = Object.entries(sent ?? {});
  if (entries.length > MAX_VALUES_SENT) {
    const msg = `At most ${MAX_VALUES_SENT} values`;
    throw AppError.invalid([{ loc: ["body", "variables"], msg, type: "too_many_values" }]);
  }
  for (const [name, value] of entries) {
    const loc = ["body", "variables", name];
    const variable = declared.get(name);
    if (!variable) {
      problems.push({ loc, msg: "The tree has no such variable", type: "unknown_variable" });
      continue;
    }
    if (isLeftOut(value)) continue;
    const refusal = valueRefusal(variable.type, variable.choices, value);
    if (refusal) problems.push({ loc, ...refusal });
    else values[name] = value as Values[string];
  }
  const withDefaults = valuesIn(tree, values);
  for (const name of variablesNeededAtStart(tree)) {
    if (ownValue(withDefaults, name) !== undefined) continue;
    const msg = "The tree's logic reads this variable, and it has no default: give it when the session starts";
    problems.push({ loc: ["body", "variables", name], msg, type: "missing_variable" });
  }
  if (problems.length > 0) throw AppError.invalid(problems);
  return withDefaults;
}

/**
 * A form's values as submitted (`values` by field id), checked against its fields: by field id
 * for the step, by variable for the session. A 422 at `values.<field id>` for each problem.
 */
export function formValues(form: Node, tree: Tree, sent: unknown): { byField: Values; byVariable: Values } | AppError {
  if (sent !== undefined && !isObject(sent)) {
    return AppError.invalid([{ loc: ["body", "values"], msg: "Must be an object", type: "dict_type" }]);
  }
  const given = sent ?? {};
  if (Object.keys(given).length > MAX_VALUES_SENT) {
    const msg = `At most ${MAX_VALUES_SENT} values`;
    return AppError.invalid([{ loc: ["body", "values"], msg, type: "too_many_values" }]);
  }
  const problems: Problem[] = [];
  const fieldIds = new Set(form.fields.map((field) => field.id));
  for (const key of Object.keys(given)) {
    if (!fieldIds.has(key)) {
      problems.push({ loc: ["body", "values", key], msg: "The form has no such field", type: "unknown_field" });
    }
  }
  const declared = new Map((tree.variables ?? []).map((variable) => [variable.name, variable]));
  const byField: Values = {};
  const byVariable: Values = {};
  for (const field of form.fields) {
    const loc = ["body", "values", field.id];
    const value = Object.hasOwn(given, field.id) ? given[field.id] : undefined;
    if (isLeftOut(value)) {
      if (field.required) problems.push({ loc, msg: "Field required", type: "missing" });
      continue;
    }
    const bounds = { min: field.min, max: field.max, choices: field.choices };
    const refusal = valueRefusal(field.type, declared.get(field.variable)?.choices ?? [], value, bounds);
    if (refusal) {
      problems.push({ loc, ...refusal });
      continue;
    }
    byField[field.id] = value as Values[string];
    byVariable[field.variable] = value as Values[string];
  }
  return problems.length > 0 ? AppError.invalid(problems) : { byField, byVariable };
}
