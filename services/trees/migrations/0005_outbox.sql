-- Transactional outbox (services/kit/src/outbox.ts): the tree changes, written in the same
-- transaction as the change, relayed to the TREE_EVENTS stream.
create table outbox (
  id uuid primary key,
  subject text not null,
  payload bytea not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  attempts integer not null default 0
);
create index outbox_unsent on outbox (created_at) where sent_at is null;
