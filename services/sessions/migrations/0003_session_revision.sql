-- Every change to a session counts one revision, so a step can be written in one statement that
-- applies only to the revision it was computed from (compare-and-set), without a transaction
-- holding the row locked across round trips.
alter table sessions add column revision integer not null default 0;
