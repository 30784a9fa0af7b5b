/**
 * The analytics projection (issue 15): the session events, as the durable consumer
 * `trees-analytics` delivers them, kept in four tables (migrations/0007_analytics.sql) and in
 * per-tree aggregates (0015), and the numbers an author reads from them. Each event is applied
 * once (its id), in any order: a path is ordered by when its nodes were entered, a session's row
 * is made by whichever of its events comes first. The consumer and `rebuildAnalytics` (which
 * makes it again from the whole stream while the consumer goes on) apply events the same way,
 * `applyBatch`, the consumer the events waiting when it takes the next (often one).
 */
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  contextOf,
  type EventConsumer,
  type EventContext,
  inTransaction,
  type Logger,
  type NatsConnection,
  type Sql,
  setOrganization,
  type TransactionSql,
} from "@tdt/kit";
import { type Outcome, outcomeCounts } from "@tdt/proto/contracts/outcomes";
import { SESSION_EVENTS, SESSION_SUBJECTS, type SessionEvent } from "@tdt/proto/contracts/session-events";
import type { GetTreeAnalyticsResponse, OutcomeCount, SessionCounts } from "@tdt/proto/tdt/trees/v1/trees";

/** The durable consumer's name: trees alone may use it (infra/nats/nats.conf). */
export const ANALYTICS_CONSUMER = "trees-analytics";

/** The consumer that keeps the projection: every session event, once. */
export function analyticsConsumer(sql: Sql): EventConsumer<SessionEvent> {
  return {
    source: SESSION_EVENTS,
    durable: ANALYTICS_CONSUMER,
    subject: SESSION_EVENTS.subjects,
    async handle(item, context) {
      await inTransaction(sql, (tx) => applyBatch(tx, [[item, context]]));
    },
    // Events that wait behind one another go in one transaction (one commit, one lock of each tree).
    async handleBatch(items) {
      await inTransaction(sql, (tx) => applyBatch(tx, items));
    },
  };
}

/**
 * Applies a batch of events in `tx`, those not applied before, with a few statements for the whole
 * batch: the live consumer's way (a batch of one) and the rebuild's (`rebuildAnalytics`). Where
 * one event of a session would overwrite another's (two starts, two ends), the later one in the
 * batch wins, as applied in turn; an abandonment changes only a session still in progress, so a
 * completion wins over it in any order. The per-tree aggregates (analytics_rollup, migration
 * 0015) follow in the same transaction: what the touched sessions contributed is taken away
 * before their rows change and what they contribute now is added after, under each tree's
 * advisory lock, taken first and in order so that two writers never wait for each other in a
 * circle. Answers how many it applied.
 */
export async function applyBatch(tx: TransactionSql, batch: ReadonlyArray<[SessionEvent, EventContext]>) {
  // The same event twice in a batch (republished under another message id) counts once.
  const byId = new Map<string, [SessionEvent, EventContext]>();
  for (const entry of batch) {
    const id = entry[0].event.event_id.toLowerCase();
    if (!byId.has(id)) byId.set(id, entry);
  }
  if (byId.size === 0) return 0;
  // The trees' locks before anything else, in the order of their keys (a volatile function in the
  // list runs after the sort): a writer waiting for another's event id (below) then holds no lock
  // that one waits for. The ids in key order, so that two writers of the table never wait for each
  // other in a circle. One round trip for both (postgres.js sends them in the order they start).
  const trees = [...new Set([...byId.values()].map(([item]) => item.event.tree_id.toLowerCase()))];
  const [, fresh] = await Promise.all([
    tx`
      select pg_advisory_xact_lock(${ROLLUP_LOCKS}, h)
      from (select distinct hashtext(tree) as h from unnest(${trees}::text[]) as t(tree)) l order by h`.execute(),
    tx<{ event_id: string }[]>`
      insert into analytics_handled_events (event_id)
      select id from unnest(${[...byId.keys()]}::uuid[]) as e(id) order by id
      on conflict do nothing returning event_id`.execute(),
  ]);
  if (fresh.length === 0) return 0;
  const freshIds = new Set(fresh.map((row) => row.event_id));
  // Each organization's events under its own setting (the wall's), in the order they came.
  const byOrganization = new Map<string, SessionEvent[]>();
  for (const [id, [item, { organization }]] of byId) {
    if (!freshIds.has(id)) continue;
    const items = byOrganization.get(organization) ?? [];
    if (items.length === 0) byOrganization.set(organization, items);
    items.push(item);
  }
  for (const [organization, items] of byOrganization) {
    await setOrganization(tx, organization);
    const sessions = [...new Set(items.map((item) => item.event.session_id))];
    // One round trip for the rest: postgres.js sends them in the order they start (each by
    // `execute` as it is made) and Postgres runs them in turn, each seeing what the one before wrote.
    await Promise.all([
      tx`select analytics_rollup_add(${sessions}::uuid[], -1)`.execute(),
      ...batchStatements(tx, items),
      tx`select analytics_rollup_add(${sessions}::uuid[], 1)`.execute(),
    ]);
  }
  return fresh.length;
}

