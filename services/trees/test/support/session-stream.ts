/**
 * A trees database and a SESSION_EVENTS stream of many sessions, for the analytics rebuild's tests
 * and its measurement (issue 31): the database migrated as the CLI does, the stream made and
 * filled as the sessions service would (its NATS user, the Tdt-Organization header), and the
 * live consumer run as the service runs it (trees_app, behind the organization wall).
 */
import { createHash, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import {
  connectNats,
  consumeDurably,
  ensureStream,
  migrate,
  type NatsConnection,
  ORGANIZATION_HEADER,
  OUTBOX_MIGRATIONS,
} from "@tdt/kit";
import {
  encodeSessionEvent,
  SESSION_EVENTS,
  SESSION_SUBJECTS,
  type SessionEvent,
} from "@tdt/proto/contracts/session-events";
import { connect, createDatabase, dropDatabase, urlOf } from "@tdt/test-support/database";
import type { PrivateNats } from "@tdt/test-support/nats";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres, { type Sql } from "postgres";
import { expect } from "vitest";
import { analyticsConsumer } from "../../src/analytics.js";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Two organizations, the default one and another, each with trees of its own. */
export const ORGANIZATIONS = ["00000000-0000-4000-8000-000000000001", "7d1c1f3e-5b52-4c1e-9a53-0e6f3f0c2a11"];
const NODES = ["power", "paper", "toner", "plug", "power2", "refill", "refilled", "repair"];
const OUTCOMES = ["resolved", "escalated", "unresolved"];

export interface GeneratedStream {
  trees: Array<{ id: string; organization: string }>;
  /** Events in the order they go on the stream, each with its organization. */
  events: Array<{ item: SessionEvent; organization: string }>;
}

/** A small deterministic generator, so that a failure can be run again on the same stream. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Sessions enough for `count` events or more: each starts, takes 1–8 steps (answers, continues,
 * a step back now and then, into a linked tree at times), and ends completed (7 in 10, every
 * outcome), abandoned (1 in 10, and a few completed ones abandoned after) or still running; now
 * and then an event is on the stream twice (republished under another message id), or a
 * completion before the step that led to its node.
 * `startAt` places them in time (one second apart per session).
 */
export function generateSessions(count: number, seed = 31, startAt = Date.UTC(2026, 10, 1)): GeneratedStream {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const trees = Array.from({ length: 24 }, (_, index) => ({
    id: randomUUID(),
    organization: ORGANIZATIONS[index % 2] as string,
  }));
  const linked = randomUUID();
  const events: GeneratedStream["events"] = [];
  let clock = startAt;
  while (events.length < count) {
    const tree = pick(trees);
    const base = {
      session_id: randomUUID(),
      tree_id: tree.id,
      tree_version: 1 + Math.floor(next() * 3),
      user_id: randomUUID(),
      organization_id: tree.organization === ORGANIZATIONS[0] ? "" : tree.organization,
    };
    const push = (item: SessionEvent) => events.push({ item, organization: tree.organization });
    const begun = clock;
    clock += 1000;
    let at = begun;
    let node = pick(NODES);
    let nodeTree = "";
    push({
      subject: SESSION_SUBJECTS.started,
      event: {
        ...base,
        event_id: randomUUID(),
        occurred_at: new Date(at).toISOString(),
        node_id: node,
        node_tree_id: nodeTree,
      },
    });
    const steps = 1 + Math.floor(next() * 8);
    for (let seq = 1; seq <= steps; seq++) {
      const duration = Math.floor(next() * 60_000);
      at += duration;
      const op = next() < 0.1 ? "back" : next() < 0.7 ? "answer" : "continue";
      const nextNode = pick(NODES);
      const nextTree = next() < 0.05 ? linked : "";
      push({
        subject: SESSION_SUBJECTS.step,
        event: {
          ...base,
          event_id: randomUUID(),
          occurred_at: new Date(at).toISOString(),
          op,
          seq,
          node_id: node,
          option_id: op === "answer" ? pick(["yes", "no", "maybe"]) : "",
          duration_ms: duration,
          next_node_id: nextNode,
          node_tree_id: nodeTree,
          next_tree_id: nextTree,
        },
      });
      node = nextNode;
      nodeTree = nextTree;
      if (next() < 0.01) push(events[events.length - 1]?.item as SessionEvent);
    }
    const end = next();
    const stay = Math.floor(next() * 30_000);
    // Now and then a session's completion reaches the stream before its last step.
    const early = end < 0.7 && next() < 0.02 ? events.pop() : undefined;
    if (end < 0.7) {
      push({
        subject: SESSION_SUBJECTS.completed,
        event: {
          ...base,
          event_id: randomUUID(),
          occurred_at: new Date(at + stay).toISOString(),
          outcome: pick(OUTCOMES),
          node_id: node,
          duration_ms: stay,
          total_duration_ms: at + stay - begun,
          node_tree_id: nodeTree,
          report_markdown: `# Session\n\n${"A step of the report. ".repeat(20)}`,
        },
      });
    }
    if (early) events.push(early);
    // Abandoned (its user deactivated), a few of them after they were completed.
    if ((end >= 0.7 && end < 0.8) || (end < 0.7 && next() < 0.02)) {
      push({
        subject: SESSION_SUBJECTS.abandoned,
        event: {
          ...base,
          event_id: randomUUID(),
          occurred_at: new Date(at + stay).toISOString(),
          node_id: node,
          node_tree_id: nodeTree,
        },
      });
    }
  }
  return { trees, events };
}

/**
 * Publishes `events` to the stream as the sessions service would (its subjects, the organization
 * header), fast: plain NATS publishes the stream captures, flushed every few thousand, then waits
 * until the stream holds them all.
 */
export async function publishEvents(nc: NatsConnection, events: GeneratedStream["events"]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info(SESSION_EVENTS.stream)).state.messages;
  const window = 5000;
  for (let start = 0; start < events.length; start += window) {
    for (const { item, organization } of events.slice(start, start + window)) {
      const fields = headers();
      fields.set(ORGANIZATION_HEADER, organization);
      nc.publish(item.subject, encodeSessionEvent(item), { headers: fields });
    }
    await nc.flush();
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const held = (await jsm.streams.info(SESSION_EVENTS.stream)).state.messages - before;
    if (held === events.length) return;
    if (held > events.length || Date.now() > deadline)
      throw new Error(`the stream took ${held} of ${events.length} events`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

/** The trees database of one test, migrated as the CLI migrates it, and the connections to it. */
export interface TreesDatabase {
  name: string;
  url: string;
  /** As the owner (what the CLI connects as). */
  owner: Sql;
  /** As trees_app, behind the wall (what the service connects as). */
  app: Sql;
  drop(): Promise<void>;
}

export async function treesDatabase(label: string): Promise<TreesDatabase> {
  const database = await createDatabase(label);
  const owner = connect(database.url);
  await migrate(owner, MIGRATIONS, testLogger(), OUTBOX_MIGRATIONS);
  const appUrl = new URL(urlOf(database.name));
  appUrl.username = "trees_app";
  // The live consumer commits an event at a time: without waiting for the disk at each commit, the
  // tests need not wait for it either (nothing here survives a crash of the server anyway).
  const app = postgres(appUrl.toString(), {
    max: 4,
    onnotice: () => {},
    connection: { synchronous_commit: "off" },
  });
  return {
    ...database,
    owner,
    app,
    async drop() {
      await app.end();
      await owner.end();
      await dropDatabase(database.name);
    },
  };
}

/** The session stream made by its owner; answers the connection as sessions (the publisher). */
export async function sessionStream(nats: PrivateNats): Promise<NatsConnection> {
  const nc = await connectNats(nats.as("sessions"), "test-sessions", testLogger());
  await ensureStream(nc, SESSION_EVENTS);
  return nc;
}

/** The live consumer `trees-analytics` as the trees service runs it; answers a function that stops it. */
export async function liveConsumer(
  nats: PrivateNats,
  app: Sql,
  { oneByOne = false } = {},
): Promise<() => Promise<void>> {
  const nc = await connectNats(nats.as("trees"), "test-trees", testLogger());
  const consumer = analyticsConsumer(app);
  // One by one: as it was before it took batches, the baseline of the catch-up test.
  const stop = await consumeDurably(nc, oneByOne ? { ...consumer, handleBatch: undefined } : consumer, testLogger());
  return async () => {
    await stop();
    await nc.close();
  };
}

/** How many events the projection holds applied. */
export async function handledCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from analytics_handled_events`;
  return row?.n ?? 0;
}

/** The CLI's environment: the trees database and the trees service's NATS user. */
export function cliEnv(database: TreesDatabase, nats: PrivateNats, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const trees = nats.as("trees");
  return {
    ...process.env,
    TREES_DATABASE_URL: database.url,
    NATS_URL: trees.natsUrl,
    NATS_USER: trees.natsCredentials.user,
    NATS_PASSWORD: trees.natsCredentials.password,
    ...extra,
  };
}

/** A row of the projection with its values as plain JSON (timestamps as ISO text, bigints as numbers). */
type Row = Record<string, string | number | null>;

const plain = (row: Record<string, unknown>): Row =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value instanceof Date
        ? value.toISOString()
        : typeof value === "bigint"
          ? Number(value)
          : (value as string | null),
    ]),
  );

/** Every row of the projection, in key order, as plain values. */
export interface Projection {
  handled: number;
  sessions: Row[];
  entries: Row[];
  stays: Row[];
}

export async function projection(sql: Sql): Promise<Projection> {
  const duration = (row: Row): Row => ({
    ...row,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
  });
  return {
    handled: await handledCount(sql),
    sessions: (await sql`select * from analytics_sessions order by session_id`).map(plain).map(duration),
    entries: (await sql`select * from analytics_entries order by event_id`).map(plain),
    stays: (await sql`select * from analytics_stays order by event_id`)
      .map(plain)
      .map((row): Row => ({ ...row, time_ms: Number(row.time_ms) })),
  };
}

/**
 * The projection `events` make, worked out here from what the events say, one after another in
 * stream order as the consumer's `applyBatch` takes them (docs/decisions/analytics.md): the answer a
 * rebuild must come to, whoever applies which event.
 */
export function expectedProjection(events: GeneratedStream["events"]): Projection {
  const handled = new Set<string>();
  const sessions = new Map<string, Row>();
  const entries: Row[] = [];
  const stays: Row[] = [];
  for (const { item, organization } of events) {
    const { event } = item;
    if (handled.has(event.event_id)) continue;
    handled.add(event.event_id);
    const at = new Date(event.occurred_at ?? 0);
    const startedAt =
      item.subject === SESSION_SUBJECTS.completed ? new Date(at.getTime() - item.event.total_duration_ms) : at;
    const session = sessions.get(event.session_id) ?? {
      session_id: event.session_id,
      tree_id: event.tree_id,
      tree_version: event.tree_version,
      started_at: startedAt.toISOString(),
      status: "in_progress",
      outcome: null,
      ended_at: null,
      end_node_id: null,
      duration_ms: null,
      end_node_tree_id: null,
      org_id: organization,
    };
    sessions.set(event.session_id, session);
    const own = { event_id: event.event_id, session_id: event.session_id };
    const tree = (id: string) => id || null;
    switch (item.subject) {
      case SESSION_SUBJECTS.started:
        session.started_at = at.toISOString();
        entries.push({
          ...own,
          at: at.toISOString(),
          node_id: item.event.node_id,
          node_tree_id: tree(item.event.node_tree_id),
          org_id: organization,
        });
        break;
      case SESSION_SUBJECTS.step:
        stays.push({
          ...own,
          node_id: item.event.node_id,
          option_id: item.event.option_id,
          time_ms: item.event.duration_ms,
          node_tree_id: tree(item.event.node_tree_id),
          org_id: organization,
        });
        entries.push({
          ...own,
          at: at.toISOString(),
          node_id: item.event.next_node_id,
          node_tree_id: tree(item.event.next_tree_id),
          org_id: organization,
        });
        break;
      case SESSION_SUBJECTS.completed:
        stays.push({
          ...own,
          node_id: item.event.node_id,
          option_id: "",
          time_ms: item.event.duration_ms,
          node_tree_id: tree(item.event.node_tree_id),
          org_id: organization,
        });
        Object.assign(session, {
          status: "completed",
          outcome: item.event.outcome,
          ended_at: at.toISOString(),
          end_node_id: item.event.node_id,
          end_node_tree_id: tree(item.event.node_tree_id),
          duration_ms: item.event.total_duration_ms,
        });
        break;
      case SESSION_SUBJECTS.abandoned:
        if (session.status === "in_progress")
          Object.assign(session, {
            status: "abandoned",
            ended_at: at.toISOString(),
            end_node_id: item.event.node_id,
            end_node_tree_id: tree(item.event.node_tree_id),
          });
        break;
    }
  }
  const byKey = (key: string) => (a: Row, b: Row) => ((a[key] as string) < (b[key] as string) ? -1 : 1);
  return {
    handled: handled.size,
    sessions: [...sessions.values()].sort(byKey("session_id")),
    entries: entries.sort(byKey("event_id")),
    stays: stays.sort(byKey("event_id")),
  };
}

/**
 * Expects `actual` to be `expected`, table by table, comparing their JSON first (a deep comparison
 * of 400,000 rows takes longer than the rebuild); on a difference, shows the first row that differs.
 */
export function expectSameProjection(actual: Projection, expected: Projection): void {
  expect(actual.handled).toBe(expected.handled);
  // Each row's fields in name order: the database's and this file's come in different orders.
  const text = (row: Row) => JSON.stringify(row, Object.keys(row).sort());
  for (const table of ["sessions", "entries", "stays"] as const) {
    const mine = actual[table].map(text);
    const theirs = expected[table].map(text);
    if (mine.join("\n") === theirs.join("\n")) continue;
    expect(mine.length, `rows of ${table}`).toBe(theirs.length);
    const first = mine.findIndex((row, index) => row !== theirs[index]);
    expect(actual[table].slice(first, first + 5), `${table} from row ${first}`).toEqual(
      expected[table].slice(first, first + 5),
    );
    expect(mine[first], `${table} row ${first}`).toBe(theirs[first]);
  }
}

/** Each table's columns in a fixed order, and how the database writes each as text ('~': null). */
const DIGESTED = {
  sessions: {
    key: "session_id",
    columns: [
      "session_id",
      "tree_id",
      "tree_version",
      "started_at",
      "status",
      "outcome",
      "ended_at",
      "end_node_id",
      "end_node_tree_id",
      "duration_ms",
      "org_id",
    ],
  },
  entries: { key: "event_id", columns: ["event_id", "session_id", "at", "node_id", "node_tree_id", "org_id"] },
  stays: {
    key: "event_id",
    columns: ["event_id", "session_id", "node_id", "node_tree_id", "option_id", "time_ms", "org_id"],
  },
} as const;
const TIMESTAMPS = new Set(["started_at", "ended_at", "at"]);

/** Per table: its rows and an md5 of all of them as text, in key order. */
export type Digest = Record<"sessions" | "entries" | "stays", { rows: number; md5: string }> & { handled: number };

/**
 * The projection's digest, worked out by Postgres: comparing 400,000 rows in the test's process
 * takes longer than the rebuild on a busy machine; `expectSameProjection` shows where they differ.
 */
export async function projectionDigest(sql: Sql): Promise<Digest> {
  const digest = { handled: await handledCount(sql) } as Digest;
  for (const [table, { key, columns }] of Object.entries(DIGESTED) as Array<
    [keyof typeof DIGESTED, (typeof DIGESTED)[keyof typeof DIGESTED]]
  >) {
    const fields = columns.map((column) =>
      TIMESTAMPS.has(column)
        ? sql`coalesce(to_char(${sql(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '~')`
        : sql`coalesce(${sql(column)}::text, '~')`,
    );
    const text = fields.reduce((all, field) => sql`${all} || '|' || ${field}`);
    const [row] = await sql<{ rows: number; md5: string }[]>`
      select count(*)::int as rows, coalesce(md5(string_agg(${text}, E'\n' order by ${sql(key)})), '') as md5
      from ${sql(`analytics_${table}`)}`;
    digest[table] = row ?? { rows: 0, md5: "" };
  }
  return digest;
}

/** The digest of a projection worked out here (`expectedProjection`), as `projectionDigest` makes it. */
export function digestOf(projected: Projection): Digest {
  const digest = { handled: projected.handled } as Digest;
  for (const [table, { columns }] of Object.entries(DIGESTED) as Array<
    [keyof typeof DIGESTED, (typeof DIGESTED)[keyof typeof DIGESTED]]
  >) {
    const rows = projected[table];
    const text = rows.map((row) =>
      columns.map((column) => (row[column] === null ? "~" : String(row[column]))).join("|"),
    );
    digest[table] = {
      rows: rows.length,
      md5: rows.length === 0 ? "" : createHash("md5").update(text.join("\n")).digest("hex"),
    };
  }
  return digest;
}
