-- Organizations (issue 28, docs/decisions/organizations.md): every tree, and all that hangs off
-- one, belongs to one organization. The rows there were belong to the default organization.
-- Row-level security walls each tenant table off (the kit's tdt_org_wall): the service runs as
-- trees_app, which sees and writes only the rows of the organization its transaction names
-- (app.org_id, set by the kit's inOrganization), and nothing outside one.

do $$
declare
  tenant text;
begin
  foreach tenant in array array['trees', 'tree_versions', 'tree_drafts', 'tree_reviews', 'tree_history',
                                'search_words', 'analytics_sessions', 'analytics_entries', 'analytics_stays'] loop
    execute format('alter table %I add column org_id uuid not null default %L', tenant,
                   '00000000-0000-4000-8000-000000000001');
    -- A row takes its transaction's organization. Without one it would take the default one,
    -- which only the owner may write so (a v0.1.0 trees beside this one connects as the owner):
    -- the wall refuses it to trees_app, whose transactions always name theirs.
    execute format('alter table %I alter column org_id set default coalesce(tdt_current_org(), %L::uuid)', tenant,
                   '00000000-0000-4000-8000-000000000001');
  end loop;
end
$$;

-- No row points into another organization: the keys name the organization too (a foreign key
-- is checked around row-level security, so the wall alone would not stop one).
alter table trees add constraint trees_org_tree_key unique (org_id, id);
alter table tree_versions add constraint tree_versions_org_tree_fkey
  foreign key (org_id, tree_id) references trees (org_id, id);
alter table tree_drafts add constraint tree_drafts_org_tree_fkey
  foreign key (org_id, tree_id) references trees (org_id, id);
alter table tree_reviews add constraint tree_reviews_org_tree_fkey
  foreign key (org_id, tree_id) references trees (org_id, id);
alter table tree_history add constraint tree_history_org_tree_fkey
  foreign key (org_id, tree_id) references trees (org_id, id);

-- The typo dictionary is the organization's own: a correction never spells another's words.
alter table search_words drop constraint search_words_pkey;
alter table search_words add primary key (org_id, word);

-- The listing walks an organization's versions newest first.
create index tree_versions_org_newest on tree_versions (org_id, created_at desc, tree_id);

select tdt_app_role('trees_app');
select tdt_org_wall(tenant, 'trees_app')
from unnest(array['trees', 'tree_versions', 'tree_drafts', 'tree_reviews', 'tree_history', 'search_words',
                  'analytics_sessions', 'analytics_entries', 'analytics_stays']::regclass[]) as tenant;

-- What is the service's across organizations: the outbox its relay sends, and the ids of the
-- session events its analytics consumer has applied.
-- (The kit makes the outbox before these migrations; a database migrated without it has none.)
grant select, insert, update, delete on analytics_handled_events to trees_app;
do $$
begin
  if to_regclass('outbox') is not null then
    grant select, insert, update, delete on outbox to trees_app;
  end if;
end
$$;
