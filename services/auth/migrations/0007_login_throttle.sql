-- Failed password logins, for the login throttle (issue 23, src/login-throttle.ts): one row per
-- client address ('address') and one per email from it ('pair'). Replaces the per-email and
-- per-address minute windows that login kept in rate_limit_hits (register still uses those).
create table login_failures (
  client_address text not null,
  scope text not null check (scope in ('address', 'pair')),
  -- The email as normalizeEmail spells it; '' in an address's own row.
  email text not null,
  failures integer not null default 0 check (failures >= 0),
  last_failure_at timestamptz,
  primary key (client_address, scope, email)
);
-- Rows quiet for longer than the throttle remembers are deleted by age.
create index login_failures_last_failure on login_failures (last_failure_at);
