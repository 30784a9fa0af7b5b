-- Organizations (issue 28, docs/decisions/organizations.md): many customers on one deployment.
-- A user belongs to organizations through memberships, each with its role; a login session acts
-- in one organization, under that organization's session policy.

create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
  created_at timestamptz not null default now()
);
create unique index organizations_slug_key on organizations (slug);

-- The organization every deployment starts with; its id is fixed (DEFAULT_ORGANIZATION_ID in the
-- kit), so a token minted before organizations, which names none, acts in it.
insert into organizations (id, name, slug) values ('00000000-0000-4000-8000-000000000001', 'Default', 'default');

create table memberships (
  org_id uuid not null references organizations (id),
  user_id uuid not null references users (id),
  role text not null check (role in ('technician', 'engineer', 'admin')),
  created_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
create index memberships_user on memberships (user_id);

-- Everyone is a member of the default organization with the role they had.
insert into memberships (org_id, user_id, role)
select '00000000-0000-4000-8000-000000000001', id, role from users;

-- users.role is the default organization's role until a later release drops it (a v0.1.0 auth
-- beside this one still reads and writes it): every write of it reaches the membership, so the
-- paths that make accounts (registration, invitations, single sign-on, create-admin) and an
-- admin's role change keep one truth.
create function users_default_membership() returns trigger
  language plpgsql
  as $$
begin
  insert into memberships (org_id, user_id, role)
  values ('00000000-0000-4000-8000-000000000001', new.id, new.role)
  on conflict (org_id, user_id) do update set role = excluded.role;
  return new;
end
$$;
create trigger users_default_membership after insert or update of role on users
  for each row execute function users_default_membership();

-- Who manages organizations. The admins of a single-organization deployment were its platform.
alter table users add column is_platform_admin boolean not null default false;
update users set is_platform_admin = true where role = 'admin';

-- The organization a login session acts in; every token of the session carries it as `org`.
alter table login_sessions add column org_id uuid not null default '00000000-0000-4000-8000-000000000001'
  references organizations (id);
create index login_sessions_user_org on login_sessions (user_id, org_id, created_at desc);

-- One session policy per organization: the one row becomes the default organization's.
alter table session_policy add column org_id uuid references organizations (id);
update session_policy set org_id = '00000000-0000-4000-8000-000000000001';
alter table session_policy drop column singleton;
alter table session_policy alter column org_id set not null;
alter table session_policy add primary key (org_id);

-- An invitation is to one organization; those sent before were to the default one.
alter table mail_tokens add column org_id uuid not null default '00000000-0000-4000-8000-000000000001'
  references organizations (id);
