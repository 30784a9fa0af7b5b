-- Organizations (issue 28, docs/decisions/organizations.md): every session, and the tree copies
-- sessions run on, belong to one organization; the rows there were belong to the default one.
-- Row-level security walls both tables off (the kit's tdt_org_wall): the service runs as
-- sessions_app, which sees and writes only the rows of the organization its transaction names.

alter table tree_snapshots add column org_id uuid not null default '00000000-0000-4000-8000-000000000001';
alter table sessions add column org_id uuid not null default '00000000-0000-4000-8000-000000000001';
-- A row takes its transaction's organization; without one (only the owner writes so: a v0.1.0
-- sessions beside this one) the default one, which the wall refuses to sessions_app.
alter table tree_snapshots alter column org_id set default coalesce(tdt_current_org(), '00000000-0000-4000-8000-000000000001'::uuid);
alter table sessions alter column org_id set default coalesce(tdt_current_org(), '00000000-0000-4000-8000-000000000001'::uuid);

-- A session runs on a copy of its own organization (a foreign key is checked around the wall).
alter table tree_snapshots add constraint tree_snapshots_org_key unique (org_id, tree_id, version);
alter table sessions add constraint sessions_org_snapshot_fkey
  foreign key (org_id, tree_id, tree_version) references tree_snapshots (org_id, tree_id, version);
create index sessions_org_started on sessions (org_id, started_at desc, id);

select tdt_app_role('sessions_app');
select tdt_org_wall('tree_snapshots', 'sessions_app');
select tdt_org_wall('sessions', 'sessions_app');

-- The service's across organizations: the outbox its relay sends, and the events it has handled.
grant select, insert, update, delete on handled_events to sessions_app;
do $$
begin
  if to_regclass('outbox') is not null then
    grant select, insert, update, delete on outbox to sessions_app;
  end if;
end
$$;

-- A deactivated user's sessions are theirs in every organization: the consumer that abandons
-- them asks, as the owner (whom the wall does not bind), which organizations hold one, and then
-- works in each.
create function organizations_with_sessions_of(user_id uuid) returns setof uuid
  language sql stable security definer set search_path = public
  as $$ select distinct org_id from sessions where sessions.user_id = organizations_with_sessions_of.user_id
        and status = 'in_progress' $$;
revoke all on function organizations_with_sessions_of(uuid) from public;
grant execute on function organizations_with_sessions_of(uuid) to sessions_app;
