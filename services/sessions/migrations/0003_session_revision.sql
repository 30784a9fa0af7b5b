-- Every change to a session counts one revision, so a step can be written in one statement that
-- applies only to the revision it was computed from (compare-and-set), without a transaction
-- holding the row locked across round trips. The trigger counts it, so no writer can forget to.
alter table sessions add column revision integer not null default 0;

create function sessions_next_revision() returns trigger language plpgsql as $$
begin
  new.revision := old.revision + 1;
  return new;
end $$;

create trigger sessions_revision before update on sessions
  for each row execute function sessions_next_revision();
