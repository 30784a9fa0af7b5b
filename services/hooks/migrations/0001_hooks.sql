-- The hooks service (issue 29, docs/decisions/hooks.md): the endpoints organizations register,
-- and the deliveries of events to them with every attempt. Endpoints are walled off by
-- organization (the kit's tdt_org_wall); deliveries carry their organization too but are read
-- across organizations by the delivery worker, as an outbox is by its relay.

select tdt_app_role('hooks_app');

create table endpoints (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null default tdt_current_org(),
  url text not null check (char_length(url) between 1 and 2048),
  description text not null default '' check (char_length(description) <= 500),
  event_types text[] not null check (cardinality(event_types) between 1 and 20),
  enabled boolean not null default true,
  -- Why it stopped: `gone` (it answered 410), `failing` (days of failures), or `admin`.
  disabled_reason text check (disabled_reason in ('gone', 'failing', 'admin')),
  -- Signing secrets (whsec_…), newest first; the previous one only until `previous_until`.
  secret text not null,
  previous_secret text,
  previous_until timestamptz,
  -- The first failure of the run of failures that is still going on; cleared by a success.
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, id)
);
create index endpoints_org on endpoints (org_id, created_at);
select tdt_org_wall('endpoints', 'hooks_app');

create table deliveries (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  endpoint_id uuid not null,
  -- The TDT event's id: `webhook-id`, the same on every attempt, so a receiver dedupes by it.
  event_id text not null,
  event_type text not null,
  -- Deliveries of one endpoint with the same key go in order (a session's events).
  ordering_key text not null,
  -- The event's order within its key: when it happened.
  occurred_at timestamptz not null,
  -- The CloudEvents body, kept whole: a delivery never depends on the stream's retention.
  body text not null,
  state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A worker's claim of an attempt; a worker that died leaves it to expire.
  locked_until timestamptz,
  created_at timestamptz not null default now(),
  foreign key (org_id, endpoint_id) references endpoints (org_id, id) on delete cascade,
  unique (endpoint_id, event_id)
);
create index deliveries_due on deliveries (next_attempt_at) where state = 'pending';
create index deliveries_order on deliveries (endpoint_id, ordering_key, occurred_at) where state = 'pending';
create index deliveries_endpoint on deliveries (endpoint_id, created_at desc);

create table delivery_attempts (
  delivery_id uuid not null references deliveries (id) on delete cascade,
  attempt integer not null,
  at timestamptz not null,
  status integer,
  latency_ms integer not null,
  -- Why no answer came (the address guard, a timeout, a failed connection).
  error text,
  excerpt text not null default '',
  primary key (delivery_id, attempt)
);

grant select, insert, update, delete on deliveries, delivery_attempts to hooks_app;
