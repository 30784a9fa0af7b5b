/**
 * Variables, form and logic nodes in the step engine (issue 30), as properties over random trees of
 * question, action, form, logic and solution nodes on five typed variables, walked with random
 * answers, submits (valid and spoiled), stale steps and backs. Each rule is generated as a small
 * expression that is both printed as CEL and evaluated here, apart from @bufbuild/cel, so the rule a
 * logic step records is checked against a second reading. Pure: no database, no network.
 */
import type { AppError, Problem } from "@tdt/kit";
import { ERROR_CODES } from "@tdt/proto/contracts/error-codes";
import { fillPlaceholders, type Values } from "@tdt/proto/contracts/tree-logic";
import type { FormField, Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { appErrorOf } from "@tdt/test-support/thrown";
import fc from "fast-check";
import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { formValues, startValues, valuesIn, variablesNeededAtStart } from "../src/session-variables.js";
import { applyStep, bookOf, nodeById, type SessionState, type StepOp, startState } from "../src/step-engine.js";
import { node, treeOf } from "./support/tree-of.js";

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds));

// ---------------------------------------------------------------------------------------------
// The variables, their values, and rules over them that this file can evaluate by itself.

const TIERS = ["basic", "silver", "gold"];
const TYPES = { pages: "number", serial: "text", warranty: "boolean", tier: "choice", bought: "date" } as const;
type Name = keyof typeof TYPES;
const NAMES = Object.keys(TYPES) as Name[];

const pagesValue = fc.integer({ min: -3, max: 12 }).chain((k) => fc.constantFrom(k, k + 0.5));
const serialValue = fc.oneof(
  fc.stringMatching(/^[ab]{1,4}$/),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 6 }),
);
const DAY = 86_400_000;
const dateValue = fc
  .integer({ min: 0, max: 6 * 365 })
  .map((days) => new Date(Date.UTC(2020, 0, 1) + days * DAY).toISOString().slice(0, 10));
const VALUE_OF: Record<Name, fc.Arbitrary<string | number | boolean>> = {
  pages: pagesValue,
  serial: serialValue,
  warranty: fc.boolean(),
  tier: fc.constantFrom(...TIERS),
  bought: dateValue,
};
/** A valid value of every variable. */
const everyValue = fc.record(VALUE_OF) as fc.Arbitrary<Record<Name, string | number | boolean>>;
/** Valid values of some variables. */
const someValues = fc.record(VALUE_OF, { requiredKeys: [] }) as fc.Arbitrary<Values>;

type Comparison = "<" | "<=" | ">" | ">=" | "==" | "!=";
const comparison = fc.constantFrom<Comparison>("<", "<=", ">", ">=", "==", "!=");

type Rule =
  | { kind: "pages"; op: Comparison; than: number; asDouble: boolean }
  | { kind: "size"; op: Comparison; than: number }
  | { kind: "serial"; test: "==" | "!=" | "contains" | "startsWith" | "endsWith"; text: string }
  | { kind: "warranty" }
  | { kind: "tier"; among: string[] }
  | { kind: "bought"; op: Comparison; than: string }
  | { kind: "constant"; value: boolean }
  | { kind: "not"; of: Rule }
  | { kind: "and" | "or"; left: Rule; right: Rule };

const atom: fc.Arbitrary<Rule> = fc.oneof(
  fc.record({ kind: fc.constant("pages"), op: comparison, than: pagesValue, asDouble: fc.boolean() }),
  fc.record({ kind: fc.constant("size"), op: comparison, than: fc.integer({ min: 0, max: 5 }) }),
  fc.record({
    kind: fc.constant("serial"),
    test: fc.constantFrom("==", "!=", "contains", "startsWith", "endsWith"),
    text: fc.stringMatching(/^[ab]{0,3}$/),
  }),
  fc.constant({ kind: "warranty" }),
  fc.record({ kind: fc.constant("tier"), among: fc.subarray(TIERS, { minLength: 1 }) }),
  fc.record({ kind: fc.constant("bought"), op: comparison, than: dateValue }),
  fc.record({ kind: fc.constant("constant"), value: fc.boolean() }),
) as fc.Arbitrary<Rule>;

const { rule: ruleArb } = fc.letrec<{ rule: Rule }>((tie) => ({
  rule: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    atom,
    tie("rule").map((of): Rule => ({ kind: "not", of })),
    fc.record({ kind: fc.constantFrom("and", "or"), left: tie("rule"), right: tie("rule") }) as fc.Arbitrary<Rule>,
  ),
}));

function numberLiteral(value: number, asDouble: boolean): string {
  return Number.isInteger(value) && asDouble ? `${value}.0` : String(value);
}

