-- An organization's own settings (issue 28, docs/decisions/organizations.md): the email domains it
-- takes members from, its limits, and the OpenID Connect providers that sign people in to it.

-- Empty: anyone. The domains restrict who joins; they prove nothing about an address.
alter table organizations add column domains text[] not null default '{}';
-- Members plus open invitations; null: no limit.
alter table organizations add column max_members integer check (max_members between 1 and 1000000);

-- An organization's providers, managed by its admins. The id is the deployment's (it is in
-- `/auth/oidc/{id}/…`); the deployment's own providers (OIDC_PROVIDERS) are not rows. The client
-- secret is AES-256-GCM under OIDC_SECRET_KEY: `client_secret` holds iv, tag and ciphertext.
create table oidc_providers (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  org_id uuid not null references organizations (id),
  name text not null check (char_length(name) between 1 and 100),
  issuer text not null,
  client_id text not null,
  client_secret text not null,
  scopes text[] not null,
  default_role text not null check (default_role in ('technician', 'engineer', 'admin')),
  allowed_domains text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index oidc_providers_org on oidc_providers (org_id);
