/**
 * The patched postgres.js driver (patches/postgres@3.4.9.patch) against a real server whose
 * backends are terminated, as a failover or a restart does: the query in flight fails with a
 * connection error (a 503 once mapped), nothing throws where no caller can catch it, a dead
 * transaction's later statements never run outside it, and the next query works.
 * Each case runs several trials; vitest fails the file on any uncaught exception.
 */

import { createDatabase, dropDatabase, SERVER_URL } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import { within } from "@tdt/test-support/within";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectDatabase } from "../src/database/connection.js";
import { isDatabaseUnavailable } from "../src/database/errors.js";

const TRIALS = 5;

let database: { name: string; url: string };
let admin: Sql;
let sql: Sql;

beforeAll(async () => {
  database = await createDatabase("kit_resets");
  admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  const setup = postgres(database.url, { max: 1, onnotice: () => {} });
  await setup`create table marks (label text not null)`;
  await setup.end();
});

beforeEach(async () => {
  await sql?.end({ timeout: 1 });
  sql = postgres(database.url, { max: 2, onnotice: () => {}, connect_timeout: 5 });
  await sql`truncate marks`;
});

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await admin?.end();
  if (database) await dropDatabase(database.name);
});

/** Terminates one backend and waits until the server has let it go. */
async function terminate(pid: number): Promise<void> {
  await admin`select pg_terminate_backend(${pid})`;
  for (let wait = 0; wait < 100; wait++) {
    const [alive] = await admin`select 1 as one from pg_stat_activity where pid = ${pid}`;
    if (!alive) break;
    await new Promise((wake) => setTimeout(wake, 10));
  }
  // The client's socket sees the close a moment after the server forgets the backend.
  await new Promise((wake) => setTimeout(wake, 50));
}

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("a backend terminated", () => {
  it("under a query in a transaction fails the transaction with a connection error; the next query works", async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      let pid = 0;
      let running: () => void = () => {};
      const inFlight = new Promise<void>((resolve) => {
        running = resolve;
      });
      const transaction = sql.begin(async (tx) => {
        [{ pid }] = await tx<[{ pid: number }]>`select pg_backend_pid() as pid`;
        running();
        await tx`select pg_sleep(5)`;
      });
      await inFlight;
      await new Promise((wake) => setTimeout(wake, 50));
      const [, error] = await Promise.all([terminate(pid), failureOf(transaction)]);
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
      expect(await within(3000, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    }
  });

  it("while idle is replaced: the next query works and does not see the old backend's error", async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const [{ pid }] = await sql<[{ pid: number }]>`select pg_backend_pid() as pid`;
      await terminate(pid);
      const answers = await within(3000, Promise.allSettled([sql`select 1 as one`, sql`select 2 as two`]));
      for (const answer of answers) {
        // A query that met the dying connection may fail, but only as a connection error.
        if (answer.status === "rejected")
          expect(isDatabaseUnavailable(answer.reason), String(answer.reason)).toBe(true);
      }
      expect(await within(3000, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    }
  });

  it("under a reserved connection fails its next query; after release the pool answers, never hangs", async () => {
    for (let trial = 0; trial < TRIALS * 4; trial++) {
      const reserved = await sql.reserve();
      const [{ pid }] = await reserved<[{ pid: number }]>`select pg_backend_pid() as pid`;
      // Every other trial does not wait for the client to notice: the release then races the
      // socket's error and close.
      if (trial % 2 === 0) await terminate(pid);
      else await admin`select pg_terminate_backend(${pid})`;
      const error = await failureOf(within(3000, reserved`select 1 as one`));
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
      reserved.release();
      // As with an idle connection: the socket's error can reach the client before its close, and
      // a query in between may meet the dying connection — as a connection error, never a hang.
      await within(3000, sql`select 1 as one`).catch((failure: unknown) => {
        if (String(failure).includes("no answer within")) throw failure;
        expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      });
      expect(await within(3000, sql`select 2 as two`)).toEqual([{ two: 2 }]);
    }
  });

  it("while a transaction waits on other work: its later statements fail, none runs outside it", async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const label = `trial-${trial}`;
      const transaction = sql.begin(async (tx) => {
        const [{ pid }] = await tx<[{ pid: number }]>`select pg_backend_pid() as pid`;
        await tx`insert into marks values (${`${label}-before`})`;
        // Work outside the database, during which the connection dies and the pool reconnects.
        await terminate(pid);
        await sql`select 1`;
        await tx`insert into marks values (${`${label}-after`})`;
      });
      const error = await failureOf(transaction);
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
      await new Promise((wake) => setTimeout(wake, 100));
      const marks = await within(3000, sql`select label from marks where label like ${`${label}-%`}`);
      expect(marks).toEqual([]);
    }
  });
});

