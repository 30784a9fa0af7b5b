-- Lists at any depth (issue 31, docs/decisions/scale.md): a technician's own sessions and the
-- sessions through one tree and those of one outcome, newest first in the list's own order (ties by id), per
-- organization, so a page by cursor starts at its place in the index and reads only its rows.
-- They replace the indexes of 0001 that named neither the organization nor the tie-breaker.
-- Built in the migration's transaction: at a million sessions each takes seconds, during which
-- session writes wait (docs/decisions/scale.md, "As built").
create index sessions_org_user_started on sessions (org_id, user_id, started_at desc, id);
create index sessions_org_tree_started on sessions (org_id, tree_id, started_at desc, id);
-- An admin's list by outcome, and its count (found by tests/system/query-plans.test.ts).
create index sessions_org_outcome_started on sessions (org_id, outcome, started_at desc, id);
drop index sessions_user;
drop index sessions_tree;