/** The first key of the trees' advisory locks (`pg_advisory_xact_lock(int, int)`): the aggregates'. */
const ROLLUP_LOCKS = 31_015;

/** The statements of `applyBatch` for one organization's fresh events, set-based. */
function batchStatements(tx: TransactionSql, items: SessionEvent[]): Array<Promise<unknown>> {
  const columns = <T extends readonly unknown[]>() => {
    const rows: T[] = [];
    return { rows, of: (index: number) => rows.map((row) => row[index]) as never[] };
  };
  // The session's row: by its first event in the batch (a completion's start is its occurrence
  // less its duration), unless it has one already.
  const sessions = columns<[string, string, number, string]>();
  const starts = columns<[string, string]>();
  const entries = columns<[string, string, string, string, string]>();
  const stays = columns<[string, string, string, string, string, number]>();
  const completions = columns<[string, string, string, string, string, number]>();
  const abandonments = columns<[string, string, string, string]>();
  for (const item of items) {
    const { event } = item;
    const date = new Date(event.occurred_at ?? 0);
    const at = date.toISOString();
    const startedAt =
      item.subject === SESSION_SUBJECTS.completed
        ? new Date(date.getTime() - item.event.total_duration_ms).toISOString()
        : at;
    sessions.rows.push([event.session_id, event.tree_id, event.tree_version, startedAt]);
    switch (item.subject) {
      case SESSION_SUBJECTS.started:
        starts.rows.push([event.session_id, at]);
        entries.rows.push([event.event_id, event.session_id, at, item.event.node_id, item.event.node_tree_id]);
        break;
      case SESSION_SUBJECTS.step:
        stays.rows.push([
          event.event_id,
          event.session_id,
          item.event.node_id,
          item.event.node_tree_id,
          item.event.option_id,
          item.event.duration_ms,
        ]);
        entries.rows.push([event.event_id, event.session_id, at, item.event.next_node_id, item.event.next_tree_id]);
        break;
      case SESSION_SUBJECTS.completed:
        stays.rows.push([
          event.event_id,
          event.session_id,
          item.event.node_id,
          item.event.node_tree_id,
          "",
          item.event.duration_ms,
        ]);
        completions.rows.push([
          event.session_id,
          item.event.outcome,
          at,
          item.event.node_id,
          item.event.node_tree_id,
          item.event.total_duration_ms,
        ]);
        break;
      case SESSION_SUBJECTS.abandoned:
        abandonments.rows.push([event.session_id, at, item.event.node_id, item.event.node_tree_id]);
        break;
    }
  }
  // Each statement starts as it is made, so that they reach the server in this order.
  const statements: Array<Promise<unknown>> = [];
  const start = (query: { execute(): Promise<unknown> }) => statements.push(query.execute());
  start(tx`
    insert into analytics_sessions (session_id, tree_id, tree_version, started_at)
    select distinct on (session_id) session_id, tree_id, tree_version, started_at
    from unnest(${sessions.of(0)}::uuid[], ${sessions.of(1)}::uuid[], ${sessions.of(2)}::int[],
                ${sessions.of(3)}::timestamptz[])
      with ordinality as e(session_id, tree_id, tree_version, started_at, n)
    order by session_id, n
    on conflict (session_id) do nothing`);
  if (starts.rows.length > 0)
    start(tx`
      update analytics_sessions s set started_at = e.at
      from (select distinct on (session_id) session_id, at
            from unnest(${starts.of(0)}::uuid[], ${starts.of(1)}::timestamptz[]) with ordinality as e(session_id, at, n)
            order by session_id, n desc) e
      where s.session_id = e.session_id`);
  if (entries.rows.length > 0)
    start(tx`
      insert into analytics_entries (event_id, session_id, at, node_id, node_tree_id)
      select event_id, session_id, at, node_id, nullif(node_tree_id, '')::uuid
      from unnest(${entries.of(0)}::uuid[], ${entries.of(1)}::uuid[], ${entries.of(2)}::timestamptz[],
                  ${entries.of(3)}::text[], ${entries.of(4)}::text[])
        as e(event_id, session_id, at, node_id, node_tree_id)`);
  if (stays.rows.length > 0)
    start(tx`
      insert into analytics_stays (event_id, session_id, node_id, node_tree_id, option_id, time_ms)
      select event_id, session_id, node_id, nullif(node_tree_id, '')::uuid, option_id, time_ms
      from unnest(${stays.of(0)}::uuid[], ${stays.of(1)}::uuid[], ${stays.of(2)}::text[], ${stays.of(3)}::text[],
                  ${stays.of(4)}::text[], ${stays.of(5)}::bigint[])
        as e(event_id, session_id, node_id, node_tree_id, option_id, time_ms)`);
  if (completions.rows.length > 0)
    start(tx`
      update analytics_sessions s set status = 'completed', outcome = e.outcome, ended_at = e.at,
        end_node_id = e.node_id, end_node_tree_id = nullif(e.node_tree_id, '')::uuid, duration_ms = e.total
      from (select distinct on (session_id) session_id, outcome, at, node_id, node_tree_id, total
            from unnest(${completions.of(0)}::uuid[], ${completions.of(1)}::text[],
                        ${completions.of(2)}::timestamptz[], ${completions.of(3)}::text[],
                        ${completions.of(4)}::text[], ${completions.of(5)}::bigint[])
              with ordinality as e(session_id, outcome, at, node_id, node_tree_id, total, n)
            order by session_id, n desc) e
      where s.session_id = e.session_id`);
  if (abandonments.rows.length > 0)
    start(tx`
      update analytics_sessions s set status = 'abandoned', ended_at = e.at, end_node_id = e.node_id,
        end_node_tree_id = nullif(e.node_tree_id, '')::uuid
      from (select distinct on (session_id) session_id, at, node_id, node_tree_id
            from unnest(${abandonments.of(0)}::uuid[], ${abandonments.of(1)}::timestamptz[],
                        ${abandonments.of(2)}::text[], ${abandonments.of(3)}::text[])
              with ordinality as e(session_id, at, node_id, node_tree_id, n)
            order by session_id, n) e
      where s.session_id = e.session_id and s.status = 'in_progress'`);
  return statements;
}