/** The rule as CEL. An integer literal is written as one (`3`), or as a double (`3.0`). */
function cel(rule: Rule): string {
  switch (rule.kind) {
    case "pages":
      return `pages ${rule.op} ${numberLiteral(rule.than, rule.asDouble)}`;
    case "size":
      return `size(serial) ${rule.op} ${rule.than}`;
    case "serial":
      return rule.test === "==" || rule.test === "!="
        ? `serial ${rule.test} '${rule.text}'`
        : `serial.${rule.test}('${rule.text}')`;
    case "warranty":
      return "warranty";
    case "tier":
      return rule.among.length === 1 ? `tier == '${rule.among[0]}'` : `tier in [${rule.among.map((t) => `'${t}'`)}]`;
    case "bought":
      return `bought ${rule.op} '${rule.than}'`;
    case "constant":
      return String(rule.value);
    case "not":
      return `!(${cel(rule.of)})`;
    case "and":
      return `(${cel(rule.left)}) && (${cel(rule.right)})`;
    case "or":
      return `(${cel(rule.left)}) || (${cel(rule.right)})`;
  }
}

function compare<T extends number | string>(op: Comparison, left: T, right: T): boolean {
  if (op === "<") return left < right;
  if (op === "<=") return left <= right;
  if (op === ">") return left > right;
  if (op === ">=") return left >= right;
  if (op === "==") return left === right;
  return left !== right;
}

/** CEL's answer, read here: a value unset is an error, which `&&` and `||` absorb when the other side decides. */
type Truth = boolean | "error";

function truth(rule: Rule, values: Values): Truth {
  const value = (name: Name) => (Object.hasOwn(values, name) ? values[name] : undefined);
  switch (rule.kind) {
    case "pages": {
      const pages = value("pages");
      return typeof pages === "number" ? compare(rule.op, pages, rule.than) : "error";
    }
    case "size": {
      const serial = value("serial");
      return typeof serial === "string" ? compare(rule.op, [...serial].length, rule.than) : "error";
    }
    case "serial": {
      const serial = value("serial");
      if (typeof serial !== "string") return "error";
      if (rule.test === "==") return serial === rule.text;
      if (rule.test === "!=") return serial !== rule.text;
      if (rule.test === "contains") return serial.includes(rule.text);
      return rule.test === "startsWith" ? serial.startsWith(rule.text) : serial.endsWith(rule.text);
    }
    case "warranty": {
      const warranty = value("warranty");
      return typeof warranty === "boolean" ? warranty : "error";
    }
    case "tier": {
      const tier = value("tier");
      return typeof tier === "string" ? rule.among.includes(tier) : "error";
    }
    case "bought": {
      const bought = value("bought");
      return typeof bought === "string" ? compare(rule.op, bought, rule.than) : "error";
    }
    case "constant":
      return rule.value;
    case "not": {
      const of = truth(rule.of, values);
      return of === "error" ? of : !of;
    }
    case "and":
    case "or": {
      const sides = [truth(rule.left, values), truth(rule.right, values)];
      const decides = rule.kind === "or";
      if (sides.includes(decides)) return decides;
      return sides.includes("error") ? "error" : !decides;
    }
  }
}

function readsOf(rule: Rule): Name[] {
  switch (rule.kind) {
    case "size":
      return ["serial"];
    case "constant":
      return [];
    case "not":
      return readsOf(rule.of);
    case "and":
    case "or":
      return [...readsOf(rule.left), ...readsOf(rule.right)];
    default:
      return [rule.kind];
  }
}

/** The index of the first rule that holds, as this file reads them, or "default". */
function firstHoldingHere(rules: readonly Rule[], values: Values): string {
  const index = rules.findIndex((rule) => truth(rule, values) === true);
  return index < 0 ? "default" : String(index);
}

// ---------------------------------------------------------------------------------------------
// Random trees: a DAG built in topological order (as services/trees/test/support/tree-arbitraries.ts
// builds them), with form and logic nodes and the variables above, some with defaults.

/** A generated tree and the rule each of its logic rules' text was printed from. */
interface Scenario {
  tree: Tree;
  rules: Map<string, Rule>;
}

const INNER_TYPES = ["question", "action", "form", "logic", "logic"] as const;

const nodePlan = fc.record({
  type: fc.constantFrom(...INNER_TYPES),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
  extraRules: fc.nat(2),
  defaultPick: fc.nat(),
  fills: fc.shuffledSubarray(NAMES, { minLength: 1 }),
  required: fc.array(fc.boolean(), { minLength: NAMES.length, maxLength: NAMES.length }),
  bounded: fc.boolean(),
});

const defaults = fc.record(
  Object.fromEntries(NAMES.map((name) => [name, fc.option(VALUE_OF[name], { nil: undefined, freq: 2 })])),
) as fc.Arbitrary<Record<Name, string | number | boolean | undefined>>;

/** A form's field for `name`; bounded: a range, a length, a subset of the choices. */
function fieldFor(name: Name, required: boolean, bounded: boolean): FormField {
  const field: FormField = {
    id: `field-${name}`,
    label: name,
    variable: name,
    type: TYPES[name],
    required,
    choices: [],
  };
  if (!bounded) return field;
  if (name === "pages") return { ...field, min: -3, max: 13 };
  if (name === "serial") return { ...field, min: 1, max: 200 };
  if (name === "tier") return { ...field, choices: ["basic", "gold"] };
  return field;
}