describe("every backend terminated under load (the kit's pool)", () => {
  const CLIENTS = 20;
  const ROUNDS = 4;

  it("every query settles with an answer or a connection error, NOTIFY still arrives, and the pool works after", async () => {
    const pool = await connectDatabase({
      serverUrl: SERVER_URL,
      explicitUrl: database.url,
      database: database.name,
      log: testLogger(),
    });
    const notified: string[] = [];
    await pool.listen("kit_resets_wake", (payload) => notified.push(payload));
    const outcomes = new Map<string, number>();
    const unanswered: string[] = [];
    let stop = false;
    const worker = async (client: number) => {
      for (let round = 0; !stop; round++) {
        const kind = ["select", "insert", "transaction"][client % 3] as string;
        const work: PromiseLike<unknown> =
          kind === "select"
            ? pool`select label, count(*) over ()::int as total from marks order by label limit 20`
            : kind === "insert"
              ? pool`insert into marks values (${`load-${client}-${round}`})`
              : pool.begin(async (tx) => {
                  await tx`select label from marks order by label limit 1 for update`;
                  await tx`insert into marks values (${`tx-${client}-${round}`})`;
                });
        let outcome: string;
        try {
          // A hang is what this test is about: an answer later than this is counted as none.
          await within(3000, work);
          outcome = "ok";
        } catch (error) {
          if (String(error).includes("no answer within")) unanswered.push(kind);
          outcome = isDatabaseUnavailable(error) ? "unavailable" : `other: ${String(error)}`;
        }
        const key = `${kind} ${outcome}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: CLIENTS }, (_, client) => worker(client));
    const terminated: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((wake) => setTimeout(wake, 500));
      for (let reset = 0; reset < 3; reset++) {
        if (reset > 0) await new Promise((wake) => setTimeout(wake, 300));
        const rows = await admin`
          select pg_terminate_backend(pid) as done from pg_stat_activity
          where datname = ${database.name} and pid <> pg_backend_pid()`;
        terminated.push(rows.length);
      }
    }
    await new Promise((wake) => setTimeout(wake, 1000));
    stop = true;
    await Promise.all(workers);
    const summary = JSON.stringify({ terminated, outcomes: Object.fromEntries(outcomes), unanswered });

    expect(
      terminated.some((count) => count > 0),
      summary,
    ).toBe(true);
    expect(unanswered, summary).toEqual([]);
    expect(
      [...outcomes.keys()].filter((key) => !key.endsWith(" ok") && !key.endsWith(" unavailable")),
      summary,
    ).toEqual([]);
    expect(await within(3000, pool`select 1 as one`)).toEqual([{ one: 1 }]);
    // The subscription moved to the new pool: a notification sent now (on the same database,
    // as NOTIFY is per database) arrives.
    const notifier = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await expect
        .poll(
          async () => {
            await notifier`select pg_notify('kit_resets_wake', 'after')`;
            return notified.includes("after");
          },
          { timeout: 5000, interval: 200 },
        )
        .toBe(true);
    } finally {
      await notifier.end();
      await pool.end({ timeout: 1 });
    }
  }, 60_000);
});
