-- What operators did to accounts outside the API (create-admin), written in the same
-- transaction as the change: an account an operator took over is always traceable.
create table audit_events (
  id uuid primary key default gen_random_uuid(),
  occurred_at timestamptz not null default now(),
  action text not null,
  user_id uuid not null references users (id),
  actor text not null,
  detail jsonb not null default '{}'
);
create index audit_events_user on audit_events (user_id, occurred_at);
