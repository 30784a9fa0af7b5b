-- A session's variables (issue 30): the values it started with and what its forms filled in.
-- Sessions started before have none.
alter table sessions add column variables jsonb not null default '{}';
