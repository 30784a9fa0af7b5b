/**
 * The login throttle's rules as a pure function of counts and times (src/login-throttle.ts):
 * the clock is a number passed in, so waits of minutes are checked in microseconds.
 */
import { describe, expect, it } from "vitest";
import {
  type AttemptDecision,
  decideAttempt,
  delayAfter,
  type FailureCount,
  givenBack,
  type ScopeCounts,
  type ThrottleRule,
  type ThrottleRules,
} from "../src/login-throttle.js";

const SECOND = 1000;
const PAIR: ThrottleRule = { freeFailures: 5, firstDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 3600 };
const ADDRESS: ThrottleRule = { ...PAIR, freeFailures: 20 };
const RULES: ThrottleRules = { pair: PAIR, address: ADDRESS };
const NONE: FailureCount = { failures: 0, lastFailureAt: null };
const T0 = 1_800_000_000_000;

/** Attempts decided one after another, each charge stored before the next is decided (as the store's lock makes them). */
function attempts(times: number[], start: ScopeCounts = { pair: NONE, address: NONE }, rules = RULES) {
  let counts = start;
  const decisions: AttemptDecision[] = [];
  for (const now of times) {
    const decision = decideAttempt(counts, rules, now);
    if (decision.allowed) counts = decision.charged;
    decisions.push(decision);
  }
  return { decisions, counts };
}

/** The pair's counts after `failures` failures, the last at `at`. */
const failed = (failures: number, at: number): FailureCount => ({ failures, lastFailureAt: at });

