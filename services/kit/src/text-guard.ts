import type { Problem } from "./errors.js";

/**
 * PostgreSQL cannot store U+0000 in text or jsonb: a string carrying one would fail deep in a
 * query as a 500. Found here first, it is the client's 422, at the field that carries it.
 */
export function nulCharacterProblems(value: unknown, path: (string | number)[] = ["body"]): Problem[] {
  if (typeof value === "string") {
    return value.includes("\u0000") ? [{ loc: path, msg: "The NUL character is not allowed", type: "string_nul" }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => nulCharacterProblems(item, [...path, index]));
  if (value && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.entries(value).flatMap(([key, item]) => nulCharacterProblems(item, [...path, key]));
  }
  return [];
}
