-- Troubleshooting sessions, the tree versions they run on, and the events already handled.

-- A copy of every tree version a session started on: versions never change, so sessions keep
-- working (and reports stay true) whatever happens to the tree afterwards, deletion included.
create table tree_snapshots (
  tree_id uuid not null,
  version integer not null,
  document jsonb not null,
  primary key (tree_id, version)
);

create table sessions (
  id uuid primary key,
  user_id uuid not null,
  tree_id uuid not null,
  tree_version integer not null,
  tree_title text not null,
  status text not null check (status in ('in_progress', 'completed', 'abandoned')),
  outcome text check (outcome in ('resolved', 'unresolved', 'escalated')),
  current_node_id text not null,
  steps jsonb not null,
  notes text not null default '',
  context jsonb not null default '{}',
  started_at timestamptz not null,
  updated_at timestamptz not null,
  completed_at timestamptz,
  foreign key (tree_id, tree_version) references tree_snapshots (tree_id, version)
);
create index sessions_user on sessions (user_id, started_at desc);
create index sessions_tree on sessions (tree_id);
create index sessions_in_progress on sessions (user_id) where status = 'in_progress';

-- Events this service has acted on, so a redelivered event changes nothing twice.
create table handled_events (
  event_id uuid primary key,
  handled_at timestamptz not null default now()
);