/** Events a rebuild reads and applies per transaction. */
export const REBUILD_BATCH_SIZE = 2000;
/**
 * Messages the rebuild's consumer asks for ahead of what it has read: a completion may carry a
 * report of up to 100 KB (dropped once decoded), so this bounds the buffer at 100 MB at worst.
 */
const REBUILD_READ_AHEAD = 1000;
/** A rebuild that receives nothing for this long while events are still due fails rather than wait for ever. */
const REBUILD_STALL_MS = 60_000;

/** How far a rebuild is: told after each batch (and once more at the end, `done`). */
export interface RebuildProgress {
  /** Messages of the stream read so far, of `total`: those on it when the rebuild started. */
  read: number;
  total: number;
  /** Events this rebuild applied: those read less the ones applied already (by the live consumer, or twice on the stream). */
  applied: number;
  elapsedMs: number;
  done: boolean;
}

export interface RebuildOptions {
  /** Events per transaction (REBUILD_BATCH_SIZE). */
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Makes the projection again from the whole stream, while the live consumer keeps applying new
 * events (issue 31). It empties the projection (a short lock of its tables), notes the stream's
 * last sequence, then reads the stream from its first message with an ordered consumer, a batch
 * at a time (never the whole stream in memory), and applies each batch in a transaction of its
 * own (`applyBatch`). It ends at that last sequence: what came after is the live consumer's,
 * which meanwhile applies whatever reaches it to the same tables. The handled-events table makes
 * each event count once, whoever applies it first: an event the live consumer applied before
 * the truncation is on the stream by then, so the rebuild applies it again.
 *
 * While it runs the numbers grow back from zero: GET /trees/{id}/analytics answers from what is
 * applied so far (new sessions included), and the full figures once it ends. Killed midway, it
 * leaves a partial projection; run it again (it starts over). Answers the progress at the end.
 */
export async function rebuildAnalytics(
  sql: Sql,
  nc: NatsConnection,
  log: Logger,
  options: RebuildOptions = {},
): Promise<RebuildProgress> {
  const started = Date.now();
  const batchSize = Math.max(1, options.batchSize ?? REBUILD_BATCH_SIZE);
  // Before emptying anything: a stream it cannot read fails the rebuild with the projection whole.
  await streamState(nc);
  await inTransaction(sql, async (tx) => {
    // The live consumer's transaction of the moment finishes first; its next one waits for this
    // one, not for the rebuild. A lock held by something else for long fails the rebuild.
    await tx`set local lock_timeout = '10s'`;
    await tx`truncate analytics_handled_events, analytics_sessions, analytics_entries, analytics_stays, analytics_rollup`;
  });
  // Read after the truncation: everything the live consumer had applied before it is up to here.
  const state = await streamState(nc);
  const progress: RebuildProgress = { read: 0, total: state.messages, applied: 0, elapsedMs: 0, done: false };
  const report = (done = false) => {
    progress.elapsedMs = Date.now() - started;
    progress.done = done;
    options.onProgress?.({ ...progress });
  };
  if (state.messages === 0 || state.lastSeq === 0) {
    report(true);
    return { ...progress };
  }
  const consumer = await jetstream(nc).consumers.get(SESSION_EVENTS.stream, {
    // One subject as a string, as followEvents does (nats-server 2.9).
    filter_subjects: SESSION_EVENTS.subjects,
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume({ max_messages: Math.min(batchSize, REBUILD_READ_AHEAD) });
  let lastProgressAt = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgressAt > REBUILD_STALL_MS)
      messages.stop(new Error(`no session event for ${REBUILD_STALL_MS / 1000} s`));
  }, 1000);
  // One batch is applied while the next is read: at most two in memory, besides the read-ahead.
  let applying: Promise<void> = Promise.resolve();
  let failure: unknown;
  const apply = (items: Array<[SessionEvent, EventContext]>) => {
    const previous = applying;
    applying = (async () => {
      await previous;
      if (failure !== undefined) return;
      try {
        progress.applied += await inTransaction(sql, (tx) => applyBatch(tx, items));
        progress.read += items.length + (skipped.get(items) ?? 0);
        lastProgressAt = Date.now();
        report();
      } catch (error) {
        failure = error;
        messages.stop();
      }
    })();
    return previous;
  };
  // Messages read but not decodable, per batch (counted as read once their batch is applied).
  const skipped = new WeakMap<object, number>();
  let reachedEnd = false;
  try {
    let batch: Array<[SessionEvent, EventContext]> = [];
    for await (const message of messages) {
      lastProgressAt = Date.now();
      const item = decodeSessionEventOrWarn(message.subject, message.data, log);
      if (item) batch.push([item, contextOf(message)]);
      else skipped.set(batch, (skipped.get(batch) ?? 0) + 1);
      // The last sequence, or nothing after this one now (those up to it were deleted meanwhile).
      reachedEnd = message.seq >= state.lastSeq || message.info.pending === 0;
      if (reachedEnd || batch.length >= batchSize) {
        // Waits for the batch before, so that no more than one waits to be applied.
        await apply(batch);
        batch = [];
      }
      if (reachedEnd || failure !== undefined) break;
    }
  } finally {
    // Never rejects: a failure is kept in `failure`.
    await applying;
    clearInterval(watchdog);
    await messages.close().catch(() => {});
    await consumer.delete().catch(() => {});
  }
  if (failure !== undefined) throw failure;
  // The consumer gave up before the end (the watchdog, or the connection closed for good).
  if (!reachedEnd) throw new Error(`the rebuild stopped after ${progress.read} of ${progress.total} events`);
  report(true);
  return { ...progress };
}

