import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AUTH_EVENTS, AUTH_EVENTS_STREAM } from "@tdt/proto/contracts/auth-events";
import { connect as connectSql, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay, writeOutboxEvent } from "../src/events/outbox.js";
import { OUTBOX_MIGRATIONS } from "../src/events/outbox-migrations.js";
import { ensureStream } from "../src/events/streams.js";

let database: { name: string; url: string };
let sql: Sql;
let nats: PrivateNats;
let nc: NatsConnection;

beforeAll(async () => {
  database = await createDatabase("kit_outbox");
  sql = connectSql(database.url);
  for (const migration of OUTBOX_MIGRATIONS) await sql.unsafe(migration.sql);
  nats = await startPrivateNats();
  // As auth, the relay's user: the only one that may create the stream and publish auth.>.
  nc = await connect({ servers: nats.url, user: "auth", pass: nats.passwords.auth });
  await ensureStream(nc, AUTH_EVENTS);
});

afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
  await sql?.end();
  if (database) await dropDatabase(database.name);
});

async function streamCount(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(AUTH_EVENTS_STREAM)).state.messages;
}

describe("the outbox relay", () => {
  it("publishes every event exactly once with two relays sharing the table", async () => {
    const before = await streamCount();
    const relays = [1, 2].map(
      () => new OutboxRelay({ sql, nats: () => nc, log: testLogger(), pollIntervalMs: 50, batchSize: 7 }),
    );
    await Promise.all(relays.map((relay) => relay.start()));
    try {
      for (let i = 0; i < 20; i++) {
        await sql.begin(async (tx) => {
          for (let j = 0; j < 10; j++) {
            await writeOutboxEvent(tx, {
              id: randomUUID(),
              subject: "auth.session.revoked",
              payload: Buffer.from([i, j]),
            });
          }
        });
      }
      await expect
        .poll(async () => (await sql`select count(*)::int as n from outbox where sent_at is null`)[0]?.n, {
          timeout: 10_000,
        })
        .toBe(0);
      expect((await streamCount()) - before).toBe(200);
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
    }
  });

  it("publishes a session's events in the order they were written while another relay still holds the earlier one", async () => {
    // Step N is committed and claimed by a slow relay (here a transaction holding its row, as a
    // relay does while it publishes to a cluster); step N+1 is committed meanwhile. Another
    // relay must not publish N+1 before N: a consumer reads a session's steps in stream order.
    const subject = `auth.order.${randomUUID().slice(0, 8)}`;
    const relays = [1, 2].map(() => new OutboxRelay({ sql, nats: () => nc, log: testLogger(), pollIntervalMs: 20 }));
    await Promise.all(relays.map((relay) => relay.start()));
    const rounds = 5;
    try {
      for (let round = 0; round < rounds; round++) {
        const first = randomUUID();
        await sql.begin((tx) => writeOutboxEvent(tx, { id: first, subject, payload: Buffer.from(`${round}:0`) }));
        let release: () => void = () => {};
        let held: () => void = () => {};
        const holding = new Promise<void>((resolve) => {
          held = resolve;
        });
        const slowRelay = sql.begin(async (tx) => {
          await tx`select id from outbox where id = ${first} for update`;
          held();
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        });
        await holding;
        await sql.begin((tx) =>
          writeOutboxEvent(tx, { id: randomUUID(), subject, payload: Buffer.from(`${round}:1`) }),
        );
        for (const relay of relays) relay.nudge();
        await new Promise((wake) => setTimeout(wake, 300));
        release();
        await slowRelay;
      }
      await expect
        .poll(async () => (await sql`select count(*)::int as n from outbox where sent_at is null`)[0]?.n, {
          timeout: 10_000,
        })
        .toBe(0);
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
    }
    // Read as a consumer does (the gateway's user may read AUTH_EVENTS), in stream order; the
    // whole stream, as nats-server 2.9 has no subject filter for an ordered consumer.
    const reader = await connect({ servers: nats.url, user: "gateway", pass: nats.passwords.gateway });
    const order: string[] = [];
    try {
      const consumer = await jetstream(reader).consumers.get(AUTH_EVENTS_STREAM);
      const messages = await consumer.fetch({ max_messages: 100_000, expires: 3000 });
      for await (const message of messages) {
        if (message.subject === subject) order.push(message.string());
        if (order.length === rounds * 2) break;
      }
    } finally {
      await reader.close();
    }
    expect(order).toEqual(Array.from({ length: rounds }, (_, round) => [`${round}:0`, `${round}:1`]).flat());
  });

  it("keeps events while it has no NATS connection and sends them once it has one", async () => {
    let available: NatsConnection | undefined;
    const relay = new OutboxRelay({ sql, nats: () => available, log: testLogger(), pollIntervalMs: 50 });
    await relay.start();
    try {
      const before = await streamCount();
      await sql.begin((tx) =>
        writeOutboxEvent(tx, { id: randomUUID(), subject: "auth.user.deactivated", payload: Buffer.from([1]) }),
      );
      await new Promise((wake) => setTimeout(wake, 300));
      expect((await sql`select count(*)::int as n from outbox where sent_at is null`)[0]?.n).toBe(1);
      available = nc;
      await expect.poll(streamCount, { timeout: 5000 }).toBe(before + 1);
    } finally {
      await relay.stop();
    }
  });

  it("does not write an event whose transaction rolls back", async () => {
    const id = randomUUID();
    await sql
      .begin(async (tx) => {
        await writeOutboxEvent(tx, { id, subject: "auth.session.revoked", payload: Buffer.from([9]) });
        throw new Error("the change failed");
      })
      .catch(() => {});
    expect(await sql`select 1 from outbox where id = ${id}`).toHaveLength(0);
  });
});
