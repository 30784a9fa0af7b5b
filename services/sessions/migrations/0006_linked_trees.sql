-- Link nodes (issue 15): the version each tree entered through a link was pinned at, for the
-- session's life (tree id → version); the copies themselves are in tree_snapshots like the first.
alter table sessions add column pins jsonb not null default '{}';
