/** The one-process baseline's own tables: the rows TDT's hot paths read and write, in one database. */
export const TABLES = `
create table users (
  id uuid primary key,
  email text not null unique,
  full_name text not null,
  role text not null,
  created_at timestamptz not null default now()
);
create table refresh_tokens (
  id uuid primary key,
  user_id uuid not null references users(id),
  family_id uuid not null,
  parent_id uuid references refresh_tokens(id),
  used_at timestamptz,
  revoked_at timestamptz,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create table outbox (
  id bigint generated always as identity primary key,
  subject text not null,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create table trees (
  id uuid primary key,
  title text not null,
  updated_at timestamptz not null default now(),
  summary jsonb not null,
  document text not null
);
create index trees_by_title on trees (title, id);
create table sessions (
  id uuid primary key,
  user_id uuid not null references users(id),
  tree_id uuid not null references trees(id),
  status text not null,
  current_node_id text not null,
  steps jsonb not null default '[]',
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz
);
`;
