/**
 * A changed contract for a unit test: what a proto edit and `npm run generate` would give, so a
 * test shows that code reads the contract instead of a copy of it. Modules imported after
 * `withContract` see the change (import them with `await import(...)`); `undoContract` ends it.
 */
import { vi } from "vitest";

export type Contract = typeof import("@tdt/proto/tdt/contract");

export async function withContract(change: (contract: Contract) => Partial<Contract>): Promise<void> {
  vi.resetModules();
  vi.doMock("@tdt/proto/tdt/contract", async (importOriginal) => {
    const actual = await importOriginal<Contract>();
    return { ...actual, ...change(actual) };
  });
  // The outcomes module as its source, so that it reads the changed contract (its built copy is
  // loaded by Node, past the mock).
  vi.doMock("@tdt/proto/contracts/outcomes", () => import("../../proto/contracts/outcomes.js"));
}

export function undoContract(): void {
  vi.doUnmock("@tdt/proto/tdt/contract");
  vi.doUnmock("@tdt/proto/contracts/outcomes");
  vi.resetModules();
}

/**
 * Two outcomes more, as trees.proto would declare them: `workaround`, which a solution may
 * conclude, and `deferred`, which a technician may give away from a solution.
 */
export function withMoreOutcomes(): Promise<void> {
  return withContract(({ ENUMS }) => {
    const outcomes = ENUMS["tdt.trees.v1.Outcome"];
    return {
      ENUMS: {
        ...ENUMS,
        "tdt.trees.v1.Outcome": {
          values: [...outcomes.values, "workaround", "deferred"],
          numbers: { ...outcomes.numbers, workaround: 4, deferred: 5 },
          subsets: {
            solution: [...outcomes.subsets.solution, "workaround"],
            off_solution: [...outcomes.subsets.off_solution, "deferred"],
          },
        },
      } as unknown as Contract["ENUMS"],
    };
  });
}