/**
 * The stream's last sequence and how many messages it holds now: none when it does not exist yet
 * (sessions makes it at its first start). Any other failure is thrown, never taken for an empty
 * stream, which would leave the projection empty.
 */
async function streamState(nc: NatsConnection): Promise<{ lastSeq: number; messages: number }> {
  const jsm = await jetstreamManager(nc);
  try {
    const { state } = await jsm.streams.info(SESSION_EVENTS.stream);
    return { lastSeq: state.last_seq, messages: state.messages };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
      return { lastSeq: 0, messages: 0 };
    throw error;
  }
}

/** A message's event, without what the projection does not read (a completion's report). */
function decodeSessionEventOrWarn(subject: string, data: Uint8Array, log: Logger): SessionEvent | undefined {
  try {
    const item = SESSION_EVENTS.decode(subject, data);
    if (item?.subject === SESSION_SUBJECTS.completed) item.event.report_markdown = "";
    return item;
  } catch (error) {
    log.warn({ err: error, subject }, "undecodable event skipped");
    return undefined;
  }
}

/**
 * A row of `alias` (entries or stays, joined to the chosen sessions as `c`) about a node of the
 * session's own tree: a tree's analytics count its own nodes, not those of trees it links to.
 */
const ownNode = (sql: Sql, alias: "e" | "s") => sql`coalesce(${sql(alias)}.node_tree_id, c.tree_id) = c.tree_id`;

