/**
 * When a failed delivery is tried again: Standard Webhooks' schedule (5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h after each failure, about a day in all), each wait moved by up to ±20 % so
 * that the deliveries of one outage do not all come back at once.
 */

/** The wait after the n-th failed attempt (1-based), before jitter. */
export const RETRY_WAITS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;

/** Attempts in all: the first and one after each wait. */
export const MAX_ATTEMPTS = RETRY_WAITS_MS.length + 1;

const JITTER = 0.2;

/**
 * When to try again after `failedAttempts` failed attempts, or undefined when they were all:
 * the delivery has failed. `random` is in [0, 1), as Math.random gives; `waits` is the schedule
 * (WEBHOOK_RETRY_SCHEDULE's).
 */
export function nextAttemptAt(
  failedAttempts: number,
  now: number,
  random: () => number = Math.random,
  waits: readonly number[] = RETRY_WAITS_MS,
): number | undefined {
  const wait = waits[failedAttempts - 1];
  if (wait === undefined || failedAttempts < 1) return undefined;
  return now + Math.round(wait * (1 - JITTER + 2 * JITTER * random()));
}
