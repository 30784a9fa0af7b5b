-- Identity is proven, never asserted (issue 23): verified email addresses, mailed single-use
-- tokens, a mail outbox, sign-ins bound to their browser up to the exchange, and linking asked
-- for by a signed-in user.

-- When the address was proven (a verification link followed, a reset link used, an invitation
-- accepted, or a provider that owns the domain vouched for it). Null: never proven, so no single
-- sign-on is ever linked to the account on the strength of its email.
alter table users add column email_verified_at timestamptz;
-- Registered under REGISTRATION=verify: password login waits for the verification. Accounts made
-- before this migration, by an admin's invitation or by `create-admin` are not held back.
alter table users add column verification_required boolean not null default false;

-- Emails are compared after trimming, Unicode NFC and lower-casing: stored that way from now on,
-- and existing rows brought to it where that makes no two accounts one.
update users u set email = lower(normalize(btrim(u.email), NFC))
where u.email <> lower(normalize(btrim(u.email), NFC))
  and not exists (
    select 1 from users other
    where other.id <> u.id and lower(other.email) = lower(normalize(btrim(u.email), NFC)));

-- The tokens of mailed links, by their SHA-256 only: single use (used_at), short-lived.
create table mail_tokens (
  token_hash text primary key,
  purpose text not null check (purpose in ('verify_email', 'change_email', 'reset_password', 'invite')),
  -- The account it acts on (none for an invitation: the account does not exist yet).
  user_id uuid references users (id),
  -- The address the link was sent to: the one to verify, to change to, or invited.
  email text not null,
  -- An invitation's role.
  role text check (role in ('technician', 'engineer', 'admin')),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index mail_tokens_open on mail_tokens (user_id, purpose) where used_at is null;
create index mail_tokens_expiry on mail_tokens (expires_at);

-- Mail waiting for the SMTP server, written in the transaction that decided to send it: a mail
-- server that is down delays mail and loses none. The bodies are cleared once sent.
create table mail_outbox (
  id uuid primary key default gen_random_uuid(),
  to_address text not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  created_at timestamptz not null default now(),
  next_attempt_at timestamptz not null default now(),
  attempts integer not null default 0,
  sent_at timestamptz,
  last_error text
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where sent_at is null;

-- The one-time code is good only in the browser whose sign-in made it: the hash of that
-- attempt's binding. Codes made before this migration have none and are refused.
alter table oidc_login_codes add column binding_hash text;

-- An attempt started by a signed-in user to link a provider to their account: who, and from
-- which login session (the link is refused if that session ended meanwhile).
alter table oidc_login_attempts add column link_user_id uuid references users (id),
  add column link_sid uuid;
