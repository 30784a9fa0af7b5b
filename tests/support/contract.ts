/**
 * A changed contract for a unit test: what a proto edit and `npm run generate` would give, so a
 * test shows that code reads the contract instead of a copy of it. Modules imported after
 * `withContract` see the change (import them with `await import(...)`); `undoContract` ends it.
 */
import { vi } from "vitest";

export type Contract = typeof import("@tdt/proto/tdt/contract");

export async function withContract(change: (contract: Contract) => Partial<Contract>): Promise<void> {
  vi.resetModules();
  const actual = await vi.importActual<Contract>("@tdt/proto/tdt/contract");
  const changed = { ...actual, ...change(actual) };
  vi.doMock("@tdt/proto/tdt/contract", () => changed);
  // The outcomes module as its source, so that it reads the changed contract (its built copy is
  // loaded by Node, past the mock).
  vi.doMock("@tdt/proto/contracts/outcomes", () => import("../../proto/contracts/outcomes.js"));
  // The generated JSON Schemas spell each closed list out: each changed one, as `npm run generate` would.
  const lists = changedLists(actual.ENUMS, changed.ENUMS);
  vi.doMock("@tdt/proto/tdt/schemas", async (importOriginal) => withLists(await importOriginal(), lists));
}

export function undoContract(): void {
  for (const module of ["@tdt/proto/tdt/contract", "@tdt/proto/contracts/outcomes", "@tdt/proto/tdt/schemas"]) {
    vi.doUnmock(module);
  }
  vi.resetModules();
}

type Lists = Map<string, readonly string[]>;

/** Each list of values (an enum's, a subset's) that `changed` changes: the old one as JSON, the new one. */
function changedLists(actual: Contract["ENUMS"], changed: Contract["ENUMS"]): Lists {
  type Entry = { readonly values: readonly string[]; readonly subsets?: Readonly<Record<string, readonly string[]>> };
  const after = changed as Record<string, Entry>;
  const lists: Lists = new Map();
  for (const [name, was] of Object.entries(actual as Record<string, Entry>)) {
    const now = after[name];
    if (!now) continue;
    lists.set(JSON.stringify(was.values), now.values);
    for (const [subset, values] of Object.entries(was.subsets ?? {})) {
      lists.set(JSON.stringify(values), now.subsets?.[subset] ?? values);
    }
  }
  return lists;
}

/** `value` with every list that `lists` changes replaced (a nullable field's list ends in `null`). */
function withLists(value: unknown, lists: Lists): unknown {
  if (Array.isArray(value)) {
    const nullable = value.length > 0 && value.at(-1) === null;
    const changed = lists.get(JSON.stringify(nullable ? value.slice(0, -1) : value));
    if (changed) return nullable ? [...changed, null] : changed;
    return value.map((item) => withLists(item, lists));
  }
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withLists(item, lists)]));
}

/**
 * Two outcomes more, as trees.proto would declare them: `fake_workaround`, which a solution may
 * conclude, and `fake_deferred`, which a technician may give away from a solution (names no real
 * outcome will take).
 */
export function withMoreOutcomes(): Promise<void> {
  return withContract(({ ENUMS }) => {
    const outcomes = ENUMS["tdt.trees.v1.Outcome"];
    return {
      ENUMS: {
        ...ENUMS,
        "tdt.trees.v1.Outcome": {
          values: [...outcomes.values, "fake_workaround", "fake_deferred"],
          numbers: { ...outcomes.numbers, fake_workaround: 1000, fake_deferred: 1001 },
          subsets: {
            solution: [...outcomes.subsets.solution, "fake_workaround"],
            off_solution: [...outcomes.subsets.off_solution, "fake_deferred"],
          },
        },
      } as unknown as Contract["ENUMS"],
    };
  });
}