export interface AnalyticsQuery {
  treeId: string;
  version?: number | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * What GET /trees/{id}/analytics shows, before it is shaped: from the aggregates, or counted from
 * the projection's rows (the same numbers, percentiles exact).
 */
interface Figures {
  counts:
    | {
        started: number;
        completed: number;
        abandoned: number;
        by_outcome: Record<string, number> | null;
        median: number | null;
        p90: number | null;
      }
    | undefined;
  nodes: Array<{
    node_id: string;
    visits: number;
    exits: number;
    median: number | null;
    p90: number | null;
    options: Array<{ option_id: string; count: number }>;
  }>;
  paths: Array<{ node_ids: string[]; count: number }>;
  days: Array<{ day: string; started: number; completed: number; resolved: number }>;
}

/**
 * The numbers of GET /trees/{id}/analytics. Without a time range (what the tree's analytics page
 * asks), from the per-tree aggregates: a few hundred rows however busy the tree. With one, counted
 * from the projection's rows of the sessions that started in it.
 */
export async function readAnalytics(sql: Sql, query: AnalyticsQuery): Promise<GetTreeAnalyticsResponse> {
  const figures =
    query.from === undefined && query.to === undefined ? await fromAggregates(sql, query) : await counted(sql, query);
  return answerOf(figures);
}

/** The figures from the per-tree aggregates (migration 0015): durations and stays from their histograms. */
async function fromAggregates(sql: Sql, query: AnalyticsQuery): Promise<Figures> {
  const ofTree = sql`tree_id = ${query.treeId} ${query.version === undefined ? sql`` : sql`and tree_version = ${query.version}`}`;
  // Versions summed, then one row per kind and node with its keys and counts as arrays: a
  // busy tree's few thousand histogram buckets and days cross as about a hundred rows (parsing
  // each of 5,000 rows was most of the request's time in this service: docs/decisions/scale.md).
  // Nodes in the database's order of their ids (the projection's tie-break); a node's choices
  // most taken first; the other kinds' arrays in no order (days and histograms are summed).
  const rows = await sql<{ kind: string; node_id: string; days: string[] | null; keys: string[]; counts: number[] }[]>`
    with rolled as (
      select kind, day, node_id, key, sum(n::int)::int as n
      from analytics_rollup where ${ofTree} and kind <> 'path'
      group by kind, day, node_id, key having sum(n::int) <> 0)
    select kind, node_id,
      array_agg(to_char(day, 'YYYY-MM-DD')) filter (where kind = 'session') as days,
      coalesce(array_agg(key order by n desc, key) filter (where kind = 'option'), array_agg(key)) as keys,
      coalesce(array_agg(n order by n desc, key) filter (where kind = 'option'), array_agg(n)) as counts
    from rolled group by kind, node_id
    order by node_id, kind`;
  const paths = await sql<{ node_ids: string[]; count: number }[]>`
    select min(node_ids) as node_ids, sum(n)::int as count
    from analytics_rollup where ${ofTree} and kind = 'path'
    group by key having sum(n) > 0
    order by count desc, node_ids limit 5`;
  const byOutcome: Record<string, number> = {};
  const byDay = new Map<string, { day: string; started: number; completed: number; resolved: number }>();
  const durations: Histogram = [];
  const nodes = new Map<string, Figures["nodes"][number] & { times: Histogram }>();
  const nodeOf = (id: string) => {
    let node = nodes.get(id);
    if (!node) {
      node = { node_id: id, visits: 0, exits: 0, median: null, p90: null, options: [], times: [] };
      nodes.set(id, node);
    }
    return node;
  };
  let started = 0;
  let completed = 0;
  let abandoned = 0;
  for (const { kind, node_id, days, keys, counts } of rows) {
    for (const [index, key] of keys.entries()) {
      const n = counts[index] as number;
      switch (kind) {
        case "session": {
          const day = days?.[index] as string;
          const [status, outcome] = key.split("/") as [string, string];
          const ofDay = byDay.get(day) ?? { day, started: 0, completed: 0, resolved: 0 };
          byDay.set(day, ofDay);
          started += n;
          ofDay.started += n;
          if (status === "abandoned") abandoned += n;
          if (status !== "completed") break;
          completed += n;
          ofDay.completed += n;
          if (outcome) byOutcome[outcome] = (byOutcome[outcome] ?? 0) + n;
          if (outcome === "resolved") ofDay.resolved += n;
          break;
        }
        case "duration":
          durations.push([Number(key), n]);
          break;
        case "visit":
          nodeOf(node_id).visits += n;
          break;
        case "exit":
          nodeOf(node_id).exits += n;
          break;
        case "time":
          nodeOf(node_id).times.push([Number(key), n]);
          break;
        case "option":
          nodeOf(node_id).options.push({ option_id: key, count: n });
          break;
      }
    }
  }
  const [median, p90] = percentiles(durations, [0.5, 0.9]);
  return {
    counts: { started, completed, abandoned, by_outcome: byOutcome, median: median ?? null, p90: p90 ?? null },
    // Most visited first; ties in the order above (Array.prototype.sort is stable).
    nodes: [...nodes.values()]
      .map(({ times, ...node }) => {
        const [nodeMedian, nodeP90] = percentiles(times, [0.5, 0.9]);
        return { ...node, median: nodeMedian ?? null, p90: nodeP90 ?? null };
      })
      .sort((a, b) => b.visits - a.visits),
    paths,
    days: [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)),
  };
}

