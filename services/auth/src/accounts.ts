import {
  type AccessClaims,
  AppError,
  checks,
  DEFAULT_ORGANIZATION_ID,
  inTransaction,
  type Role,
  type Sql,
  type TransactionSql,
} from "@tdt/kit";
import type { Invite, OrganizationMember, User } from "@tdt/proto/tdt/auth/v1/auth";
import { normalizeEmail } from "./email-address.js";
import { announceUserChanged } from "./events.js";
import { endLoginSessions } from "./login-sessions.js";
import { queueMail } from "./mail/mail-outbox.js";
import { issueMailToken, useMailToken } from "./mail/mail-tokens.js";
import { mails } from "./mail/templates.js";
import { admit } from "./organization-settings.js";
import { joinOnly, roleIn } from "./organizations.js";
import { hashPassword, passwordMatches } from "./passwords.js";
import { findUserByEmail, lockUser, registrationProblems, toUser, type UserRow } from "./users.js";

/**
 * Accounts whose address is proven by mail (issue 23): registration under each REGISTRATION mode,
 * verification, password reset, change of address and invitations. Every request that names an
 * address answers the same whether or not an account has it; what differs goes into the mail,
 * which only the address's owner reads. Each mail is queued in the transaction of its change.
 */

/** Who may make an account: anyone at once, anyone who proves the address, the invited, nobody. */
export const REGISTRATION_MODES = ["open", "verify", "invite", "closed"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** A first password (a user made by single sign-on) or a new address may be set this long after signing in. */
export const RECENT_SIGN_IN_SECONDS = 600;

export interface AccountDeps {
  sql: Sql;
  registration: RegistrationMode;
  /** The web app's base URL: the mailed links point at its pages. */
  publicUrl: string;
  /** Asks the mail relay to deliver what was just queued. */
  mailQueued: () => void;
  /** The providers whose `allowed_domains` own the address's domain (sso-login.ts, the trust rules). */
  providersOwning: (email: string) => string[];
}

/** A page of the web app with a mailed token in its query. */
const pageLink = (deps: AccountDeps, page: string, token?: string): string => {
  const url = new URL(`${deps.publicUrl}/${page}`);
  if (token !== undefined) url.searchParams.set("token", token);
  return url.href;
};

const invalidToken = () => new AppError("invalid_mail_token");

/** Runs `work` in a transaction, then nudges the mail relay (the mail exists once it committed). */
async function withMail<T>(deps: AccountDeps, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  const result = await inTransaction(deps.sql, work);
  deps.mailQueued();
  return result;
}

/**
 * Register, top-down:
 * 1. Only under `open` and `verify`; otherwise 403 `registration_closed`.
 * 2. The input's rules; the address normalised.
 * 3. The password hashed whatever happens next, so both answers take the same time.
 * 4. A new address: the account (under `verify` it may not sign in before verifying) and a
 *    verification link. A taken address: a mail telling its owner, and nothing else.
 * 5. The same answer either way.
 */
export async function register(
  deps: AccountDeps,
  request: { email: string; password: string; full_name: string },
): Promise<"verification_sent"> {
  if (deps.registration !== "open" && deps.registration !== "verify") throw new AppError("registration_closed");
  const problems = registrationProblems(request);
  if (problems.length > 0) throw AppError.invalid(problems);
  const email = normalizeEmail(request.email);
  const passwordHash = await hashPassword(request.password);
  await withMail(deps, async (tx) => {
    // A new account joins the default organization: within its domains and seats (a taken
    // address is answered the same way below, so this says nothing of who has an account).
    await admit(tx, DEFAULT_ORGANIZATION_ID, email);
    const [created] = await tx<{ id: string }[]>`
      insert into users (email, full_name, password_hash, role, verification_required)
      values (${email}, ${request.full_name.trim()}, ${passwordHash}, 'technician', ${deps.registration === "verify"})
      on conflict do nothing
      returning id`;
    if (!created) {
      await queueMail(tx, mails.alreadyRegistered(email, pageLink(deps, "forgot-password")));
      return;
    }
    const { token, ttlSeconds } = await issueMailToken(tx, { purpose: "verify_email", userId: created.id, email });
    await queueMail(tx, mails.verifyEmail(email, pageLink(deps, "verify-email", token), ttlSeconds));
  });
  return "verification_sent";
}

/** A new verification link for an account whose address is not proven yet; nothing otherwise. */
export async function resendVerification(deps: AccountDeps, rawEmail: string): Promise<"verification_sent"> {
  const email = normalizeEmail(rawEmail);
  await withMail(deps, async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user?.is_active || user.email_verified_at) return;
    const { token, ttlSeconds } = await issueMailToken(tx, { purpose: "verify_email", userId: user.id, email });
    await queueMail(tx, mails.verifyEmail(email, pageLink(deps, "verify-email", token), ttlSeconds));
  });
  return "verification_sent";
}

