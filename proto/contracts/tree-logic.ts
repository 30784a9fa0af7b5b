/**
 * A tree's variables and logic (`tdt.trees.v1.Variable`, form and logic nodes), as the trees
 * service checks them when a tree is saved and the sessions service applies them while a session
 * runs: one reading of the rules for both. Imported as `@tdt/proto/contracts/tree-logic`; see
 * docs/decisions/logic-forms-media-languages.md.
 *
 * Logic rules are Common Expression Language, evaluated by `@bufbuild/cel`. Its type checker does
 * not cover calls yet, so the subset a rule may use is checked here, over the parsed expression:
 * literals, the tree's variables, comparisons, `&&` `||` `!`, arithmetic, `? :`, `in` a list of
 * literals, and `size`, `contains`, `startsWith`, `endsWith` on text. Comprehensions (`map`,
 * `all`, …), messages, maps and `matches` (a regular expression the evaluator runs with
 * JavaScript's backtracking engine) are refused. With no loops and no lists to walk, a rule's cost
 * is bounded by its size, and the size is bounded: that is the cost limit.
 */
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { type EnumValue, enumValues } from "@tdt/proto/tdt/contract";

export type VariableType = EnumValue<"tdt.trees.v1.VariableType">;
export const VARIABLE_TYPES = enumValues("tdt.trees.v1.VariableType");

/** A variable's value as a session holds it: numbers as JSON numbers, dates as `YYYY-MM-DD`. */
export type VariableValue = string | number | boolean;
export type Values = Record<string, VariableValue>;

/** A variable as a tree declares it (`tdt.trees.v1.Variable`). */
export interface VariableDeclaration {
  name: string;
  type: string;
  default?: unknown;
  choices: string[];
}

/** A variable's name: also a CEL identifier, and what `{{name}}` shows. */
export const VARIABLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** The most characters of a text value. */
export const MAX_TEXT_VALUE = 2000;

/** The most parts (literals, names, operators) one rule may have: the bound of its cost. */
export const MAX_RULE_PARTS = 200;

/**
 * How many brackets a rule may hold, and how deeply they may nest. The parser's time grows with
 * the square of an unclosed nesting (1,000 `(` took seconds), so more is refused before it is
 * parsed. Every opening bracket counts, inside string literals too, and only a closing one outside
 * them closes: a string of closing brackets cannot hide the opening ones before it (the parser
 * sees those nest). Were quotes misread, the count of all brackets still bounds the parser's work.
 */
export const MAX_RULE_NESTING = 32;
export const MAX_RULE_BRACKETS = 64;

function bracketsOf(source: string): { count: number; deepest: number } {
  let count = 0;
  let depth = 0;
  let deepest = 0;
  let quote = "";
  let escaped = false;
  for (const character of source) {
    if (character === "(" || character === "[" || character === "{") {
      count++;
      deepest = Math.max(deepest, ++depth);
    } else if ((character === ")" || character === "]" || character === "}") && quote === "") {
      // Only outside a string literal does a closing bracket close anything.
      depth = Math.max(0, depth - 1);
    } else if (quote !== "") {
      if (escaped) escaped = false;
      else if (character === "\\") escaped = true;
      else if (character === quote) quote = "";
    } else if (character === "'" || character === '"') {
      quote = character;
    }
  }
  return { count, deepest };
}

/** A value of `values` by name: its own, never one an object inherits (`constructor`). */
export const ownValue = (values: Values, name: string): VariableValue | undefined =>
  Object.hasOwn(values, name) ? values[name] : undefined;

/** The most values of an `in` list. */
const MAX_LIST_ITEMS = 50;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Why something is refused: a message and a stable type, placed by the caller. */
export interface Refusal {
  msg: string;
  type: string;
}

