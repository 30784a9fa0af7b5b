/**
 * How the typed-client program checks an answer: a status and its typed body, a 204, a refusal
 * with one of the operation's documented `detail` codes, or a 422 at a place. A failed check
 * throws a `Mismatch` naming what was expected and what came.
 */
export class Mismatch extends Error {}

let checks = 0;

export function checksPassed(): number {
  return checks;
}

export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Mismatch(what);
  checks += 1;
}

export function equal<T>(actual: T, expected: T, what: string): void {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export interface Answered<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** The typed body of a successful answer with this status. */
export function answered<D, E>(result: Answered<D, E>, status: number, what: string): D {
  check(
    result.response.status === status && result.data !== undefined,
    `${what}: expected ${status}, got ${result.response.status} ${JSON.stringify(result.error ?? result.data)}`,
  );
  return result.data;
}

/** A 204: the call succeeded with nothing to say. */
export function noContent(result: Answered<unknown, unknown>, what: string): void {
  check(
    result.response.status === 204,
    `${what}: expected 204, got ${result.response.status} ${JSON.stringify(result.error)}`,
  );
}

/** A refusal with this status and `detail` code; the code must be one the operation documents. */
export function refused<E extends { detail: unknown }>(
  result: Answered<unknown, E>,
  status: number,
  code: E["detail"],
  what: string,
): void {
  const { error, response } = result;
  check(
    response.status === status && error?.detail === code,
    `${what}: expected ${status} ${JSON.stringify(code)}, got ${response.status} ${JSON.stringify(error ?? result.data)}`,
  );
}

/** A 422 whose problems include one at `loc`. */
export function invalid<E extends { detail: unknown }>(
  result: Answered<unknown, E>,
  loc: Array<string | number>,
  what: string,
) {
  const { error, response } = result;
  const problems = error?.detail;
  check(
    response.status === 422 &&
      Array.isArray(problems) &&
      problems.some((problem: { loc: Array<string | number> }) => problem.loc.join("/") === loc.join("/")),
    `${what}: expected 422 at ${loc.join("/")}, got ${response.status} ${JSON.stringify(error)}`,
  );
}

/** The `X-Total-Count` of a list. */
export function totalCount(response: Response): number {
  return Number(response.headers.get("x-total-count"));
}