/**
 * Follows a verification link: the address it was sent to is proven. For a change of address,
 * the account moves to it (409 `email_already_registered` if another account took it meanwhile)
 * and its other login sessions end.
 */
export async function verifyEmail(deps: AccountDeps, token: string): Promise<void> {
  await inTransaction(deps.sql, async (tx) => {
    const row = await useMailToken(tx, token, ["verify_email", "change_email"]);
    if (!row?.user_id) throw invalidToken();
    if (row.purpose === "verify_email") {
      // Still the account's address: a link to an address the account has left proves nothing now.
      const proven = await tx`
        update users set email_verified_at = coalesce(email_verified_at, now())
        where id = ${row.user_id} and lower(email) = ${row.email} and is_active
        returning 1`;
      if (proven.length === 0) throw invalidToken();
      return;
    }
    // Taken meanwhile, or by a racing change or registration (the unique index decides): refused.
    const moved = await tx`
      update users set email = ${row.email}, email_verified_at = now()
      where id = ${row.user_id} and is_active
      returning 1`.catch((error: { code?: string }) => {
      if (error.code === "23505") throw new AppError("email_already_registered");
      throw error;
    });
    if (moved.length === 0) throw invalidToken();
    // Links made by single sign-on stay (they name the provider's account, not the address); every
    // login session ends, so the account is signed in again under its new address.
    await endLoginSessions(tx, { userId: row.user_id }, { kind: "revoked", reason: "email_changed" });
    await announceUserChanged(tx, row.user_id);
  });
}

/** Sends a reset link to an active account's address; nothing for any other address. */
export async function forgotPassword(deps: AccountDeps, rawEmail: string): Promise<"reset_sent"> {
  const email = normalizeEmail(rawEmail);
  await withMail(deps, async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user?.is_active) return;
    const { token, ttlSeconds } = await issueMailToken(tx, { purpose: "reset_password", userId: user.id, email });
    await queueMail(tx, mails.resetPassword(email, pageLink(deps, "reset-password", token), ttlSeconds));
  });
  return "reset_sent";
}

/**
 * Follows a reset link: a new password, the address proven (the mail reached its owner), every
 * login session of the account ended with `auth.session.revoked` (`password_reset`), and every
 * provider link removed but those of providers that own the address's domain: whoever knew the
 * old password, or pre-registered the address (by password or through a provider whose users
 * choose their email), is out and stays out.
 */
export async function resetPassword(deps: AccountDeps, request: { token: string; password: string }): Promise<void> {
  checks().contract("tdt.auth.v1.ResetPasswordRequest", request).done();
  const passwordHash = await hashPassword(request.password);
  await inTransaction(deps.sql, async (tx) => {
    const row = await useMailToken(tx, request.token, ["reset_password"]);
    if (!row?.user_id) throw invalidToken();
    const reset = await tx`
      update users set password_hash = ${passwordHash}, email_verified_at = coalesce(email_verified_at, now())
      where id = ${row.user_id} and lower(email) = ${row.email} and is_active
      returning 1`;
    if (reset.length === 0) throw invalidToken();
    const trusted = deps.providersOwning(row.email);
    await tx`
      delete from oidc_identities
      where user_id = ${row.user_id} and not (provider_id = any(${trusted}::text[]))`;
    await endLoginSessions(tx, { userId: row.user_id }, { kind: "revoked", reason: "password_reset" });
    await announceUserChanged(tx, row.user_id);
  });
}

/**
 * The caller moves their account to a new address: a link goes to it, and the address changes
 * only when the link is followed. The caller proves it is them with their password, or, without
 * one (single sign-on), with a recent sign-in. A taken address gets a mail saying so; the answer
 * is the same.
 */
export async function changeEmail(
  deps: AccountDeps,
  claims: AccessClaims,
  request: { email: string; current_password: string },
): Promise<"verification_sent"> {
  checks().contract("tdt.auth.v1.ChangeEmailRequest", request).done();
  const problems = registrationProblems({ email: request.email, password: "x".repeat(8), full_name: "x" });
  if (problems.length > 0) throw AppError.invalid(problems);
  const email = normalizeEmail(request.email);
  const [caller] = await deps.sql<{ password_hash: string | null; auth_time: Date; email: string }[]>`
    select u.password_hash, u.email, s.auth_time from users u join login_sessions s on s.user_id = u.id
    where u.id = ${claims.sub} and s.sid = ${claims.sid} and s.ended_at is null and u.is_active`;
  if (!caller) throw new AppError("session_revoked");
  if (caller.password_hash !== null) {
    if (!(await passwordMatches(request.current_password, caller.password_hash))) throw new AppError("wrong_password");
  } else if (Date.now() - caller.auth_time.getTime() > RECENT_SIGN_IN_SECONDS * 1000) {
    throw new AppError("reauthentication_required");
  }
  if (normalizeEmail(caller.email) === email) return "verification_sent";
  await withMail(deps, async (tx) => {
    if (await findUserByEmail(tx, email)) {
      await queueMail(tx, mails.changeEmailTaken(email));
      return;
    }
    const { token, ttlSeconds } = await issueMailToken(tx, { purpose: "change_email", userId: claims.sub, email });
    await queueMail(tx, mails.changeEmail(email, pageLink(deps, "verify-email", token), ttlSeconds));
  });
  return "verification_sent";
}

