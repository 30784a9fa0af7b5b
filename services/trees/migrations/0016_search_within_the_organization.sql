-- Search reads its own organization's versions only (issue 31). The full-text index held every
-- organization's versions: a search found the matches of all of them and then dropped the
-- others' (at the scale bench's 10 %, two organizations: 10,239 matches read from the table,
-- 4,060 of them another organization's), so what a search cost grew with the whole deployment,
-- not with the caller's organization. The index now starts with the organization (btree_gin,
-- from PostgreSQL's contrib like pg_trgm, trusted since PostgreSQL 13), and the matching in
-- tree_versions_matching (migration 0014, `org_id = tdt_current_org() and search @@ …`) reads
-- the caller's organization's entries only.
create extension if not exists btree_gin;
create index tree_versions_org_search on tree_versions using gin (org_id, search);
drop index tree_versions_search;
