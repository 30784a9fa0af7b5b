-- The technician as auth knew them when the session started (issue 15): reports show a name and
-- an email, not a UUID. Asked once per session, never per step; empty for older sessions.
alter table sessions add column user_name text not null default '', add column user_email text not null default '';
