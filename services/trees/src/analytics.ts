/**
 * The analytics projection (issue 15): the session events, as the durable consumer
 * `trees-analytics` delivers them, kept in four tables (migrations/0007_analytics.sql), and the
 * numbers an author reads from them. Each event is applied once (its id), in any order: a path
 * is ordered by when its nodes were entered, a session's row is made by whichever of its events
 * comes first. `rebuildAnalytics` makes it again from the whole stream.
 */
import {
  type EventConsumer,
  type EventContext,
  followEvents,
  inTransaction,
  type Logger,
  type NatsConnection,
  type Sql,
  setOrganization,
  streamMessageCount,
  type TransactionSql,
} from "@tdt/kit";
import { type Outcome, outcomeCounts } from "@tdt/proto/contracts/outcomes";
import { SESSION_EVENTS, SESSION_SUBJECTS, type SessionEvent } from "@tdt/proto/contracts/session-events";
import type { GetTreeAnalyticsResponse, OutcomeCount, SessionCounts } from "@tdt/proto/tdt/trees/v1/trees";

/** The durable consumer's name: trees alone may use it (infra/nats/nats.conf). */
export const ANALYTICS_CONSUMER = "trees-analytics";

/**
 * Applies one event in `tx`, unless it was applied before; its rows are its organization's (the
 * message's Tdt-Organization header: the session's).
 */
async function apply(tx: TransactionSql, item: SessionEvent, { organization }: EventContext): Promise<boolean> {
  const { event } = item;
  // The wall's setting, local to `tx` (a rebuild applies many events in one transaction).
  await setOrganization(tx, organization);
  const [fresh] = await tx`
    insert into analytics_handled_events (event_id) values (${event.event_id}) on conflict do nothing returning 1`;
  if (!fresh) return false;
  const at = new Date(event.occurred_at ?? 0);
  // The session's row, from whichever of its events comes first (a completion's start is its
  // occurrence less its duration).
  const startedAt =
    item.subject === SESSION_SUBJECTS.completed ? new Date(at.getTime() - item.event.total_duration_ms) : at;
  await tx`
    insert into analytics_sessions (session_id, tree_id, tree_version, started_at)
    values (${event.session_id}, ${event.tree_id}, ${event.tree_version}, ${startedAt})
    on conflict (session_id) do nothing`;
  switch (item.subject) {
    case SESSION_SUBJECTS.started:
      await tx`update analytics_sessions set started_at = ${at} where session_id = ${event.session_id}`;
      await enter(tx, item.event, at, { id: item.event.node_id, tree: item.event.node_tree_id });
      return true;
    case SESSION_SUBJECTS.step:
      await stay(tx, item.event, { id: item.event.node_id, tree: item.event.node_tree_id }, item.event.option_id);
      await enter(tx, item.event, at, { id: item.event.next_node_id, tree: item.event.next_tree_id });
      return true;
    case SESSION_SUBJECTS.completed:
      await stay(tx, item.event, { id: item.event.node_id, tree: item.event.node_tree_id }, "");
      await tx`
        update analytics_sessions set status = 'completed', outcome = ${item.event.outcome}, ended_at = ${at},
          end_node_id = ${item.event.node_id}, end_node_tree_id = ${item.event.node_tree_id || null},
          duration_ms = ${item.event.total_duration_ms}
        where session_id = ${event.session_id}`;
      return true;
    case SESSION_SUBJECTS.abandoned:
      await tx`
        update analytics_sessions set status = 'abandoned', ended_at = ${at}, end_node_id = ${item.event.node_id},
          end_node_tree_id = ${item.event.node_tree_id || null}
        where session_id = ${event.session_id} and status = 'in_progress'`;
      return true;
  }
}

/** A node as the events name it: its id and its tree ('' in events from before links: the session's own). */
interface NodeRef {
  id: string;
  tree: string;
}

function enter(tx: TransactionSql, event: { event_id: string; session_id: string }, at: Date, node: NodeRef) {
  return tx`
    insert into analytics_entries (event_id, session_id, at, node_id, node_tree_id)
    values (${event.event_id}, ${event.session_id}, ${at}, ${node.id}, ${node.tree || null})`;
}

function stay(
  tx: TransactionSql,
  event: { event_id: string; session_id: string; duration_ms: number },
  node: NodeRef,
  optionId: string,
) {
  return tx`
    insert into analytics_stays (event_id, session_id, node_id, node_tree_id, option_id, time_ms)
    values (${event.event_id}, ${event.session_id}, ${node.id}, ${node.tree || null}, ${optionId}, ${event.duration_ms})`;
}

/** The consumer that keeps the projection: every session event, once. */
export function analyticsConsumer(sql: Sql): EventConsumer<SessionEvent> {
  return {
    source: SESSION_EVENTS,
    durable: ANALYTICS_CONSUMER,
    subject: SESSION_EVENTS.subjects,
    async handle(item, context) {
      await inTransaction(sql, (tx) => apply(tx, item, context));
    },
  };
}

/**
 * Makes the projection again from the whole stream, in one transaction that holds the handled
 * table: the live consumer's next event waits for it, then finds the events the replay applied
 * handled and applies only those after. Answers how many events it applied.
 */
export async function rebuildAnalytics(sql: Sql, nc: NatsConnection, log: Logger): Promise<number> {
  return inTransaction(
    sql,
    async (tx) => {
      await tx`lock table analytics_handled_events in exclusive mode`;
      await tx`truncate analytics_handled_events, analytics_sessions, analytics_entries, analytics_stays`;
      const events: Array<[SessionEvent, EventContext]> = [];
      const stop = await followEvents(
        nc,
        SESSION_EVENTS,
        new Date(0),
        (item, context) => events.push([item, context]),
        log,
      );
      // Everything on the stream now, read until all of it has come.
      const last = await streamMessageCount(nc, SESSION_EVENTS.stream);
      const deadline = Date.now() + 60_000;
      while (events.length < last && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 20));
      await stop();
      if (events.length < last) throw new Error(`the stream held ${last} events, ${events.length} were read`);
      let applied = 0;
      for (const [item, context] of events) if (await apply(tx, item, context)) applied++;
      return applied;
    },
    1,
  );
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

/** The numbers of GET /trees/{id}/analytics, from the projection. */
export async function readAnalytics(sql: Sql, query: AnalyticsQuery): Promise<GetTreeAnalyticsResponse> {
  const chosen = sql`
    select * from analytics_sessions
    where tree_id = ${query.treeId}
      ${query.version === undefined ? sql`` : sql`and tree_version = ${query.version}`}
      ${query.from === undefined ? sql`` : sql`and started_at >= ${query.from}`}
      ${query.to === undefined ? sql`` : sql`and started_at < ${query.to}`}`;
  const [counts] = await sql<
    {
      started: number;
      completed: number;
      abandoned: number;
      by_outcome: Record<string, number> | null;
      median: number | null;
      p90: number | null;
    }[]
  >`
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
      options: node.options as Array<{ option_id: string; count: number }>,
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
