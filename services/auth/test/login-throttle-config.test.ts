/** The login throttle's settings (src/config.ts), read from a given environment. */
import { ConfigError } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { authConfig } from "../src/config.js";

const read = (source: Record<string, string>) => authConfig.loginThrottle.read(source);

describe("the login throttle's settings", () => {
  it("default to 5 free failures per email and address, 10 per address, waits from 1 s to 15 min", () => {
    expect(read({})).toEqual({
      pair: { freeFailures: 5, firstDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 86_400 },
      address: { freeFailures: 10, firstDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 3600 },
    });
  });

  it("take an address's free failures from LOGIN_RATE_LIMIT_PER_MINUTE unless given their own", () => {
    expect(read({ LOGIN_RATE_LIMIT_PER_MINUTE: "3" }).address.freeFailures).toBe(3);
    const both = { LOGIN_RATE_LIMIT_PER_MINUTE: "3", LOGIN_FREE_FAILURES_PER_ADDRESS: "50" };
    expect(read(both).address.freeFailures).toBe(50);
  });

  it("remember a pair for four of the longest waits when that is over a day", () => {
    const rules = read({ LOGIN_FREE_FAILURES: "8", LOGIN_MAX_DELAY_SECONDS: "36000" });
    expect(rules.pair).toMatchObject({ freeFailures: 8, maxDelaySeconds: 36_000, forgetAfterSeconds: 144_000 });
    expect(rules.address.forgetAfterSeconds).toBe(144_000);
  });

  it.each([
    [{ LOGIN_FREE_FAILURES: "0" }, "LOGIN_FREE_FAILURES must be between 1 and 1000000, got 0"],
    [{ LOGIN_FREE_FAILURES_PER_ADDRESS: "many" }, 'LOGIN_FREE_FAILURES_PER_ADDRESS must be a whole number, got "many"'],
    [{ LOGIN_MAX_DELAY_SECONDS: "90000" }, "LOGIN_MAX_DELAY_SECONDS must be between 1 and 86400, got 90000"],
  ])("refuse %o", (source, message) => {
    expect(() => read(source)).toThrow(ConfigError);
    expect(() => read(source)).toThrow(message);
  });
});
