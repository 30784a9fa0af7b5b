import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, nextAttemptAt, RETRY_WAITS_MS } from "../src/retry-schedule.js";

describe("the retry schedule", () => {
  it("waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each within ±20 %, then gives up", () => {
    const now = 1_000_000;
    for (const [index, wait] of RETRY_WAITS_MS.entries()) {
      const failed = index + 1;
      expect(nextAttemptAt(failed, now, () => 0)).toBe(now + wait * 0.8);
      expect(nextAttemptAt(failed, now, () => 0.5)).toBe(now + wait);
      expect(nextAttemptAt(failed, now, () => 0.999999)).toBeLessThanOrEqual(now + wait * 1.2);
    }
    expect(nextAttemptAt(MAX_ATTEMPTS, now)).toBeUndefined();
    expect(nextAttemptAt(0, now)).toBeUndefined();
    // About a day and a half at most, over hours as the issue asks.
    const total = RETRY_WAITS_MS.reduce((sum, wait) => sum + wait, 0);
    expect(total / 3_600_000).toBeGreaterThan(27);
    expect(total / 3_600_000).toBeLessThan(28);
  });

  it("spreads one outage's retries: a thousand deliveries do not come back in the same second", () => {
    const times = new Set(Array.from({ length: 1000 }, () => Math.floor((nextAttemptAt(3, 0) ?? 0) / 1000)));
    expect(times.size).toBeGreaterThan(200);
  });
});
