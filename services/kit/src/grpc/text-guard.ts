import type { Problem } from "./errors.js";

/**
 * How deeply a value may nest wherever input enters (a JSON body at the gateway, a request over
 * gRPC, a `google.protobuf.Struct` inside it), counted from the request itself. A tree document
 * is five levels deep and a session's context a few more: 32 is far past any real input, far
 * short of what would exhaust a stack in code that walks it recursively (serialisers, encoders),
 * and short of the generated protobuf decoder's own limit (100 messages deep, and a Struct costs
 * three per level), so whatever the gateway accepts a service can decode.
 */
export const MAX_NESTING_DEPTH = 32;

type Loc = Problem["loc"];

/**
 * What no service can store or walk safely, wherever it is in `value`: U+0000 in a string or in
 * an object key (PostgreSQL refuses it in text and jsonb alike; found in a query it would be a
 * 500) and nesting deeper than MAX_NESTING_DEPTH. Each problem is at the path that carries it.
 *
 * The walk is iterative and stops descending at the limit, so no input, however deep, can
 * overflow the stack here or make the paths it builds grow past the limit.
 */
export function inputProblems(value: unknown, root: Loc = ["body"]): Problem[] {
  const problems: Problem[] = [];
  const pending: Array<{ value: unknown; loc: Loc; depth: number; nulKey?: boolean }> = [
    { value, loc: root, depth: 0 },
  ];
  while (pending.length > 0) {
    const { value: item, loc, depth, nulKey } = pending.pop() as (typeof pending)[number];
    if (nulKey) problems.push({ loc, msg: "The NUL character is not allowed in a key", type: "key_nul" });
    if (typeof item === "string") {
      if (item.includes("\u0000")) problems.push({ loc, msg: "The NUL character is not allowed", type: "string_nul" });
      continue;
    }
    if (!item || typeof item !== "object" || Buffer.isBuffer(item) || item instanceof Uint8Array) continue;
    if (depth >= MAX_NESTING_DEPTH) {
      problems.push({ loc, msg: `Nested more than ${MAX_NESTING_DEPTH} levels deep`, type: "too_deep" });
      continue;
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(item)
      ? item.map((child, index) => [index, child])
      : Object.entries(item);
    // Reversed onto the stack, so that problems come out in document order.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index] as [string | number, unknown];
      const nul = typeof key === "string" && key.includes("\u0000");
      pending.push({ value: child, loc: [...loc, key], depth: depth + 1, ...(nul ? { nulKey: true } : {}) });
    }
  }
  return problems;
}

/**
 * True when JSON `text` opens more than `limit` arrays or objects inside one another. A scan of
 * the raw text, before anything parses it: the answer costs one pass and no stack, however
 * deep the text goes (`[[[[…` a million times fits in 2 MB).
 */
export function jsonNestsDeeperThan(text: string, limit: number = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index++; // a backslash escapes the next character, `"` included
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > limit) return true;
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return false;
}
