-- The listing's order: a page walks versions newest first and stops when it is full, rather
-- than sorting every visible version to keep twenty.
create index tree_versions_newest on tree_versions (created_at desc, tree_id);