describe("the wait after a failure", () => {
  it("is none for the free failures, then 1 s doubling with each failure, up to the cap", () => {
    const waits = Array.from({ length: 18 }, (_, i) => delayAfter(i + 1, PAIR));
    expect(waits).toEqual([0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
  });

  it("stays at the cap however many failures there were", () => {
    expect(delayAfter(10_000, PAIR)).toBe(900);
  });
});

describe("deciding an attempt", () => {
  it("lets the free failures and one more through at once, then makes the pair wait", () => {
    const { decisions } = attempts(Array(8).fill(T0));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, true, true, true, false, false]);
    expect(decisions[6]).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it("charges every attempt it considers to both scopes, at the attempt's time", () => {
    const decision = decideAttempt({ pair: failed(2, T0), address: failed(7, T0) }, RULES, T0 + 5 * SECOND);
    expect(decision).toEqual({
      allowed: true,
      charged: { pair: failed(3, T0 + 5 * SECOND), address: failed(8, T0 + 5 * SECOND) },
      before: { pair: failed(2, T0), address: failed(7, T0) },
    });
  });

  it("answers the remaining wait rounded up to whole seconds", () => {
    const pair = failed(9, T0); // the 4th past the free ones: 8 s
    expect(decideAttempt({ pair, address: NONE }, RULES, T0)).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(decideAttempt({ pair, address: NONE }, RULES, T0 + 1)).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(decideAttempt({ pair, address: NONE }, RULES, T0 + 7001)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(decideAttempt({ pair, address: NONE }, RULES, T0 + 7999).allowed).toBe(false);
    expect(decideAttempt({ pair, address: NONE }, RULES, T0 + 8000).allowed).toBe(true);
  });

  it("is honest: a retry exactly Retry-After later is considered, one second sooner is not", () => {
    // Every count from 1 to 25 failures, and refusals at many moments inside each wait.
    for (let failures = 1; failures <= 25; failures++) {
      const wait = delayAfter(failures, PAIR) * SECOND;
      for (const into of [0, 1, 17, 499, 500, 999, 1000, 1001, wait / 2, wait - 1001, wait - 1000, wait - 1]) {
        if (into < 0 || into >= wait) continue;
        const counts = { pair: failed(failures, T0), address: NONE };
        const refused = decideAttempt(counts, RULES, T0 + into);
        if (refused.allowed) throw new Error(`allowed ${into} ms into a wait of ${wait} ms`);
        const retryAt = T0 + into + refused.retryAfterSeconds * SECOND;
        expect(decideAttempt(counts, RULES, retryAt).allowed).toBe(true);
        expect(decideAttempt(counts, RULES, retryAt - SECOND).allowed).toBe(false);
      }
    }
  });

  it("does not count a refusal: waiting as told always gets the next attempt considered", () => {
    const start = { pair: failed(8, T0), address: NONE }; // 4 s
    const refusedEveryHalfSecond = Array.from({ length: 8 }, (_, i) => T0 + i * 500);
    const { decisions, counts } = attempts(refusedEveryHalfSecond, start);
    expect(decisions.every((decision) => !decision.allowed)).toBe(true);
    expect(counts).toEqual(start);
    expect(decideAttempt(counts, RULES, T0 + 4 * SECOND).allowed).toBe(true);
  });

  it("gives an attacker who always retries as soon as allowed the doubling waits and no more", () => {
    let now = T0;
    let counts: ScopeCounts = { pair: NONE, address: NONE };
    const gaps: number[] = [];
    while (counts.pair.failures < 20) {
      const decision = decideAttempt(counts, RULES, now);
      if (decision.allowed) {
        counts = decision.charged;
      } else {
        gaps.push(decision.retryAfterSeconds);
        now += decision.retryAfterSeconds * SECOND;
      }
    }
    // 20 failures: the 6th to the 19th each made the next wait.
    expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]);
  });

  it("refuses while the address waits, with the longer of the two waits", () => {
    const address = failed(23, T0); // 3rd past the address's free 20: 4 s
    expect(decideAttempt({ pair: NONE, address }, RULES, T0 + 1000)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    const pair = failed(10, T0); // 16 s
    expect(decideAttempt({ pair, address }, RULES, T0 + 1000)).toEqual({ allowed: false, retryAfterSeconds: 15 });
  });

  it("never refuses a pair with no failures from an address still within its free failures", () => {
    for (let addressFailures = 0; addressFailures <= ADDRESS.freeFailures; addressFailures++) {
      const counts = { pair: NONE, address: failed(addressFailures, T0) };
      expect(decideAttempt(counts, RULES, T0).allowed).toBe(true);
    }
  });

  it("forgets a scope's failures once the last is as old as the rule remembers", () => {
    const counts = { pair: failed(14, T0), address: NONE };
    const later = T0 + PAIR.forgetAfterSeconds * SECOND;
    const decision = decideAttempt(counts, RULES, later);
    expect(decision).toMatchObject({ allowed: true, charged: { pair: failed(1, later) }, before: { pair: NONE } });
    expect(decideAttempt(counts, RULES, later - 1)).toMatchObject({
      allowed: true,
      charged: { pair: failed(15, later - 1) },
    });
  });
});

describe("a burst of attempts at one moment", () => {
  it.each([1, 3, 5, 10])("gets the free failures and one more when %i are free", (freeFailures) => {
    const rules = { pair: { ...PAIR, freeFailures }, address: ADDRESS };
    const { decisions } = attempts(Array(40).fill(T0), undefined, rules);
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(freeFailures + 1);
  });

  it("from many emails gets the address's free failures and one more", () => {
    // Each email is its own pair; the address row is shared.
    let address = NONE;
    let allowed = 0;
    for (let email = 0; email < 100; email++) {
      const decision = decideAttempt({ pair: NONE, address }, RULES, T0);
      if (!decision.allowed) continue;
      allowed++;
      address = decision.charged.address;
    }
    expect(allowed).toBe(ADDRESS.freeFailures + 1);
  });
});

describe("giving back a successful attempt's charge", () => {
  const before = failed(4, T0);
  const charged = failed(5, T0 + 60 * SECOND);

  it("restores the count as it was when nothing was charged since", () => {
    expect(givenBack(charged, charged, before)).toEqual(before);
  });

  it("takes one failure off, keeping a later charge's time, when a racing attempt was charged since", () => {
    const later = failed(6, T0 + 61 * SECOND);
    expect(givenBack(later, charged, before)).toEqual(failed(5, T0 + 61 * SECOND));
  });

  it("leaves the count as if the attempt had never started, whichever order racing attempts end in", () => {
    const rules = RULES;
    const start: ScopeCounts = { pair: NONE, address: failed(10, T0) };
    const at = T0 + 10 * SECOND;
    const first = decideAttempt(start, rules, at);
    if (!first.allowed) throw new Error("first refused");
    const second = decideAttempt({ pair: NONE, address: first.charged.address }, rules, at + 1);
    if (!second.allowed) throw new Error("second refused");
    // The second succeeds first, then the first: both gone, the count as at the start.
    const afterSecond = givenBack(second.charged.address, second.charged.address, second.before.address);
    expect(givenBack(afterSecond, first.charged.address, first.before.address)).toEqual(start.address);
    // The first succeeds first: one failure fewer at once, none after the second.
    const afterFirst = givenBack(second.charged.address, first.charged.address, first.before.address);
    expect(afterFirst.failures).toBe(11);
    expect(givenBack(afterFirst, second.charged.address, second.before.address).failures).toBe(10);
  });

  it("never goes below zero", () => {
    expect(givenBack(NONE, charged, before)).toEqual(NONE);
  });
});
