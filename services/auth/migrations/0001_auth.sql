-- Accounts, signing keys, the account's session policy, login sessions (token families),
-- refresh tokens and rate-limit counters.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  full_name text not null,
  password_hash text not null,
  role text not null check (role in ('technician', 'engineer', 'admin')),
  is_active boolean not null default true,
  created_at timestamptz not null default now()
);
-- Emails compare case-insensitively: Alice@x.com and alice@x.com are one account.
create unique index users_email_key on users (lower(email));

create table signing_keys (
  kid text primary key,
  algorithm text not null,
  private_jwk jsonb not null,
  public_jwk jsonb not null,
  created_at timestamptz not null default now(),
  -- Set when a newer key takes over signing; the key stays published until expires_at.
  retired_at timestamptz,
  expires_at timestamptz
);

-- One row: the account's session policy.
create table session_policy (
  singleton boolean primary key default true check (singleton),
  preset text not null check (preset in ('strict', 'standard', 'aal2', 'custom')),
  idle_max_seconds integer not null,
  abs_max_seconds integer not null,
  reuse_grace_seconds integer not null,
  updated_at timestamptz not null default now()
);
insert into session_policy (preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds)
values ('strict', 259200, 1209600, 0);

create table login_sessions (
  sid uuid primary key,
  user_id uuid not null references users (id),
  auth_time timestamptz not null,
  idle_max_seconds integer not null,
  abs_max_seconds integer not null,
  reuse_grace_seconds integer not null,
  user_agent text not null default '',
  ip text not null default '',
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  ended_at timestamptz,
  ended_reason text
);
create index login_sessions_user on login_sessions (user_id) where ended_at is null;

create table refresh_tokens (
  jti uuid primary key,
  sid uuid not null references login_sessions (sid),
  user_id uuid not null references users (id),
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text,
  child_jti uuid,
  -- The pair minted when this token was rotated, kept only while a reuse grace window can
  -- ask for it again (policies with reuse_grace_seconds > 0); cleared after.
  child_pair jsonb
);
create index refresh_tokens_sid on refresh_tokens (sid);

create table rate_limit_hits (
  key text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (key, window_start)
);

-- Up to v0.1.0 the event outbox was made here too; it is the kit's now
-- (services/kit/src/events/outbox-migrations.ts, docs/decisions/outbox-migration.md).
