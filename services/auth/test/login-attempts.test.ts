/**
 * The login throttle's store against a real Postgres (src/login-attempts.ts): what the rules
 * say (test/login-throttle.test.ts) holds when attempts race, on several replicas at once.
 */
import type { AppError } from "@tdt/kit";
import { connect } from "@tdt/test-support/database";
import { within } from "@tdt/test-support/within";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginAttempts } from "../src/login-attempts.js";
import type { ThrottleRule, ThrottleRules } from "../src/login-throttle.js";
import { useAuthDatabase } from "./support/auth-database.js";

const PAIR_FREE = 5;
const ADDRESS_FREE = 10;
const rule = (freeFailures: number): ThrottleRule => ({
  freeFailures,
  firstDelaySeconds: 1,
  maxDelaySeconds: 900,
  forgetAfterSeconds: 3600,
});
const RULES: ThrottleRules = { pair: rule(PAIR_FREE), address: rule(ADDRESS_FREE) };

const database = useAuthDatabase("auth_login_attempts");
let sql: Sql;
/** Two replicas, each with its own pool, sharing the database. */
let replicas: LoginAttempts[];
const pools: Sql[] = [];

beforeAll(() => {
  sql = database.sql;
  pools.push(connect(database.url), connect(database.url));
  replicas = pools.map((pool) => new LoginAttempts(pool, RULES));
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

let unique = 0;
const newAddress = () => `198.51.100.${++unique}`;
const newEmail = () => `user-${++unique}@example.com`;

type Outcome = { started: true } | { started: false; retryAfterSeconds: number };

/** One attempt that fails (its charge stands), on replica `on`. */
async function failedAttempt(address: string, email: string, on = 0): Promise<Outcome> {
  try {
    await (replicas[on % replicas.length] as LoginAttempts).start({ address, email });
    return { started: true };
  } catch (error) {
    expect((error as AppError).code).toBe("too_many_attempts");
    return { started: false, retryAfterSeconds: (error as AppError).extra.retryAfterSeconds ?? Number.NaN };
  }
}

const startedCount = (outcomes: Outcome[]) => outcomes.filter((outcome) => outcome.started).length;

async function rowOf(address: string, email: string) {
  const [row] = await sql<{ failures: number }[]>`
    select failures from login_failures where client_address = ${address} and email = ${email}`;
  return row;
}

describe("racing attempts", () => {
  it("get no more tries than the rules allow: 20 wrong guesses at once for one pair, 12 trials", async () => {
    const startedPerTrial: number[] = [];
    for (let trial = 0; trial < 12; trial++) {
      const address = newAddress();
      const email = newEmail();
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => failedAttempt(address, email, i)));
      startedPerTrial.push(startedCount(outcomes));
      for (const outcome of outcomes) if (!outcome.started) expect(outcome.retryAfterSeconds).toBe(1);
      expect((await rowOf(address, email))?.failures).toBe(PAIR_FREE + 1);
    }
    expect(startedPerTrial).toEqual(Array(12).fill(PAIR_FREE + 1));
  });

  it("from one address over many emails get the address's free failures and one more, 6 trials", async () => {
    for (let trial = 0; trial < 6; trial++) {
      const address = newAddress();
      const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => failedAttempt(address, newEmail(), i)));
      expect(startedCount(outcomes)).toBe(ADDRESS_FREE + 1);
      expect((await rowOf(address, ""))?.failures).toBe(ADDRESS_FREE + 1);
    }
  });
});

describe("a pair", () => {
  it("is one email however it is spelt: case, surrounding spaces, Unicode composition", async () => {
    const address = newAddress();
    const spellings = ["josé@example.com", "  JOSÉ@example.com  ", "jose\u0301@EXAMPLE.com", "\tJosé@Example.Com"];
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await failedAttempt(address, spellings[i % spellings.length] as string));
    expect(outcomes.map((outcome) => outcome.started)).toEqual([true, true, true, true, true, true, false, false]);
    expect((await rowOf(address, "josé@example.com"))?.failures).toBe(PAIR_FREE + 1);
  });

  it("waiting at one address does not slow the same email at another", async () => {
    const email = newEmail();
    const attacker = newAddress();
    for (let i = 0; i < 10; i++) await failedAttempt(attacker, `  ${email.toUpperCase()} `);
    expect(await failedAttempt(attacker, email)).toMatchObject({ started: false });
    const owner = await (replicas[1] as LoginAttempts).start({ address: newAddress(), email });
    await owner.succeeded();
  });

  it("starts again after a success, and the success costs its address nothing", async () => {
    const address = newAddress();
    const email = newEmail();
    for (let i = 0; i < PAIR_FREE; i++) await failedAttempt(address, email);
    const addressBefore = (await rowOf(address, ""))?.failures;
    const right = await (replicas[0] as LoginAttempts).start({ address, email });
    await right.succeeded();
    expect((await rowOf(address, email))?.failures).toBe(0);
    expect((await rowOf(address, ""))?.failures).toBe(addressBefore);
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => failedAttempt(address, email, i)));
    expect(startedCount(again)).toBe(PAIR_FREE + 1);
  });

  it("answers an honest Retry-After: the attempt made that many seconds later is considered", async () => {
    const address = newAddress();
    const email = newEmail();
    for (let i = 0; i <= PAIR_FREE; i++) expect(await failedAttempt(address, email)).toEqual({ started: true });
    const refused = await failedAttempt(address, email);
    expect(refused).toEqual({ started: false, retryAfterSeconds: 1 });
    await new Promise((wake) => setTimeout(wake, 1000));
    expect(await failedAttempt(address, email)).toEqual({ started: true });
    // That was the 7th failure: the wait doubles.
    expect(await failedAttempt(address, email)).toEqual({ started: false, retryAfterSeconds: 2 });
  });

  it("is forgotten once quiet for as long as the rule remembers, and its row is deleted", async () => {
    const address = newAddress();
    const email = newEmail();
    for (let i = 0; i < 12; i++) await failedAttempt(address, email);
    await sql`update login_failures set last_failure_at = now() - interval '3601 seconds' where client_address = ${address}`;
    // A fresh replica cleans up at its first attempt.
    const fresh = new LoginAttempts(sql, RULES);
    await (await fresh.start({ address: newAddress(), email: newEmail() })).succeeded();
    expect(await rowOf(address, email)).toBeUndefined();
    expect(await failedAttempt(address, email)).toEqual({ started: true });
    expect((await rowOf(address, email))?.failures).toBe(1);
  });
});

describe("on a pool of one connection", () => {
  it("never waits for a second connection while holding one (test/pool-exhaustion.test.ts)", async () => {
    const pool = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const attempts = new LoginAttempts(pool, RULES);
      const address = newAddress();
      const started = await within(
        5000,
        Promise.all(Array.from({ length: 8 }, () => attempts.start({ address, email: newEmail() }))),
      );
      await within(5000, Promise.all(started.map((attempt) => attempt.succeeded())));
      expect((await rowOf(address, ""))?.failures).toBe(0);
    } finally {
      await pool.end({ timeout: 1 });
    }
  });
});
