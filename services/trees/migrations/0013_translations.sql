-- Trees in several languages (issue 30, docs/decisions/logic-forms-media-languages.md).
-- Each version (and draft) says the language its texts are written in; versions written before
-- are English. A tree's translations are kept per locale and text, each with the SHA-256 of the
-- primary text it translates (outdated once that text changes); a version carries the up-to-date
-- translations it was written with, by locale and text key, for its sessions.
alter table tree_versions add column language text not null default 'en';
alter table tree_versions add column translations jsonb not null default '{}';
alter table tree_drafts add column language text not null default 'en';

create table tree_translations (
  org_id uuid not null default tdt_current_org(),
  tree_id uuid not null,
  locale text not null,
  node_id text not null,
  field text not null check (field in ('title', 'body', 'option_label', 'field_label')),
  item_id text not null default '',
  text text not null,
  source_sha256 text not null check (source_sha256 ~ '^[0-9a-f]{64}$'),
  updated_by uuid not null,
  updated_at timestamptz not null default now(),
  primary key (org_id, tree_id, locale, node_id, field, item_id),
  foreign key (org_id, tree_id) references trees (org_id, id) on delete cascade
);

select tdt_org_wall('tree_translations', 'trees_app');
