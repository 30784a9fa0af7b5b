-- API keys for machines (issue 29, docs/decisions/hooks.md): an organization's admins make them;
-- a key acts in its organization within its scopes, up to a daily quota. A key is random, so it
-- is stored as its SHA-256 (a slow hash would buy nothing) and looked up by it.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references organizations (id),
  name text not null check (char_length(name) between 1 and 100),
  scopes text[] not null check (cardinality(scopes) between 1 and 10),
  key_hash bytea not null unique check (length(key_hash) = 32),
  daily_quota integer not null check (daily_quota between 1 and 10000000),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_org on api_keys (org_id, created_at desc) where revoked_at is null;

-- Requests per key and UTC day: one row a day, counted up atomically at each request.
create table api_key_usage (
  key_id uuid not null references api_keys (id) on delete cascade,
  day date not null,
  count integer not null,
  primary key (key_id, day)
);
