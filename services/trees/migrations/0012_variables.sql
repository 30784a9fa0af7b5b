-- A tree's variables (issue 30: variables, forms and logic nodes), beside its nodes: on each
-- version and on the draft, as the author sent them. Older versions have none.
alter table tree_versions add column variables jsonb not null default '[]';
alter table tree_drafts add column variables jsonb not null default '[]';
