-- A session's outcome is one of the contract's (`tdt.trees.v1.Outcome` in trees.proto), which the
-- step engine checks before any write; the list 0001 wrote into this check was a second copy to
-- edit with every new outcome. The column stays text, as the trees service's analytics copy is.
-- (docs/decisions/outcomes.md)
alter table sessions drop constraint if exists sessions_outcome_check;