/** Bounds a form field adds to its variable's type. */
export interface ValueBounds {
  min?: number | undefined;
  max?: number | undefined;
  choices?: readonly string[] | undefined;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Why `value` is not a value of a variable of `type` (with `choices`) within `bounds`; none when
 * it is. A number's bounds are its range, a text's its length in characters.
 */
export function valueRefusal(
  type: string,
  choices: readonly string[],
  value: unknown,
  bounds: ValueBounds = {},
): Refusal | undefined {
  switch (type) {
    case "text": {
      if (typeof value !== "string") return { msg: "Must be text", type: "string_type" };
      const length = codePoints(value);
      const max = Math.min(bounds.max ?? MAX_TEXT_VALUE, MAX_TEXT_VALUE);
      if (length > max) return { msg: `At most ${max} characters`, type: "string_too_long" };
      if (bounds.min !== undefined && length < bounds.min) {
        return { msg: `At least ${bounds.min} characters`, type: "string_too_short" };
      }
      return undefined;
    }
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return { msg: "Must be a number", type: "number_type" };
      if (bounds.min !== undefined && value < bounds.min) {
        return { msg: `Must be at least ${bounds.min}`, type: "greater_than_equal" };
      }
      if (bounds.max !== undefined && value > bounds.max) {
        return { msg: `Must be at most ${bounds.max}`, type: "less_than_equal" };
      }
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : { msg: "Must be true or false", type: "bool_type" };
    case "choice": {
      const allowed = bounds.choices && bounds.choices.length > 0 ? bounds.choices : choices;
      if (typeof value !== "string" || !allowed.includes(value)) {
        return { msg: `Must be one of: ${allowed.join(", ")}`, type: "enum" };
      }
      return undefined;
    }
    case "date":
      return typeof value === "string" && isDate(value)
        ? undefined
        : { msg: "Must be a date, YYYY-MM-DD", type: "date_format" };
    default:
      return { msg: `Unknown variable type ${JSON.stringify(type)}`, type: "enum" };
  }
}

/** The type a variable has in a rule. */
type CelKind = "string" | "double" | "int" | "bool" | "null";

function celKindOf(type: string): CelKind {
  if (type === "number") return "double";
  if (type === "boolean") return "bool";
  return "string";
}

type Expr = ReturnType<typeof parse>["expr"];

/** A rule read and checked: what it reads, ready to evaluate. */
export interface CompiledRule {
  /** The variables the rule names. */
  reads: string[];
  /** Whether the rule holds for `values`; a rule that fails to evaluate (a value unset) does not. */
  holds(values: Values): boolean;
}

class RuleRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.msg);
  }
}

const refuse = (msg: string, type: string): never => {
  throw new RuleRefused({ msg, type });
};

const COMPARISONS = new Set(["_<_", "_<=_", "_>_", "_>=_"]);
const ARITHMETIC = new Set(["_-_", "_*_", "_/_"]);
const TEXT_TESTS = new Set(["contains", "startsWith", "endsWith"]);

/**
 * Checks a rule against the declared variables and types it; integer literals become doubles, as
 * every number of a session is one. Counts its parts against MAX_RULE_PARTS.
 */
class RuleChecker {
  parts = 0;
  readonly reads = new Set<string>();
  constructor(private readonly declared: ReadonlyMap<string, VariableDeclaration>) {}

  check(expr: Expr): CelKind {
    if (++this.parts > MAX_RULE_PARTS) refuse(`At most ${MAX_RULE_PARTS} parts in a rule`, "rule_too_complex");
    const kind = expr.exprKind;
    switch (kind.case) {
      case "constExpr":
        return this.constant(kind.value);
      case "identExpr": {
        const variable = this.declared.get(kind.value.name);
        if (!variable) return refuse(`No variable is named ${JSON.stringify(kind.value.name)}`, "unknown_variable");
        this.reads.add(variable.name);
        return celKindOf(variable.type);
      }
      case "callExpr":
        return this.call(kind.value.function, kind.value.target, kind.value.args);
      case "listExpr":
        return refuse("A list may only follow `in`", "rule_unsupported");
      default:
        return refuse("Rules compare variables: no fields, maps or macros", "rule_unsupported");
    }
  }