/** A histogram of milliseconds: [bucket (analytics_bucket in migration 0015), how many]. */
type Histogram = Array<[number, number]>;

/** The whole milliseconds bucket `b` holds (1.05^b <= ms + 1 < 1.05^(b+1)): the middle of them. */
function bucketValue(b: number): number {
  const low = Math.ceil(1.05 ** b - 1);
  const high = Math.max(low, Math.ceil(1.05 ** (b + 1) - 1) - 1);
  return (low + high) / 2;
}

/**
 * The percentiles `ps` of a histogram as percentile_cont takes them of the values (interpolated
 * between the two nearest), each value its bucket's middle: within about 2.5 %, exact up to 20 ms.
 * Undefined for an empty histogram.
 */
export function percentiles(histogram: Histogram, ps: number[]): Array<number | undefined> {
  const sorted = [...histogram].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return ps.map(() => undefined);
  /** The value of the `rank`th smallest (from 0). */
  const at = (rank: number) => {
    let seen = 0;
    for (const [bucket, n] of sorted) {
      seen += n;
      if (rank < seen) return bucketValue(bucket);
    }
    return bucketValue((sorted.at(-1) as [number, number])[0]);
  };
  return ps.map((p) => {
    const rank = p * (total - 1);
    const low = Math.floor(rank);
    const below = at(low);
    return below + (rank - low) * (at(Math.ceil(rank)) - below);
  });
}

