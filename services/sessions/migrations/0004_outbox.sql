-- Transactional outbox (services/kit/src/outbox.ts): the session events (issue 15), written with
-- the change that makes them, relayed to the SESSION_EVENTS stream.
create table outbox (
  id uuid primary key,
  subject text not null,
  payload bytea not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  attempts integer not null default 0,
  trace_context text
);
create index outbox_unsent on outbox (created_at) where sent_at is null;