  private constant(value: Extract<Expr["exprKind"], { case: "constExpr" }>["value"]): CelKind {
    const constant = value.constantKind;
    switch (constant.case) {
      case "int64Value":
      case "uint64Value":
        // Every number of a session is a double: so is every number in a rule.
        value.constantKind = { case: "doubleValue", value: Number(constant.value) };
        return "double";
      case "doubleValue":
        return "double";
      case "stringValue":
        return "string";
      case "boolValue":
        return "bool";
      case "nullValue":
        return "null";
      default:
        return refuse("Only text, numbers, true, false and null", "rule_unsupported");
    }
  }

  private call(name: string, target: Expr | undefined, args: Expr[]): CelKind {
    const on = target ? [target, ...args] : args;
    const kinds = () => on.map((arg) => this.check(arg));
    if (name === "_&&_" || name === "_||_" || name === "!_") {
      for (const kind of kinds()) if (kind !== "bool") refuse(`${operator(name)} needs true or false`, "rule_type");
      return "bool";
    }
    if (name === "_==_" || name === "_!=_") {
      const [left, right] = kinds();
      if (left !== right && left !== "null" && right !== "null" && !(isNumber(left) && isNumber(right))) {
        refuse(`Cannot compare ${left} with ${right}`, "rule_type");
      }
      return "bool";
    }
    if (COMPARISONS.has(name)) {
      const [left, right] = kinds();
      const comparable = (isNumber(left) && isNumber(right)) || (left === "string" && right === "string");
      if (!comparable) refuse(`${operator(name)} compares two numbers or two texts (dates too)`, "rule_type");
      return "bool";
    }
    if (name === "_+_") {
      const [left, right] = kinds();
      if (left === "int" || right === "int") refuse(arithmeticRefusal(name, "int"), "rule_type");
      if (left !== right || (left !== "double" && left !== "string"))
        refuse("+ adds numbers or joins texts", "rule_type");
      return left as CelKind;
    }
    if (ARITHMETIC.has(name) || name === "-_") {
      for (const kind of kinds()) if (kind !== "double") refuse(arithmeticRefusal(name, kind), "rule_type");
      return "double";
    }
    if (name === "_?_:_") {
      const [condition, yes, no] = kinds();
      if (condition !== "bool") refuse("The condition of ? : must be true or false", "rule_type");
      if (yes !== no) refuse("Both branches of ? : must have one type", "rule_type");
      return yes as CelKind;
    }
    if (name === "@in") return this.membership(args);
    if (name === "size" && on.length === 1) {
      if (this.check(on[0] as Expr) !== "string") refuse("size() takes a text", "rule_type");
      // A count (CEL's int): compared with any number, never computed with a double.
      return "int";
    }
    if (TEXT_TESTS.has(name) && target && args.length === 1) {
      for (const kind of kinds()) if (kind !== "string") refuse(`${name}() takes texts`, "rule_type");
      return "bool";
    }
    if (name === "matches") return refuse("Regular expressions are not allowed in rules", "rule_unsupported");
    return refuse(`Unknown function ${JSON.stringify(name)}`, "rule_unsupported");
  }

  private membership(args: Expr[]): CelKind {
    const [item, list] = args as [Expr, Expr];
    const kind = this.check(item);
    if (list.exprKind.case !== "listExpr") return refuse("`in` needs a list of values: x in ['a', 'b']", "rule_type");
    const elements = list.exprKind.value.elements;
    if (elements.length > MAX_LIST_ITEMS) refuse(`At most ${MAX_LIST_ITEMS} values in a list`, "rule_too_complex");
    for (const element of elements) {
      if (element.exprKind.case !== "constExpr") refuse("A list holds values, not expressions", "rule_unsupported");
      if (this.check(element) !== kind) refuse(`Every value of the list must be a ${kind}`, "rule_type");
    }
    return "bool";
  }
}

const isNumber = (kind: CelKind | undefined) => kind === "double" || kind === "int";

function arithmeticRefusal(name: string, kind: CelKind | undefined): string {
  return kind === "int"
    ? "size() counts characters: compare it (size(serial) > 4), do not compute with it"
    : `${operator(name)} needs numbers`;
}

