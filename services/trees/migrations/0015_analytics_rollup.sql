-- Per-tree aggregates of the analytics projection (issue 31, docs/decisions/analytics.md). A
-- busy tree's analytics read all of its entries and stays: at a million steps one statement took
-- 17.5 s. The aggregates hold, per tree and version, what GET /trees/{id}/analytics shows without
-- a time range: sessions by day, status and outcome; the completed sessions' durations and each
-- node's stay times as histograms (buckets 5 % wide, so their percentiles are within about 2.5 %);
-- visits, exits and choices per node; and how often each path of an ended session was walked.
--
-- They are kept by the same transaction that applies events to the projection: it takes away
-- what the sessions it touches contributed, changes their rows, and adds what they contribute
-- now (analytics_rollup_add, -1 then +1), so events in any order, twice, or a session whose start
-- moves to another day leave the aggregates equal to the projection's. Transactions that touch
-- the same tree take its advisory lock first (src/analytics.ts), so two never interleave there.

-- One row per tree, version, kind and key. `day` only for kind `session` ('-infinity' otherwise).
create table analytics_rollup (
  org_id uuid not null,
  tree_id uuid not null,
  tree_version integer not null,
  -- session (key status/outcome, by day), duration (key bucket), visit and exit (by node),
  -- time (by node, key bucket), option (by node, key option id), path (key its digest).
  kind text not null check (kind in ('session', 'duration', 'visit', 'exit', 'time', 'option', 'path')),
  day date not null default '-infinity',
  node_id text not null default '',
  key text not null default '',
  n bigint not null,
  -- A path's nodes (kind path).
  node_ids text[],
  primary key (tree_id, tree_version, kind, day, node_id, key)
);
select tdt_org_wall('analytics_rollup', 'trees_app');

-- The histogram bucket of a time in milliseconds: 1.05^b <= ms + 1 < 1.05^(b+1). Every whole
-- number up to 20 has a bucket of its own; above, a bucket is 5 % wide.
create function analytics_bucket(ms bigint) returns integer
  language sql immutable parallel safe
  as $$ select floor(ln(greatest(ms, 0) + 1) / ln(1.05))::integer $$;

-- What `sessions` contribute to the aggregates, as the projection has them now: the numbers
-- src/analytics.ts's readAnalytics computes from the projection (a tree counts its own nodes).
create function analytics_contribution(sessions uuid[])
  returns table (org_id uuid, tree_id uuid, tree_version integer, kind text, day date, node_id text, key text,
                 n bigint, node_ids text[])
  language sql stable
  as $$
    with c as (
      select s.*, (s.started_at at time zone 'UTC')::date as started_day
      from analytics_sessions s where s.session_id = any(sessions)
    ),
    parts as (
      select c.org_id, c.tree_id, c.tree_version, 'session' as kind, c.started_day as day, '' as node_id,
        c.status || '/' || coalesce(c.outcome, '') as key, 1::bigint as n, null::text[] as node_ids
      from c
      union all
      select c.org_id, c.tree_id, c.tree_version, 'duration', '-infinity', '', analytics_bucket(c.duration_ms)::text, 1, null
      from c where c.status = 'completed' and c.duration_ms is not null
      union all
      select c.org_id, c.tree_id, c.tree_version, 'exit', '-infinity', c.end_node_id, '', 1, null
      from c
      where c.status in ('completed', 'abandoned') and c.end_node_id is not null
        and coalesce(c.end_node_tree_id, c.tree_id) = c.tree_id
      union all
      select c.org_id, c.tree_id, c.tree_version, 'visit', '-infinity', e.node_id, '', 1, null
      from analytics_entries e join c using (session_id)
      where coalesce(e.node_tree_id, c.tree_id) = c.tree_id
      union all
      select c.org_id, c.tree_id, c.tree_version, 'time', '-infinity', s.node_id, analytics_bucket(s.time_ms)::text, 1, null
      from analytics_stays s join c using (session_id)
      where coalesce(s.node_tree_id, c.tree_id) = c.tree_id
      union all
      select c.org_id, c.tree_id, c.tree_version, 'option', '-infinity', s.node_id, s.option_id, 1, null
      from analytics_stays s join c using (session_id)
      where s.option_id <> '' and coalesce(s.node_tree_id, c.tree_id) = c.tree_id
      union all
      select w.org_id, w.tree_id, w.tree_version, 'path', '-infinity', '', md5(array_to_string(w.node_ids, chr(31))), 1,
        w.node_ids
      from (
        select c.org_id, c.tree_id, c.tree_version, array_agg(e.node_id order by e.at, e.event_id) as node_ids
        from analytics_entries e join c using (session_id)
        where c.status in ('completed', 'abandoned') and coalesce(e.node_tree_id, c.tree_id) = c.tree_id
        group by c.session_id, c.org_id, c.tree_id, c.tree_version
      ) w
    )
    select org_id, tree_id, tree_version, kind, day, node_id, key, sum(n)::bigint, min(node_ids)
    from parts
    group by org_id, tree_id, tree_version, kind, day, node_id, key
  $$;

-- Adds what `sessions` contribute now, times `sign`: -1 before their rows change, +1 after.
create function analytics_rollup_add(sessions uuid[], sign integer) returns void
  language sql
  as $$
    insert into analytics_rollup as r (org_id, tree_id, tree_version, kind, day, node_id, key, n, node_ids)
    select org_id, tree_id, tree_version, kind, day, node_id, key, sign * n, node_ids
    from analytics_contribution(sessions)
    order by tree_id, tree_version, kind, day, node_id, key
    on conflict (tree_id, tree_version, kind, day, node_id, key) do update set n = r.n + excluded.n
  $$;

grant execute on function analytics_bucket(bigint), analytics_contribution(uuid[]),
  analytics_rollup_add(uuid[], integer) to trees_app;

-- The aggregates of what the projection holds already (as the owner: every organization's).
select analytics_rollup_add(array(select session_id from analytics_sessions), 1);
