-- Search ranks on a small vector of what describes a tree (title A, category and tags B,
-- description C), kept apart from `search`, which also holds node text and is used only to
-- match: ranking a candidate then reads a hundred-odd bytes, not the text of all its nodes.
-- A word found only in node text now ranks 0; its weight D was the smallest before.
alter table tree_versions add column rank_vector tsvector;
update tree_versions set rank_vector =
  setweight(to_tsvector('english', title), 'A') ||
  setweight(to_tsvector('english', category || ' ' || array_to_string(tags, ' ')), 'B') ||
  setweight(to_tsvector('english', description), 'C');
alter table tree_versions alter column rank_vector set not null;
