import { createHash } from "node:crypto";
import type { Role, Sql, TransactionSql } from "@tdt/kit";
import type { UserRow } from "./users.js";

/** Secrets (states, bindings, one-time codes) are kept only as their SHA-256. */
export const digest = (secret: string): string => createHash("sha256").update(secret).digest("base64url");

export interface LoginAttempt {
  provider_id: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  /** A link asked for by a signed-in user: who, from which login session (null for a sign-in). */
  link_user_id: string | null;
  link_sid: string | null;
}

/** Stores an authorization request on its way through the provider; forgets expired ones as it goes. */
export async function saveLoginAttempt(
  sql: Sql,
  attempt: LoginAttempt & { state: string; binding: string; ttlSeconds: number },
): Promise<void> {
  await sql`
    insert into oidc_login_attempts (state_hash, provider_id, binding_hash, code_verifier, nonce, return_to,
                                     link_user_id, link_sid, expires_at)
    values (${digest(attempt.state)}, ${attempt.provider_id}, ${digest(attempt.binding)}, ${attempt.code_verifier},
            ${attempt.nonce}, ${attempt.return_to}, ${attempt.link_user_id}, ${attempt.link_sid},
            now() + make_interval(secs => ${attempt.ttlSeconds}))`;
  await sql`delete from oidc_login_attempts where expires_at < now() - interval '1 hour'`;
}

/**
 * Takes the attempt of `state` once: only from the browser that started it (its binding), for the
 * provider it went to, before it expires. A second callback with the same state finds nothing.
 */
export async function takeLoginAttempt(
  sql: Sql,
  input: { state: string; binding: string; provider_id: string },
): Promise<LoginAttempt | undefined> {
  const [row] = await sql<LoginAttempt[]>`
    delete from oidc_login_attempts
    where state_hash = ${digest(input.state)} and binding_hash = ${digest(input.binding)}
      and provider_id = ${input.provider_id} and expires_at > now()
    returning provider_id, code_verifier, nonce, return_to, link_user_id, link_sid`;
  return row;
}

/** A provider's account, as the ID token names it. */
export interface ProviderAccount {
  provider_id: string;
  issuer: string;
  subject: string;
  email: string;
}

/** The user linked to the provider's account, if any. */
export async function findLinkedUser(
  sql: Sql | TransactionSql,
  account: ProviderAccount,
): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    select u.* from oidc_identities i join users u on u.id = i.user_id
    where i.issuer = ${account.issuer} and i.subject = ${account.subject}`;
  return row;
}

/**
 * Links the account to the user. False when the user already has another account at this
 * provider (the unique index), or the account is linked to someone else meanwhile.
 */
export async function linkAccount(tx: TransactionSql, userId: string, account: ProviderAccount): Promise<boolean> {
  const rows = await tx`
    insert into oidc_identities (issuer, subject, provider_id, user_id, email)
    values (${account.issuer}, ${account.subject}, ${account.provider_id}, ${userId}, ${account.email})
    on conflict do nothing
    returning 1`;
  return rows.length === 1;
}

/** A user made by single sign-on: no password until they set one; its address proven when the provider owns it. */
export async function createSsoUser(
  tx: TransactionSql,
  input: { email: string; full_name: string; role: Role; emailVerified: boolean },
): Promise<UserRow | undefined> {
  const [row] = await tx<UserRow[]>`
    insert into users (email, full_name, password_hash, role, email_verified_at)
    values (${input.email}, ${input.full_name}, null, ${input.role}, ${input.emailVerified ? new Date() : null})
    on conflict do nothing
    returning *`;
  return row;
}

/** Removes the user's link to the provider; false when there was none. */
export async function unlinkAccount(tx: TransactionSql, userId: string, providerId: string): Promise<boolean> {
  const rows = await tx`
    delete from oidc_identities where user_id = ${userId} and provider_id = ${providerId} returning 1`;
  return rows.length === 1;
}

/** What a one-time code stands for. */
export interface LoginGrant {
  user_id: string;
  provider_id: string;
  provider_sid: string | null;
}

/** Stores a one-time code with the binding of the browser whose sign-in made it. */
export async function saveLoginCode(
  sql: Sql,
  input: LoginGrant & { code: string; binding: string; ttlSeconds: number },
): Promise<void> {
  await sql`
    insert into oidc_login_codes (code_hash, binding_hash, user_id, provider_id, provider_sid, expires_at)
    values (${digest(input.code)}, ${digest(input.binding)}, ${input.user_id}, ${input.provider_id},
            ${input.provider_sid}, now() + make_interval(secs => ${input.ttlSeconds}))`;
  await sql`delete from oidc_login_codes where expires_at < now() - interval '1 hour'`;
}

/**
 * Uses the code once, in the caller's transaction, and only in the browser that made it (its
 * binding): of any number of racing exchanges, one gets it; a code opened in another browser
 * (login CSRF) gets nothing and stays unused.
 */
export async function useLoginCode(tx: TransactionSql, code: string, binding: string): Promise<LoginGrant | undefined> {
  if (binding === "") return undefined;
  const [row] = await tx<LoginGrant[]>`
    update oidc_login_codes set used_at = now()
    where code_hash = ${digest(code)} and binding_hash = ${digest(binding)} and used_at is null and expires_at > now()
    returning user_id, provider_id, provider_sid`;
  return row;
}

/** Records a logout token's jti; false when it was seen before (a replay). */
export async function firstUseOfLogoutToken(
  tx: TransactionSql,
  input: { provider_id: string; jti: string; expiresAt: Date },
): Promise<boolean> {
  await tx`delete from oidc_logout_tokens where expires_at < now()`;
  const rows = await tx`
    insert into oidc_logout_tokens (provider_id, jti, expires_at)
    values (${input.provider_id}, ${input.jti}, ${input.expiresAt})
    on conflict do nothing
    returning 1`;
  return rows.length === 1;
}

/**
 * The open login sessions a provider's logout names: its session id, or every session it started
 * for the account (`sub`), or those of the account within that session when both are given.
 */
export async function sessionsFromProvider(
  tx: TransactionSql,
  input: { provider_id: string; issuer: string; subject?: string | undefined; sid?: string | undefined },
): Promise<string[]> {
  const rows = await tx<{ sid: string }[]>`
    select s.sid from login_sessions s
    where s.ended_at is null and s.oidc_provider = ${input.provider_id}
      ${input.sid === undefined ? tx`` : tx`and s.oidc_sid = ${input.sid}`}
      ${
        input.subject === undefined
          ? tx``
          : tx`and s.user_id = (select user_id from oidc_identities where issuer = ${input.issuer} and subject = ${input.subject})`
      }`;
  return rows.map((row) => row.sid);
}
