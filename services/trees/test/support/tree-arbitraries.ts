import { SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import type { Node, Option, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import fc from "fast-check";

/** Text of 1..max code points that is never blank: any Unicode after a letter. */
const text = (max: number) => fc.string({ unit: "binary", maxLength: max - 1 }).map((rest) => `T${rest}`);
const optionalText = (max: number) => fc.string({ unit: "binary", maxLength: max });
const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);

/**
 * Random valid trees: random DAGs built in topological order. Node k (k ≥ 1) gets an incoming
 * edge from a `parent` before it, so everything is reachable from node 0, the root; every edge
 * points to a later node, so there are no cycles; the last nodes are the solutions and every
 * other node gets at least one edge, so every path ends at a solution. The array is shuffled
 * so the validator cannot lean on the order.
 */
export const validTree: fc.Arbitrary<TreeInput> = fc.integer({ min: 1, max: 30 }).chain((count) =>
  fc
    .record({
      ids: fc.uniqueArray(id, { minLength: count, maxLength: count }),
      solutionCount: fc.integer({ min: 1, max: Math.max(1, count - 1) }),
      parents: fc.array(fc.nat(), { minLength: count, maxLength: count }),
      extraEdges: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: count * 2 }),
      asQuestion: fc.array(fc.boolean(), { minLength: count, maxLength: count }),
      titles: fc.array(text(200), { minLength: count, maxLength: count }),
      bodies: fc.array(optionalText(300), { minLength: count, maxLength: count }),
      outcomes: fc.array(fc.constantFrom(...SOLUTION_OUTCOMES), { minLength: count, maxLength: count }),
      order: fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }),
      title: text(200),
      description: optionalText(500),
      category: text(100),
      tags: fc.uniqueArray(text(50), { maxLength: 20 }),
      status: fc.constantFrom("draft", "published"),
      change_note: optionalText(1_000),
    })
    .map((shape): TreeInput => {
      const inner = count - shape.solutionCount; // nodes [0, inner) lead on; [inner, count) are solutions
      const targets: number[][] = Array.from({ length: count }, () => []);
      for (let k = 1; k < count; k++) targets[shape.parents[k] % Math.min(k, inner)].push(k);
      for (const [a, b] of inner > 0 ? shape.extraEdges : []) {
        const from = a % inner;
        targets[from].push(from + 1 + (b % (count - from - 1)));
      }
      for (let k = 0; k < inner; k++) {
        if (targets[k].length === 0) targets[k].push(k + 1);
      }

      const nodeAt = (k: number): Node => {
        const base = { id: shape.ids[k], title: shape.titles[k], body: shape.bodies[k], fields: [], rules: [] };
        const out = targets[k];
        if (k >= inner) return { ...base, type: "solution", options: [], outcome: shape.outcomes[k] };
        if (out.length === 1 && !shape.asQuestion[k]) {
          return { ...base, type: "action", options: [], next: shape.ids[out[0]] };
        }
        const options = out.map((to, j): Option => ({ id: `o${j}.x-Y_`, label: `Choice ${j}`, next: shape.ids[to] }));
        return { ...base, type: "question", options };
      };
      return {
        title: shape.title,
        description: shape.description,
        category: shape.category,
        tags: shape.tags,
        status: shape.status,
        root_node_id: shape.ids[0],
        change_note: shape.change_note,
        variables: [],
        language: "en",
        nodes: shape.order.map(nodeAt),
      };
    }),
);

/** Strings that sometimes name each other: a small pool of ids mixed with anything at all. */
const reference = fc.oneof(fc.constantFrom("a", "b", "c", "", "a "), fc.string(), fc.string({ unit: "binary" }));
const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.constant(""));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** The fields of a TreeInput as junk: empty, duplicate, dangling, unicode, mistyped. */
const junkFields = {
  title: anyText,
  description: anyText,
  category: anyText,
  tags: fc.array(anyText, { maxLength: 25 }),
  status: fc.oneof(fc.constantFrom("draft", "published"), anyText),
  root_node_id: reference,
  change_note: anyText,
  language: fc.oneof(fc.constantFrom("en", "de", "pt-BR", "", "EN", "de_DE"), anyText),
  variables: fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom("pages", "tier", "Pages", ""), anyText),
      type: fc.oneof(fc.constantFrom("text", "number", "boolean", "choice", "date"), anyText),
      default: maybe(fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null))),
      choices: fc.array(anyText, { maxLength: 3 }),
    }),
    { maxLength: 4 },
  ),
};

const junkNodeFields = {
  id: reference,
  type: fc.oneof(fc.constantFrom("question", "action", "solution", "form", "logic"), anyText),
  title: anyText,
  body: anyText,
  options: fc.array(fc.record({ id: reference, label: anyText, next: reference }), { maxLength: 4 }),
  next: maybe(reference),
  outcome: maybe(fc.oneof(fc.constantFrom(...SOLUTION_OUTCOMES), anyText)),
  fields: fc.array(
    fc.record({
      id: reference,
      label: anyText,
      variable: fc.oneof(fc.constantFrom("pages", "tier"), anyText),
      type: fc.oneof(fc.constantFrom("text", "number", "choice"), anyText),
      required: fc.boolean(),
      min: maybe(fc.double()),
      max: maybe(fc.double()),
      choices: fc.array(anyText, { maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
  rules: fc.array(
    fc.record({
      when: fc.oneof(fc.constantFrom("pages > 3", "tier == 'a'", "true", "x.y", "(", "[1].all(x, x > 0)"), anyText),
      next: reference,
    }),
    { maxLength: 3 },
  ),
  default_next: maybe(reference),
};

/** Anything the TreeInput type allows. */
export const junkTree: fc.Arbitrary<TreeInput> = fc.record({
  ...junkFields,
  nodes: fc.array(fc.record(junkNodeFields), { maxLength: 12 }),
});

/** Junk with fields left out, as JSON read straight into a TreeInput can be. */
export const sparseJunkTree = fc.record(
  { ...junkFields, nodes: fc.array(fc.record(junkNodeFields, { requiredKeys: [] }), { maxLength: 12 }) },
  { requiredKeys: [] },
);