const TITLE = "{{pages}} pages, serial {{ serial }}, tier {{tier}}";

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 12 }).chain((count) =>
  fc
    .record({
      solutionCount: fc.integer({ min: 1, max: Math.min(3, count - 1) }),
      parents: fc.array(fc.nat(), { minLength: count, maxLength: count }),
      extraEdges: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: count }),
      plans: fc.array(nodePlan, { minLength: count, maxLength: count }),
      defaults,
    })
    .map((shape): Scenario => {
      const ids = Array.from({ length: count }, (_, k) => `n${k}`);
      const inner = count - shape.solutionCount;
      const targets: number[][] = Array.from({ length: count }, () => []);
      for (let k = 1; k < count; k++) targets[(shape.parents[k] ?? 0) % Math.min(k, inner)]?.push(k);
      for (const [a, b] of shape.extraEdges) {
        const from = a % inner;
        targets[from]?.push(from + 1 + (b % (count - from - 1)));
      }
      for (let k = 0; k < inner; k++) if (targets[k]?.length === 0) targets[k]?.push(k + 1);

      const rules = new Map<string, Rule>();
      const printed = (rule: Rule) => {
        const text = cel(rule);
        rules.set(text, rule);
        return text;
      };
      const nodes = ids.map((id, k): Node => {
        const title = `${id}: ${TITLE}`;
        if (k >= inner) return node(id, "solution", { title, outcome: "resolved" });
        const plan = shape.plans[k] as (typeof shape.plans)[number];
        const out = (targets[k] as number[]).map((to) => ids[to] as string);
        const later = (pick: number) => ids[k + 1 + (pick % (count - k - 1))] as string;
        const ruleAt = (j: number) => plan.rules[j % plan.rules.length] as Rule;
        switch (plan.type) {
          case "action":
            return node(id, "action", { title, next: out[0] });
          case "question":
            return node(id, "question", {
              title,
              options: out.map((next, j) => ({ id: `o${j}`, label: `Option ${j}`, next })),
            });
          case "form":
            return node(id, "form", {
              title,
              fields: plan.fills.map((name, j) => fieldFor(name, plan.required[j] ?? false, plan.bounded)),
              next: out[0],
            });
        }
        // A logic node: a rule to each of its edges, a few more, and a default.
        const extra = Array.from({ length: plan.extraRules }, (_, e) => ({
          when: printed(ruleAt(out.length + e)),
          next: later(plan.defaultPick + e + 1),
        }));
        return node(id, "logic", {
          title,
          rules: [...out.map((next, j) => ({ when: printed(ruleAt(j)), next })), ...extra],
          default_next: later(plan.defaultPick),
        });
      });
      const tree = {
        ...treeOf("33333333-3333-4333-8333-333333333333", 1, "n0", nodes),
        variables: NAMES.map((name) => ({
          name,
          type: TYPES[name],
          choices: name === "tier" ? TIERS : [],
          ...(shape.defaults[name] !== undefined ? { default: shape.defaults[name] } : {}),
        })),
      };
      return { tree, rules };
    }),
);

function defaultsOf(tree: Tree): Values {
  return Object.fromEntries(
    tree.variables.filter((variable) => variable.default !== undefined).map((v) => [v.name, v.default]),
  );
}

