-- The analytics projection (issue 15): what the session events (SESSION_EVENTS) say of each
-- tree, kept by the consumer trees-analytics (src/analytics.ts) and rebuildable from the stream.

-- Every event applied, once: a redelivered event changes nothing.
create table analytics_handled_events (event_id uuid primary key);

-- One row per guided session.
create table analytics_sessions (
  session_id uuid primary key,
  tree_id uuid not null,
  tree_version integer not null,
  started_at timestamptz not null,
  -- in_progress, completed or abandoned
  status text not null default 'in_progress',
  outcome text,
  ended_at timestamptz,
  -- The node it ended (or was abandoned) at.
  end_node_id text,
  duration_ms bigint
);
create index analytics_sessions_tree on analytics_sessions (tree_id, started_at);

-- Each node a session entered, when (the session's path, in order).
create table analytics_entries (
  event_id uuid primary key,
  session_id uuid not null,
  at timestamptz not null,
  node_id text not null
);
create index analytics_entries_session on analytics_entries (session_id, at);

-- Each stay at a node that ended (a step away from it, or the completion there): how long, and
-- the option chosen when it was answered.
create table analytics_stays (
  event_id uuid primary key,
  session_id uuid not null,
  node_id text not null,
  option_id text not null default '',
  time_ms bigint not null
);
create index analytics_stays_session on analytics_stays (session_id);
