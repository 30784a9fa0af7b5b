import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import type { Sql, TransactionSql } from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inTransaction } from "../src/database/connection.js";

let database: { name: string; url: string };
let sql: Sql;

beforeAll(async () => {
  database = await createDatabase("kit_transactions");
  sql = connect(database.url);
  await sql`create table counters (name text primary key, value integer not null)`;
});

beforeEach(async () => {
  await sql`truncate counters`;
  await sql`insert into counters values ('a', 0), ('b', 0)`;
});

afterAll(async () => {
  await sql?.end();
  if (database) await dropDatabase(database.name);
});

/**
 * Two transactions that lock `a` and `b` in opposite orders, each waiting until both hold their
 * first row. A run again (after Postgres aborted it) locks in the one order `a`, `b`: crossed again
 * while the other still waits for its second row, it could deadlock a second time, and each
 * deadlock here is meant to be the one this pair sets up.
 */
function crossedPair(begin: (work: (tx: TransactionSql) => Promise<void>) => Promise<void>) {
  let held = 0;
  let release: () => void = () => {};
  const bothHold = new Promise<void>((resolve) => {
    release = resolve;
  });
  const attempts = { a: 0, b: 0 };
  const lockInOrder = (first: "a" | "b", second: "a" | "b") =>
    begin(async (tx) => {
      attempts[first] += 1;
      const order = attempts[first] === 1 ? [first, second] : ["a", "b"];
      await tx`update counters set value = value + 1 where name = ${order[0]}`;
      held += 1;
      if (held === 2) release();
      await bothHold;
      await tx`update counters set value = value + 1 where name = ${order[1]}`;
    });
  return { attempts, run: Promise.allSettled([lockInOrder("a", "b"), lockInOrder("b", "a")]) };
}

describe("inTransaction", () => {
  it("is needed: two transactions locking rows in opposite orders deadlock, and Postgres aborts one", async () => {
    const { run } = crossedPair(async (work) => {
      await sql.begin(work);
    });
    const outcomes = await run;
    const failures = outcomes.filter((outcome) => outcome.status === "rejected");
    expect(failures).toHaveLength(1);
    expect((failures[0] as PromiseRejectedResult).reason).toMatchObject({ code: "40P01" });
  });

  it("runs a transaction that Postgres aborted for a deadlock again, so both complete and nothing is lost", async () => {
    const { run, attempts } = crossedPair((work) => inTransaction(sql, work));
    const outcomes = await run;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(attempts.a + attempts.b).toBe(3);
    const rows = await sql<{ name: string; value: number }[]>`select name, value from counters order by name`;
    // Each transaction added one to both rows; the aborted attempt left nothing behind.
    expect(rows).toEqual([
      { name: "a", value: 2 },
      { name: "b", value: 2 },
    ]);
  });

  it("retries a serialization failure, and gives up after the bounded number of attempts", async () => {
    let calls = 0;
    const failing = inTransaction(
      sql,
      async () => {
        calls += 1;
        throw Object.assign(new Error("could not serialize access"), { code: "40001" });
      },
      3,
    );
    await expect(failing).rejects.toMatchObject({ code: "40001" });
    expect(calls).toBe(3);
  });

  it("does not retry any other error", async () => {
    let calls = 0;
    const failing = inTransaction(sql, async (tx) => {
      calls += 1;
      await tx`insert into counters values ('a', 1)`;
    });
    await expect(failing).rejects.toMatchObject({ code: "23505" });
    expect(calls).toBe(1);
  });
});