/** Text with each `{{name}}` as its value, read here: what a step's title should show. */
function shownTitle(title: string, values: Values): string {
  return title.replace(/\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g, (_, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : "",
  );
}

// ---------------------------------------------------------------------------------------------
// Form submissions planned field by field, with the problems each plan must cause.

type Fill = "valid" | "omit" | "spoil";

interface SubmitPlan {
  pool: Record<Name, string | number | boolean>;
  fills: Fill[];
  leftOutAs: undefined | null | "";
  strayKey: boolean;
  /** Half the submits: every field valid or left out when it may be, and no stray key. */
  clean: boolean;
}

const submitPlan: fc.Arbitrary<SubmitPlan> = fc.record({
  pool: everyValue,
  fills: fc.array(fc.constantFrom<Fill>("valid", "valid", "valid", "omit", "spoil"), {
    minLength: NAMES.length,
    maxLength: NAMES.length,
  }),
  leftOutAs: fc.constantFrom(undefined, null, ""),
  strayKey: fc.boolean(),
  clean: fc.boolean(),
});

/** A value that `field` refuses, and the problem type it is refused with. */
function spoiled(field: FormField): { value: unknown; type: string } {
  switch (field.variable as Name) {
    case "pages":
      return field.max !== undefined ? { value: 1e6, type: "less_than_equal" } : { value: "12", type: "number_type" };
    case "serial":
      return field.max !== undefined
        ? { value: "x".repeat(field.max + 1), type: "string_too_long" }
        : { value: 42, type: "string_type" };
    case "warranty":
      return { value: "true", type: "bool_type" };
    case "tier":
      return { value: field.choices.length > 0 ? "silver" : "platinum", type: "enum" };
    case "bought":
      return { value: "2024-02-30", type: "date_format" };
  }
}

function validFor(field: FormField, pool: SubmitPlan["pool"]): string | number | boolean {
  const value = pool[field.variable as Name];
  if (field.variable !== "tier" || field.choices.length === 0 || field.choices.includes(value as string)) return value;
  return field.choices[0] as string;
}

interface Submission {
  sent: Record<string, unknown>;
  problems: Array<{ loc: Problem["loc"]; type: string }>;
  byField: Values;
  byVariable: Values;
}

function submission(form: Node, plan: SubmitPlan): Submission {
  const planned: Submission = { sent: {}, problems: [], byField: {}, byVariable: {} };
  form.fields.forEach((field, j) => {
    const loc = ["body", "values", field.id];
    const asked = plan.fills[j] as Fill;
    const fill = plan.clean && (asked === "spoil" || field.required) ? "valid" : asked;
    if (fill === "omit") {
      if (plan.leftOutAs !== undefined) planned.sent[field.id] = plan.leftOutAs;
      if (field.required) planned.problems.push({ loc, type: "missing" });
    } else if (fill === "spoil") {
      const { value, type } = spoiled(field);
      planned.sent[field.id] = value;
      planned.problems.push({ loc, type });
    } else {
      const value = validFor(field, plan.pool);
      planned.sent[field.id] = value;
      planned.byField[field.id] = value;
      planned.byVariable[field.variable] = value;
    }
  });
  if (plan.strayKey && !plan.clean) {
    planned.sent["no-such-field"] = 1;
    planned.problems.push({ loc: ["body", "values", "no-such-field"], type: "unknown_field" });
  }
  return planned;
}

/** A 422 `validation_error` with exactly these problems (location and type, in any order). */
function expectInvalid(error: AppError, problems: ReadonlyArray<{ loc: Problem["loc"]; type: string }>): void {
  expect(error.code).toBe("validation_error");
  expect(ERROR_CODES[error.code].status).toBe(422);
  expect(located(error.extra.problems ?? [])).toEqual(located(problems));
}

/** Problems as a comparable list: location and type, in one order. */
const located = (problems: ReadonlyArray<{ loc: Problem["loc"]; type: string }>) =>
  problems.map(({ loc, type }) => JSON.stringify([loc, type])).sort();

// ---------------------------------------------------------------------------------------------
// The walk: each state checked as it comes.

/**
 * The steps of `state` from `from` on are one arrival: logic nodes passed, each with the rule this
 * file reads as the first that holds and going where that rule leads, then the open step at a node
 * that is no logic node. Titles show the values of then.
 */
function expectArrival(scenario: Scenario, state: SessionState, from: number): void {
  const { tree } = scenario;
  const values = { ...defaultsOf(tree), ...state.variables };
  const arrival = state.steps.slice(from);
  expect(arrival.length).toBeGreaterThan(0);
  arrival.forEach((step, j) => {
    const here = nodeById(tree, step.node_id);
    expect(step.seq).toBe(from + j + 1);
    expect(step.node_title).toBe(shownTitle(here.title, values));
    if (j === arrival.length - 1) {
      expect(here.type).not.toBe("logic");
      expect(state.current_node_id).toBe(here.id);
      expect(step).toMatchObject({ left_at: "", option_id: "" });
      expect(step.passed).toBeUndefined();
      expect(step.rule).toBeUndefined();
      return;
    }
    expect(here.type).toBe("logic");
    expect(step.passed).toBe(true);
    expect(step.left_at).toBe(step.entered_at);
    const rules = here.rules.map((rule) => scenario.rules.get(rule.when) as Rule);
    const fired = firstHoldingHere(rules, values);
    expect(step.rule).toBe(fired);
    const next = fired === "default" ? here.default_next : here.rules[Number(fired)]?.next;
    expect(arrival[j + 1]?.node_id).toBe(next);
  });
}

interface OpPlan {
  kind: "forward" | "back" | "stale";
  pick: number;
  submit: SubmitPlan;
}

const opPlan: fc.Arbitrary<OpPlan> = fc.record({
  kind: fc.constantFrom("forward", "forward", "forward", "forward", "back", "back", "stale"),
  pick: fc.nat(),
  submit: submitPlan,
});

/** The operation that moves on from `here` as `plan` says (none at a solution), and where it leads. */
function forwardOp(here: Node, plan: OpPlan): { op: StepOp; leadsTo: string; planned?: Submission } | undefined {
  switch (here.type) {
    case "question": {
      const option = here.options[plan.pick % here.options.length] as Node["options"][number];
      return { op: { op: "answer", node_id: here.id, option_id: option.id }, leadsTo: option.next };
    }
    case "action":
      return { op: { op: "continue", node_id: here.id }, leadsTo: here.next as string };
    case "form": {
      const planned = submission(here, plan.submit);
      return { op: { op: "submit", node_id: here.id, values: planned.sent }, leadsTo: here.next as string, planned };
    }
    default:
      return undefined;
  }
}

/**
 * Walks `scenario`'s tree from `sent` (valid values of some variables) by `plans`, checking every
 * state, that the engine never changes the state it is given, and that `back` undoes the last
 * forward step the technician made (over the logic nodes passed), keeping the variables.
 */
function walk(scenario: Scenario, sent: Values, plans: OpPlan[]): void {
  const book = bookOf(scenario.tree);
  let state = startState(book, at(0), sent);
  expect(state.variables).toEqual(sent);
  expectArrival(scenario, state, 0);
  /** The state before each forward step not yet undone: what `back` returns to. */
  const undo: SessionState[] = [];

  plans.forEach((plan, i) => {
    const now = at(i + 1);
    const before = structuredClone(state);
    const here = nodeById(scenario.tree, state.current_node_id);
    const refused = (op: StepOp) => {
      const error = appErrorOf(() => applyStep(state, book, op, now));
      expect(state).toEqual(before);
      return error;
    };

    if (plan.kind === "back") {
      const earlier = undo.pop();
      if (!earlier) {
        const error = refused({ op: "back" });
        expect(error.extra.problems?.map((problem) => problem.type)).toEqual(["nothing_to_go_back_to"]);
        return;
      }
      const next = applyStep(state, book, { op: "back" }, now);
      expect(state).toEqual(before);
      expect(next.steps).toEqual(earlier.steps);
      expect(next.current_node_id).toBe(earlier.current_node_id);
      // A form opened again keeps the variables it filled until it is submitted again.
      expect(next.variables).toEqual(state.variables);
      state = next;
      return;
    }

    const forward = forwardOp(here, plan);
    if (!forward) return; // at a solution: only back or complete
    if (plan.kind === "stale") {
      expect(refused({ ...forward.op, node_id: `${here.id}-before` } as StepOp).code).toBe("stale_step");
      return;
    }
    const planned = forward.planned;
    if (planned && planned.problems.length > 0) {
      expectInvalid(refused(forward.op), planned.problems);
      return;
    }

    const next = applyStep(state, book, forward.op, now);
    expect(state).toEqual(before);
    const closedAt = before.steps.length - 1;
    expect(next.steps.slice(0, closedAt)).toEqual(before.steps.slice(0, closedAt));
    const closed = next.steps[closedAt];
    expect(closed).toMatchObject({ node_id: here.id, seq: closedAt + 1, left_at: now.toISOString() });
    expect(closed?.passed).toBeUndefined();
    if (planned) {
      expect(closed?.values).toEqual(planned.byField);
      expect(next.variables).toEqual({ ...before.variables, ...planned.byVariable });
    } else {
      expect(closed?.values).toBeUndefined();
      expect(next.variables).toEqual(before.variables);
    }
    expect(next.steps[closedAt + 1]?.node_id).toBe(forward.leadsTo);
    expectArrival(scenario, next, closedAt + 1);
    undo.push(before);
    state = next;
  });
}

// ---------------------------------------------------------------------------------------------

describe("logic and form nodes in the step engine, over random trees", () => {
  it("never stands at a logic node; records the first rule that holds; back undoes a step with its logic; forms check and set values", () => {
    fc.assert(
      fc.property(scenarioArb, someValues, fc.array(opPlan, { maxLength: 16 }), (scenario, sent, plans) => {
        walk(scenario, sent, plans);
      }),
      { numRuns: 400 },
    );
  });

  it("firstHolding's order: the index of the first rule that holds, or default, as read apart from CEL", () => {
    // The engine's own reading, through a logic node at a tree's root.
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), someValues, (rules, values) => {
        const ends = rules.map((_, j) => node(`end${j}`, "solution", { outcome: "resolved" }));
        const logic = node("route", "logic", {
          rules: rules.map((rule, j) => ({ when: cel(rule), next: `end${j}` })),
          default_next: "fallback",
        });
        const tree = {
          ...treeOf("44444444-4444-4444-8444-444444444444", 1, "route", [
            logic,
            ...ends,
            node("fallback", "solution", { outcome: "resolved" }),
          ]),
          variables: NAMES.map((name) => ({ name, type: TYPES[name], choices: name === "tier" ? TIERS : [] })),
        };
        const state = startState(bookOf(tree), at(0), values);
        const fired = firstHoldingHere(rules, values);
        expect(state.steps.map((step) => [step.node_id, step.rule])).toEqual([
          ["route", fired],
          [fired === "default" ? "fallback" : `end${fired}`, undefined],
        ]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("a chain of logic nodes, by example", () => {
  // A form, then two logic nodes in a row, then where they lead.
  const tree: Tree = {
    ...treeOf("55555555-5555-4555-8555-555555555555", 1, "ask", [
      node("ask", "question", { options: [{ id: "form", label: "Fill the form", next: "details" }] }),
      node("details", "form", {
        fields: [
          { id: "p", label: "Pages", variable: "pages", type: "number", required: true, choices: [] },
          { id: "w", label: "Warranty", variable: "warranty", type: "boolean", required: false, choices: [] },
        ],
        next: "by_warranty",
      }),
      node("by_warranty", "logic", {
        rules: [{ when: "warranty", next: "by_pages" }],
        default_next: "paid",
      }),
      node("by_pages", "logic", {
        rules: [
          { when: "pages > 100", next: "worn" },
          { when: "pages > 10", next: "clean" },
        ],
        default_next: "replace",
      }),
      node("worn", "solution", { outcome: "resolved" }),
      node("clean", "action", { next: "paid" }),
      node("replace", "solution", { outcome: "resolved" }),
      node("paid", "solution", { outcome: "escalated" }),
    ]),
    variables: [
      { name: "pages", type: "number", choices: [] },
      { name: "warranty", type: "boolean", choices: [], default: false },
    ],
  };
  const book = bookOf(tree);
  const atForm = applyStep(startState(book, at(0)), book, { op: "answer", node_id: "ask", option_id: "form" }, at(1));

  it("passes the chain in one submit, each logic step recording its rule, and stands where it leads", () => {
    const state = applyStep(atForm, book, { op: "submit", node_id: "details", values: { p: 120.5, w: true } }, at(2));
    expect(state.current_node_id).toBe("worn");
    expect(state.variables).toEqual({ pages: 120.5, warranty: true });
    expect(state.steps.map((step) => [step.node_id, step.rule, step.passed, step.values])).toEqual([
      ["ask", undefined, undefined, undefined],
      ["details", undefined, undefined, { p: 120.5, w: true }],
      ["by_warranty", "0", true, undefined],
      ["by_pages", "0", true, undefined],
      ["worn", undefined, undefined, undefined],
    ]);
    const second = applyStep(atForm, book, { op: "submit", node_id: "details", values: { p: 50, w: true } }, at(2));
    expect(second.steps.slice(2, 4).map((step) => step.rule)).toEqual(["0", "1"]);
    // The variable's default (false) where the form left it out.
    const unset = applyStep(atForm, book, { op: "submit", node_id: "details", values: { p: 500 } }, at(2));
    expect(unset.steps.slice(2).map((step) => [step.node_id, step.rule])).toEqual([
      ["by_warranty", "default"],
      ["paid", undefined],
    ]);
  });

  it("goes back over the logic steps passed to the form, which keeps the values it filled", () => {
    const passed = applyStep(atForm, book, { op: "submit", node_id: "details", values: { p: 120.5, w: true } }, at(2));
    const back = applyStep(passed, book, { op: "back" }, at(3));
    expect(back.current_node_id).toBe("details");
    expect(back.steps).toEqual(atForm.steps);
    expect(back.variables).toEqual({ pages: 120.5, warranty: true });
  });

  it("refuses back at the first technician step even with logic steps passed before it", () => {
    const routed: Tree = { ...tree, root_node_id: "by_pages" };
    const state = startState(bookOf(routed), at(0), { pages: 50 });
    expect(state.current_node_id).toBe("clean");
    const error = appErrorOf(() => applyStep(state, bookOf(routed), { op: "back" }, at(1)));
    expect(error.extra.problems?.map((problem) => problem.type)).toEqual(["nothing_to_go_back_to"]);
  });

  it("refuses a form's bad values at their fields, changing nothing", () => {
    const before = structuredClone(atForm);
    const error = appErrorOf(() =>
      applyStep(atForm, book, { op: "submit", node_id: "details", values: { p: "many", w: "yes", x: 1 } }, at(2)),
    );
    expectInvalid(error, [
      { loc: ["body", "values", "p"], type: "number_type" },
      { loc: ["body", "values", "w"], type: "bool_type" },
      { loc: ["body", "values", "x"], type: "unknown_field" },
    ]);
    expect(atForm).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

type StartFill = "valid" | "absent" | "leftOut" | "wrong";

/** A value of the variable's type refused at the start, and the problem type. */
const WRONG: Record<Name, { value: unknown; type: string }> = {
  pages: { value: "12", type: "number_type" },
  serial: { value: 42, type: "string_type" },
  warranty: { value: 1, type: "bool_type" },
  tier: { value: "platinum", type: "enum" },
  bought: { value: "2024-13-01", type: "date_format" },
};

describe("startValues", () => {
  const startPlan = fc.record({
    pool: everyValue,
    fills: fc.record(
      Object.fromEntries(
        NAMES.map((name) => [name, fc.constantFrom<StartFill>("valid", "absent", "leftOut", "wrong")]),
      ),
    ) as fc.Arbitrary<Record<Name, StartFill>>,
    leftOutAs: fc.constantFrom(null, ""),
    tooLong: fc.boolean(),
    strangers: fc.subarray(["nope", "Pages", "pages ", "x1", "__proto__", "constructor"]),
    /** Half the starts: no value of a wrong type, no stranger. */
    clean: fc.boolean(),
  });

  it("checks each value at its place, fills the defaults, and asks for what the logic needs", () => {
    fc.assert(
      fc.property(scenarioArb, startPlan, ({ tree, rules }, plan) => {
        const filledByForms = new Set(tree.nodes.flatMap((each) => each.fields.map((field) => field.variable)));
        const read = new Set(
          tree.nodes.flatMap((each) => each.rules.flatMap((rule) => readsOf(rules.get(rule.when) as Rule))),
        );
        const givenDefault = defaultsOf(tree);
        const needed = NAMES.filter((name) => read.has(name) && !filledByForms.has(name) && !(name in givenDefault));
        expect([...variablesNeededAtStart(tree)].sort()).toEqual([...needed].sort());

        const sent: [string, unknown][] = [];
        const problems: Array<{ loc: Problem["loc"]; type: string }> = [];
        const valid: Values = {};
        for (const name of NAMES) {
          const loc = ["body", "variables", name];
          const fill = plan.clean && plan.fills[name] === "wrong" ? "valid" : plan.fills[name];
          if (fill === "valid") {
            sent.push([name, plan.pool[name]]);
            valid[name] = plan.pool[name];
          } else if (fill === "leftOut") {
            sent.push([name, plan.leftOutAs]);
          } else if (fill === "wrong") {
            const wrong =
              name === "serial" && plan.tooLong ? { value: "x".repeat(2001), type: "string_too_long" } : WRONG[name];
            sent.push([name, wrong.value]);
            problems.push({ loc, type: wrong.type });
          }
          if (fill !== "valid" && needed.includes(name)) problems.push({ loc, type: "missing_variable" });
        }
        for (const stranger of plan.clean ? [] : plan.strangers) {
          sent.push([stranger, 1]);
          problems.push({ loc: ["body", "variables", stranger], type: "unknown_variable" });
        }

        const body = Object.fromEntries(sent);
        if (problems.length === 0) {
          expect(startValues(tree, body)).toEqual({ ...givenDefault, ...valid });
        } else {
          expectInvalid(
            appErrorOf(() => startValues(tree, body)),
            problems,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("answers missing_variable for a variable a rule reads with no default and no form to fill it", () => {
    const tree: Tree = {
      ...treeOf("66666666-6666-4666-8666-666666666666", 1, "route", [
        node("route", "logic", { rules: [{ when: "pages > 3 && tier == 'gold'", next: "a" }], default_next: "b" }),
        node("a", "solution", { outcome: "resolved" }),
        node("b", "solution", { outcome: "resolved" }),
      ]),
      variables: [
        { name: "pages", type: "number", choices: [] },
        { name: "tier", type: "choice", choices: TIERS, default: "basic" },
      ],
    };
    const error = appErrorOf(() => startValues(tree, {}));
    expect(error.extra.problems).toEqual([
      { loc: ["body", "variables", "pages"], msg: expect.any(String), type: "missing_variable" },
    ]);
    expect(startValues(tree, { pages: 4 })).toEqual({ pages: 4, tier: "basic" });
  });
});

// ---------------------------------------------------------------------------------------------

/** Markdown's punctuation as `fillPlaceholders` escapes it, and the characters that become entities. */
const BACKSLASHED = new Set("\\`*_{}[]()#+-.!|~");
const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };

/**
 * Reads escaped Markdown text back: `\` + punctuation is the punctuation, an entity its character;
 * a special character standing bare is an error. What it answers must be the value.
 */
function unescapeStrictly(escaped: string): string {
  let out = "";
  for (let i = 0; i < escaped.length; ) {
    const char = escaped[i] as string;
    if (char === "\\") {
      const next = escaped[i + 1];
      if (next === undefined || !BACKSLASHED.has(next)) throw new Error(`a bare backslash at ${i}`);
      out += next;
      i += 2;
      continue;
    }
    if (char === "&") {
      const entity = Object.keys(ENTITIES).find((name) => escaped.startsWith(name, i));
      if (!entity) throw new Error(`a bare & at ${i}`);
      out += ENTITIES[entity];
      i += entity.length;
      continue;
    }
    if (BACKSLASHED.has(char) || char === "<" || char === ">") throw new Error(`a bare ${char} at ${i}`);
    out += char;
    i += 1;
  }
  return out;
}

const htmlText = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] ?? char,
  );

const SPECIALS = [
  ..."\\`*_{}[]()#+-.!|~<>&;:/\"'=@^$%? \ta1é\u{1F600}",
  "&amp;",
  "&#60;",
  "<b>",
  "**",
  "](",
  "{{v}}",
  "$&",
  "$1",
];
/** Any text without NUL: Unicode of every plane, and text dense in Markdown's and HTML's specials. */
const anyValue = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ unit: fc.constantFrom(...SPECIALS), maxLength: 30 }),
  )
  .map((text) => text.replace(/\0/g, ""));
/** The same on one line: CommonMark's line endings are \n and \r. */
const oneLineValue = anyValue.map((text) => text.replace(/[\n\r]/g, " "));

describe("{{name}} placeholders", () => {
  it("as text, show the value verbatim (placeholders and $ patterns in it stay as they are)", () => {
    fc.assert(
      fc.property(anyValue, anyValue, anyValue, (value, before, after) => {
        const around = (text: string) => text.replace(/[{}]/g, "");
        const [prefix, suffix] = [around(before), around(after)];
        expect(fillPlaceholders(`${prefix}{{v}}${suffix}`, { v: value, other: "x" }, "text")).toBe(
          `${prefix}${value}${suffix}`,
        );
        expect(fillPlaceholders(`{{ v }}|{{v}}|{{w}}`, { v: value }, "text")).toBe(`${value}|${value}|`);
      }),
      { numRuns: 1000 },
    );
    expect(fillPlaceholders("{{n}} {{b}} {{d}}", { n: 120.5, b: false, d: "2024-01-01" }, "text")).toBe(
      "120.5 false 2024-01-01",
    );
  });

  it("as Markdown, escape every special character of the value: a backslash before it, or an entity", () => {
    // White space aside: a line break shows as a space (see the test on line breaks below).
    const spaced = (text: string) => text.replace(/\s+/g, " ");
    fc.assert(
      fc.property(anyValue, (value) => {
        const escaped = fillPlaceholders("{{v}}", { v: value }, "markdown");
        const read = unescapeStrictly(escaped);
        if (!/[\r\n]/.test(value)) expect(read).toBe(value);
        expect(read).not.toMatch(/[\r\n]/);
        expect(spaced(read)).toBe(spaced(value));
      }),
      { numRuns: 2000 },
    );
  });

  it("as Markdown, a value on one line renders as its own text: no element, no entity of its own (CommonMark, by marked)", () => {
    fc.assert(
      fc.property(oneLineValue, (value) => {
        const body = fillPlaceholders("Customer: {{v}} (see **below**)", { v: value }, "markdown");
        const html = marked.parse(body, { gfm: false });
        expect(html).toBe(`<p>Customer: ${htmlText(value)} (see <strong>below</strong>)</p>\n`);
      }),
      { numRuns: 2000 },
    );
  });

  // Found by this file (before the fix): a value's line breaks let its next line start a block,
  // "x\n===" a heading of the line before, a blank line and four spaces a code block.
  it("as Markdown, a value with line breaks stays text in its paragraph (no heading, no code block)", () => {
    for (const value of ["x\n===", "x\n\n    indented", "x\r\n---", "a  \nb", "x\n> quoted\n- item"]) {
      const html = marked.parse(fillPlaceholders("Customer: {{v}}", { v: value }, "markdown"), { gfm: false });
      expect(html, JSON.stringify(value)).toMatch(/^<p>Customer: [^<]*<\/p>\n$/);
    }
    fc.assert(
      fc.property(anyValue, (value) => {
        const body = fillPlaceholders("Customer: {{v}} (see **below**)", { v: value }, "markdown");
        const html = marked.parse(body, { gfm: false });
        expect(html).toMatch(/^<p>Customer: [^<]* \(see <strong>below<\/strong>\)<\/p>\n$/);
      }),
      { numRuns: 2000 },
    );
  });
});

// Found by this file (before the fix): values were looked up as plain-object properties, so a
// variable named `constructor` (VARIABLE_NAME allows it) or a form field with the id `toString`
// (a field id allows it) read Object.prototype when it had no value of its own.
describe("names that Object.prototype also has", () => {
  const tree: Tree = {
    ...treeOf("77777777-7777-4777-8777-777777777777", 1, "route", [
      node("route", "logic", { rules: [{ when: "constructor == 'x'", next: "a" }], default_next: "b" }),
      node("a", "solution", { outcome: "resolved" }),
      node("b", "solution", { outcome: "resolved" }),
      node("form", "form", {
        fields: [{ id: "toString", label: "t", variable: "constructor", type: "text", required: false, choices: [] }],
        next: "b",
      }),
    ]),
    variables: [{ name: "constructor", type: "text", choices: [], default: "x" }],
  };

  it("{{constructor}} with no value shows nothing, not Object's source", () => {
    expect(fillPlaceholders("Hi {{constructor}}", {}, "text")).toBe("Hi ");
  });

  it("a variable named constructor takes its default", () => {
    expect(valuesIn(tree, {})).toEqual({ constructor: "x" });
    expect(startState(bookOf(tree), at(0), {}).current_node_id).toBe("a");
  });

  it("a variable named constructor that a rule needs is missing_variable when not given", () => {
    const needing: Tree = {
      ...tree,
      variables: [{ name: "constructor", type: "text", choices: [] }],
      nodes: tree.nodes.slice(0, 3),
    };
    const error = appErrorOf(() => startValues(needing, {}));
    expect(error.extra.problems?.map((problem) => problem.type)).toEqual(["missing_variable"]);
  });

  it("an optional field with the id toString may be left out", () => {
    expect(formValues(nodeById(tree, "form"), tree, {})).toEqual({ byField: {}, byVariable: {} });
  });
});
