-- Single sign-on with OpenID Connect providers (issue 14).

-- A user created by single sign-on has no password until they set one; password login refuses them.
alter table users alter column password_hash drop not null;

-- A user's account at a provider: the provider's (issuer, subject) names it for good.
create table oidc_identities (
  issuer text not null,
  subject text not null,
  provider_id text not null,
  user_id uuid not null references users (id),
  -- The email the provider gave when the link was made.
  email text not null default '',
  linked_at timestamptz not null default now(),
  primary key (issuer, subject)
);
-- One account per provider and user: a second account at the same provider claiming the user's
-- email is refused rather than linked.
create unique index oidc_identities_user_provider on oidc_identities (user_id, provider_id);

-- Authorization requests on their way through a provider, by the hash of their state; taken once.
create table oidc_login_attempts (
  state_hash text primary key,
  provider_id text not null,
  -- The hash of the browser's binding cookie: a callback from another browser is refused.
  binding_hash text not null,
  code_verifier text not null,
  nonce text not null,
  return_to text not null,
  expires_at timestamptz not null
);
create index oidc_login_attempts_expiry on oidc_login_attempts (expires_at);

-- One-time codes handed to return_to, by their hash: single use, short-lived.
create table oidc_login_codes (
  code_hash text primary key,
  user_id uuid not null references users (id),
  provider_id text not null,
  -- The provider's session id (the ID token's `sid`), for its back-channel logout.
  provider_sid text,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index oidc_login_codes_expiry on oidc_login_codes (expires_at);

-- Where a login session came from: null for a password login.
alter table login_sessions add column oidc_provider text, add column oidc_sid text;
create index login_sessions_oidc on login_sessions (oidc_provider, oidc_sid) where ended_at is null;

-- Logout tokens already acted on (their jti), until they could no longer be accepted anyway.
create table oidc_logout_tokens (
  provider_id text not null,
  jti text not null,
  expires_at timestamptz not null,
  primary key (provider_id, jti)
);
