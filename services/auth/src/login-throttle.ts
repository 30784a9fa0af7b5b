/**
 * How password logins are slowed (issue 23): progressive delays, never a lockout.
 *
 * Failures are counted in two scopes: per pair (one email from one client address) and per
 * client address (every email from it). A scope's first `freeFailures` cost nothing; each
 * failure after them makes the scope wait before its next attempt is even considered, twice as
 * long as the wait before, up to `maxDelaySeconds`. Nothing is counted per email alone, so
 * failures from other addresses never refuse a correct password from an address that has not
 * failed. A success ends its pair's failures; a scope with no failure for `forgetAfterSeconds`
 * starts again.
 *
 * Every attempt the throttle lets through is charged as a failure when it starts and given back
 * when its password proves right: racing attempts each see the others' charges, so a burst gets
 * no more tries than the rules allow one attempt at a time.
 *
 * Pure: counts and times in, a decision out. Times are epoch milliseconds, the clock passed in.
 */

export interface ThrottleRule {
  /** Failures with no wait after them. */
  freeFailures: number;
  /** The wait after the first failure past the free ones; each further failure doubles it. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** A scope whose last failure is this old counts from zero again. */
  forgetAfterSeconds: number;
}

export interface ThrottleRules {
  /** One email from one client address. */
  pair: ThrottleRule;
  /** Every email from one client address: credential stuffing. */
  address: ThrottleRule;
}

/** A scope's failures as stored: how many, and when the last was charged (epoch ms; null if never). */
export interface FailureCount {
  failures: number;
  lastFailureAt: number | null;
}

export type Scope = keyof ThrottleRules;
export type ScopeCounts = Record<Scope, FailureCount>;

export type AttemptDecision =
  /** `charged` is what to store; `before` is what a success gives back to. */
  | { allowed: true; charged: ScopeCounts; before: ScopeCounts }
  /** Whole seconds, rounded up: an attempt made that much later is considered. */
  | { allowed: false; retryAfterSeconds: number };

const NO_FAILURES: FailureCount = { failures: 0, lastFailureAt: null };
const SCOPES: Scope[] = ["pair", "address"];

/** The wait (seconds) after a scope's `failures`-th failure. */
export function delayAfter(failures: number, rule: ThrottleRule): number {
  const beyondFree = failures - rule.freeFailures;
  if (beyondFree <= 0) return 0;
  return Math.min(rule.maxDelaySeconds, rule.firstDelaySeconds * 2 ** (beyondFree - 1));
}

/** The count as it stands at `now`: nothing once the last failure is older than the rule remembers. */
export function currentCount(count: FailureCount, rule: ThrottleRule, now: number): FailureCount {
  if (count.lastFailureAt === null || now - count.lastFailureAt >= rule.forgetAfterSeconds * 1000) return NO_FAILURES;
  return count;
}

/**
 * Whether an attempt starting at `now` is considered: only when neither scope is still waiting.
 * Considered, it is charged to both scopes; refused, nothing changes (a refusal is not a failure,
 * so waiting out `retryAfterSeconds` is always enough).
 */
export function decideAttempt(counts: ScopeCounts, rules: ThrottleRules, now: number): AttemptDecision {
  const before = {
    pair: currentCount(counts.pair, rules.pair, now),
    address: currentCount(counts.address, rules.address, now),
  };
  const remainingMs = Math.max(...SCOPES.map((scope) => waitLeft(before[scope], rules[scope], now)));
  if (remainingMs > 0) return { allowed: false, retryAfterSeconds: Math.ceil(remainingMs / 1000) };
  const charge = (count: FailureCount): FailureCount => ({ failures: count.failures + 1, lastFailureAt: now });
  return { allowed: true, charged: { pair: charge(before.pair), address: charge(before.address) }, before };
}

/**
 * A scope's count once an attempt's charge is given back. Untouched since the charge: as it was
 * before it. Charged again since by a racing attempt: one failure fewer, the later charge's time
 * kept (as if this attempt had never been charged).
 */
export function givenBack(stored: FailureCount, charged: FailureCount, before: FailureCount): FailureCount {
  const untouched = stored.failures === charged.failures && stored.lastFailureAt === charged.lastFailureAt;
  if (untouched) return before;
  return { failures: Math.max(0, stored.failures - 1), lastFailureAt: stored.lastFailureAt };
}

function waitLeft(count: FailureCount, rule: ThrottleRule, now: number): number {
  if (count.lastFailureAt === null) return 0;
  return count.lastFailureAt + delayAfter(count.failures, rule) * 1000 - now;
}