/** The figures counted from the projection's rows of the chosen sessions. */
async function counted(sql: Sql, query: AnalyticsQuery): Promise<Figures> {
  const chosen = sql`
    select * from analytics_sessions
    where tree_id = ${query.treeId}
      ${query.version === undefined ? sql`` : sql`and tree_version = ${query.version}`}
      ${query.from === undefined ? sql`` : sql`and started_at >= ${query.from}`}
      ${query.to === undefined ? sql`` : sql`and started_at < ${query.to}`}`;
  const [counts] = await sql<NonNullable<Figures["counts"]>[]>`
    with chosen as (${chosen}),
    outcomes as (
      select outcome, count(*)::int as n from chosen where status = 'completed' and outcome is not null group by 1)
    select count(*)::int as started,
      count(*) filter (where status = 'completed')::int as completed,
      count(*) filter (where status = 'abandoned')::int as abandoned,
      (select json_object_agg(outcome, n) from outcomes) as by_outcome,
      percentile_cont(0.5) within group (order by duration_ms) filter (where status = 'completed') as median,
      percentile_cont(0.9) within group (order by duration_ms) filter (where status = 'completed') as p90
    from chosen`;
  const nodes = await sql<
    { node_id: string; visits: number; exits: number; median: number | null; p90: number | null; options: unknown }[]
  >`
    with chosen as (${chosen}),
    visits as (
      select e.node_id, count(*)::int as visits from analytics_entries e join chosen c using (session_id)
      where ${ownNode(sql, "e")} group by 1),
    exits as (
      select end_node_id as node_id, count(*)::int as exits from chosen
      where status in ('completed', 'abandoned') and coalesce(end_node_tree_id, tree_id) = tree_id group by 1),
    times as (
      select s.node_id, percentile_cont(0.5) within group (order by s.time_ms) as median,
        percentile_cont(0.9) within group (order by s.time_ms) as p90
      from analytics_stays s join chosen c using (session_id) where ${ownNode(sql, "s")} group by 1),
    options as (
      select node_id, json_agg(json_build_object('option_id', option_id, 'count', n) order by n desc, option_id) as options
      from (select s.node_id, s.option_id, count(*)::int as n from analytics_stays s join chosen c using (session_id)
            where s.option_id <> '' and ${ownNode(sql, "s")} group by 1, 2) counted
      group by 1)
    select n.node_id, coalesce(v.visits, 0) as visits, coalesce(x.exits, 0) as exits, t.median, t.p90,
      coalesce(o.options, '[]'::json) as options
    from (select node_id from visits union select node_id from exits union select node_id from times) n
    left join visits v using (node_id) left join exits x using (node_id)
    left join times t using (node_id) left join options o using (node_id)
    order by visits desc, node_id`;
  const paths = await sql<{ node_ids: string[]; count: number }[]>`
    with chosen as (${chosen}),
    walked as (
      select array_agg(e.node_id order by e.at, e.event_id) as node_ids
      from analytics_entries e join chosen c using (session_id)
      where c.status in ('completed', 'abandoned') and ${ownNode(sql, "e")}
      group by e.session_id)
    select node_ids, count(*)::int as count from walked group by node_ids
    order by count desc, node_ids limit 5`;
  const days = await sql<{ day: string; started: number; completed: number; resolved: number }[]>`
    with chosen as (${chosen})
    select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as started,
      count(*) filter (where status = 'completed')::int as completed,
      count(*) filter (where status = 'completed' and outcome = 'resolved')::int as resolved
    from chosen group by 1 order by 1`;
  return { counts, nodes: nodes as Figures["nodes"], paths, days };
}

/** GET /trees/{id}/analytics's answer. */
function answerOf({ counts, nodes, paths, days }: Figures): GetTreeAnalyticsResponse {
  const round = (value: number | null) => Math.round(value ?? 0);
  const outcomes = outcomeCounts(counts?.by_outcome ?? {});
  const completed = counts?.completed ?? 0;
  return {
    sessions: {
      started: counts?.started ?? 0,
      completed,
      ...deprecatedOutcomeFields(outcomes),
      abandoned: counts?.abandoned ?? 0,
      outcomes,
    },
    resolution_rate: completed > 0 ? countOf(outcomes, "resolved") / completed : 0,
    duration_ms: { median: round(counts?.median ?? null), p90: round(counts?.p90 ?? null) },
    nodes: nodes.map((node) => ({
      node_id: node.node_id,
      visits: node.visits,
      exits: node.exits,
      time_ms: { median: round(node.median), p90: round(node.p90) },
      options: node.options,
    })),
    paths,
    days,
  };
}

const countOf = (outcomes: OutcomeCount[], outcome: Outcome) =>
  outcomes.find((counted) => counted.outcome === outcome)?.count ?? 0;

/**
 * SessionCounts' fields from before `outcomes`: still filled for v0.1.0's gateways, until they go
 * (deprecated in trees.proto; docs/decisions/outcomes.md). A closed set: outcomes added since have
 * none.
 */
function deprecatedOutcomeFields(
  outcomes: OutcomeCount[],
): Pick<SessionCounts, "resolved" | "escalated" | "unresolved"> {
  return {
    resolved: countOf(outcomes, "resolved"),
    escalated: countOf(outcomes, "escalated"),
    unresolved: countOf(outcomes, "unresolved"),
  };
}
