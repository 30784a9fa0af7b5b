/**
 * How a session ends (`tdt.trees.v1.Outcome`), as every service and the web app read it: the list
 * and where each value may be given are the contract's (trees.proto); the old spellings still read
 * live here, once. Imported as `@tdt/proto/contracts/outcomes`; see docs/decisions/outcomes.md.
 */
import { ENUMS, type EnumValue } from "@tdt/proto/tdt/contract";

export type Outcome = EnumValue<"tdt.trees.v1.Outcome">;

const OUTCOME = ENUMS["tdt.trees.v1.Outcome"];

/** Every outcome, in the enum's order. */
export const OUTCOMES: readonly Outcome[] = OUTCOME.values;

/** What a solution node may conclude. */
export const SOLUTION_OUTCOMES: readonly Outcome[] = OUTCOME.subsets.solution;

/** What a technician may complete a session with away from a solution. */
export const OFF_SOLUTION_OUTCOMES: readonly Outcome[] = OUTCOME.subsets.off_solution;

/** Counts by outcome as `SessionCounts.outcomes` carries them: every outcome in the enum's order, 0 where `counts` has none. */
export function outcomeCounts(
  counts: Readonly<Partial<Record<string, number>>>,
): { outcome: Outcome; count: number }[] {
  return OUTCOMES.map((outcome) => ({ outcome, count: counts[outcome] ?? 0 }));
}

/**
 * Old spellings still read, each as today's, and never written: a solution's `escalate` became
 * `escalated` (docs/decisions/contract-enums-and-bounds.md). The trees service reads them in what
 * authors send, the sessions service in the tree copies older sessions run on, and the gateway's
 * tree input schema lets them through.
 */
export const OLD_OUTCOME_SPELLINGS: Readonly<Record<string, Outcome>> = { escalate: "escalated" };

/** `spelling` as today's outcome when it is an old spelling; anything else as it is. */
export function currentOutcomeSpelling(spelling: string): string {
  return Object.hasOwn(OLD_OUTCOME_SPELLINGS, spelling) ? (OLD_OUTCOME_SPELLINGS[spelling] as Outcome) : spelling;
}