/** An admin invites an address with a role (409 `email_already_registered` when it has an account). */
export async function createInvite(
  deps: AccountDeps,
  claims: AccessClaims,
  request: { email: string; role: string },
): Promise<Invite> {
  const { email, role } = invitedAddress("tdt.auth.v1.CreateInviteRequest", request);
  return withMail(deps, async (tx) => {
    if (await findUserByEmail(tx, email)) throw new AppError("email_already_registered");
    await admit(tx, claims.org, email);
    return mailInvitation(deps, tx, { email, role, orgId: claims.org, invitedBy: claims.sub });
  });
}

/**
 * The address and role someone is invited or added with, held to the contract's bounds and to
 * registration's rule for an address; the address as stored.
 */
function invitedAddress(
  message: "tdt.auth.v1.CreateInviteRequest" | "tdt.auth.v1.AddOrganizationMemberRequest",
  request: { email: string; role: string },
): { email: string; role: Role } {
  checks().contract(message, request).done();
  const problems = registrationProblems({ email: request.email, password: "x".repeat(8), full_name: "x" });
  if (problems.length > 0) throw AppError.invalid(problems);
  return { email: normalizeEmail(request.email), role: request.role as Role };
}

/** Mails an invitation to an organization, in the caller's transaction. */
async function mailInvitation(
  deps: AccountDeps,
  tx: TransactionSql,
  invite: { email: string; role: Role; orgId: string; invitedBy: string },
): Promise<Invite> {
  const { email, role } = invite;
  const { token, ttlSeconds } = await issueMailToken(tx, {
    purpose: "invite",
    email,
    role,
    createdBy: invite.invitedBy,
    orgId: invite.orgId,
  });
  await queueMail(tx, mails.invite(email, pageLink(deps, "accept-invite", token), role, ttlSeconds));
  return { email, role, expires_at: new Date(Date.now() + ttlSeconds * 1000).toISOString() };
}

/**
 * An organization's admin adds an address with a role: an account becomes a member at once
 * (409 `already_member` when it is one), any other address is mailed an invitation to the
 * organization. The caller was checked to administer it.
 */
export async function addOrganizationMember(
  deps: AccountDeps,
  claims: AccessClaims,
  request: { id: string; email: string; role: string },
): Promise<OrganizationMember> {
  const { email, role } = invitedAddress("tdt.auth.v1.AddOrganizationMemberRequest", request);
  return withMail(deps, async (tx) => {
    const user = await findUserByEmail(tx, email);
    // Already a member: 409 `already_member` below, whatever the seats and domains say now.
    if (!user || !(await roleIn(tx, request.id, user.id))) await admit(tx, request.id, email);
    if (!user) {
      await mailInvitation(deps, tx, { email, role, orgId: request.id, invitedBy: claims.sub });
      return { email, role, status: "invited" };
    }
    // The user's row first, as every change of what a user may do locks it (a login waits for it).
    await lockUser(tx, user.id);
    const added = await tx`
      insert into memberships (org_id, user_id, role) values (${request.id}, ${user.id}, ${role})
      on conflict (org_id, user_id) do nothing
      returning 1`;
    if (added.length === 0) throw new AppError("already_member");
    return { email, role, status: "member" };
  });
}

/** The invitee chooses a password and a name: an account with the invited role, its address proven. */
export async function acceptInvite(
  deps: AccountDeps,
  request: { token: string; password: string; full_name: string },
): Promise<User> {
  checks().contract("tdt.auth.v1.AcceptInviteRequest", request).done();
  const problems = registrationProblems({ email: "invitee@example.com", ...request });
  if (problems.length > 0) throw AppError.invalid(problems);
  const passwordHash = await hashPassword(request.password);
  return inTransaction(deps.sql, async (tx) => {
    const row = await useMailToken(tx, request.token, ["invite"]);
    if (!row?.role) throw invalidToken();
    const [user] = await tx<UserRow[]>`
      insert into users (email, full_name, password_hash, role, email_verified_at)
      values (${row.email}, ${request.full_name.trim()}, ${passwordHash}, ${row.role}, now())
      on conflict do nothing
      returning *`;
    // Someone registered the address since: the invitation cannot make a second account.
    if (!user) throw new AppError("email_already_registered");
    // An invitation to another organization joins only there.
    await joinOnly(tx, user.id, row.org_id, row.role);
    return toUser(user);
  });
}
