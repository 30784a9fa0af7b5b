import { OUTCOMES, type Outcome, SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import type { SessionCounts } from "@tdt/proto/tdt/trees/v1/trees";

/**
 * The `sessions` of a tree's analytics over HTTP: one count a property, an outcome's named after
 * it. The outcomes stand between `completed` and `abandoned`, those a solution concludes first,
 * the order the answer had when each was a field of its own (docs/decisions/outcomes.md).
 */
export const COUNTED_OUTCOMES: readonly Outcome[] = [
  ...SOLUTION_OUTCOMES,
  ...OUTCOMES.filter((outcome) => !SOLUTION_OUTCOMES.includes(outcome)),
];

export const SESSION_COUNT_FIELDS: readonly string[] = ["started", "completed", ...COUNTED_OUTCOMES, "abandoned"];

/** What `sessions` is made from: SessionCounts without its deprecated fields, which it may still have. */
export type Counts = Pick<SessionCounts, "started" | "completed" | "abandoned" | "outcomes">;

/** `counts` as HTTP carries them: an outcome not counted is 0. */
export function sessionCountsBody(counts: Counts): Record<string, number> {
  const byOutcome = (outcome: Outcome) =>
    counts.outcomes.find((counted) => counted.outcome === outcome)?.count ??
    // A trees replica of v0.1.0 sends no `outcomes`, but a field named after each outcome.
    (counts as Counts & Partial<Record<Outcome, number>>)[outcome] ??
    0;
  return {
    started: counts.started,
    completed: counts.completed,
    ...Object.fromEntries(COUNTED_OUTCOMES.map((outcome) => [outcome, byOutcome(outcome)])),
    abandoned: counts.abandoned,
  };
}