function operator(name: string): string {
  return name.replace(/_/g, "").replace("@", "") || name;
}

/** Compiled rules by their text and the types they were checked against. */
const compiled = new Map<string, CompiledRule>();
const MAX_COMPILED = 5_000;

/**
 * Reads and checks a rule (`LogicRule.when`) against the tree's variables: a `bool` within the
 * subset above. Throws nothing: answers the rule, or why it is refused.
 */
export function compileRule(
  source: string,
  variables: readonly VariableDeclaration[],
): { rule: CompiledRule } | { refusal: Refusal } {
  const signature = `${variables.map((variable) => `${variable.name}:${variable.type}`).join(",")}|${source}`;
  const known = compiled.get(signature);
  if (known) return { rule: known };
  const brackets = bracketsOf(source);
  if (brackets.deepest > MAX_RULE_NESTING || brackets.count > MAX_RULE_BRACKETS) {
    const msg = `At most ${MAX_RULE_BRACKETS} brackets, nested at most ${MAX_RULE_NESTING} deep`;
    return { refusal: { msg, type: "rule_too_complex" } };
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^<input>:/, "at ") : "";
    return { refusal: { msg: `Not an expression: ${detail}`.slice(0, 300), type: "rule_syntax" } };
  }
  const declared = new Map(variables.map((variable) => [variable.name, variable]));
  const checker = new RuleChecker(declared);
  try {
    if (checker.check(parsed.expr) !== "bool") {
      return { refusal: { msg: "A rule must be true or false", type: "rule_type" } };
    }
  } catch (error) {
    if (error instanceof RuleRefused) return { refusal: error.refusal };
    // The parser's tree is deep enough to overflow the stack only far past any rule's length.
    return { refusal: { msg: "Too deeply nested", type: "rule_too_complex" } };
  }
  const reads = [...checker.reads];
  const env = celEnv();
  const run = plan(env, parsed);
  const rule: CompiledRule = {
    reads,
    holds(values) {
      const bindings: Record<string, VariableValue> = {};
      for (const name of reads) {
        const value = ownValue(values, name);
        // An unset variable stays unbound: the rule fails to evaluate, and so does not hold.
        if (value !== undefined) bindings[name] = value;
      }
      try {
        const result = run(bindings);
        return !isCelError(result) && result === true;
      } catch {
        return false;
      }
    },
  };
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(signature, rule);
  return { rule };
}

/** The rule that holds first for `values`: its index, or "default" when none does. */
export function firstHolding(
  rules: readonly { when: string }[],
  variables: readonly VariableDeclaration[],
  values: Values,
): number | "default" {
  for (const [index, { when }] of rules.entries()) {
    const compiledRule = compileRule(when, variables);
    // A tree is checked before it is stored: a refused rule here is one nobody could save.
    if ("rule" in compiledRule && compiledRule.rule.holds(values)) return index;
  }
  return "default";
}

/** Markdown's punctuation, escaped so that a value is always shown as text. */
const MARKDOWN_PUNCTUATION = /[\\`*_{}[\]()#+\-.!|~]/g;

function asMarkdownText(value: string): string {
  // On one line: a line break would let the next line start a block (a heading, a code block).
  return value
    .replace(/\s*[\r\n]+\s*/g, " ")
    .replace(MARKDOWN_PUNCTUATION, (character) => `\\${character}`)
    .replace(/[<>&]/g, (character) => {
      if (character === "<") return "&lt;";
      if (character === ">") return "&gt;";
      return "&amp;";
    });
}

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]{0,63})\s*\}\}/g;

/**
 * `text` with each `{{name}}` replaced by the variable's value (empty when unset): as plain text
 * for a title or a label, backslash-escaped as Markdown text for a node's body, so a value never
 * becomes markup.
 */
export function fillPlaceholders(text: string, values: Values, as: "text" | "markdown"): string {
  if (!text.includes("{{")) return text;
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = ownValue(values, name);
    const shown = value === undefined ? "" : String(value);
    return as === "markdown" ? asMarkdownText(shown) : shown;
  });
}
