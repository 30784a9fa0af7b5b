/** What an error answer means to the person at the screen, by its stable `detail` code. */
import { ApiError } from "./api-error.js";

const SENTENCES: Record<string, string> = {
  invalid_credentials: "Wrong email or password.",
  email_not_verified: "Your email address is not confirmed yet: open the link we mailed you, or have it sent again.",
  invalid_mail_token: "This link is unknown, already used or expired. Ask for a new one.",
  registration_closed: "New accounts are made by invitation only. Ask an administrator to invite you.",
  email_already_registered: "An account with this email address exists already.",
  wrong_password: "Your current password is not right.",
  reauthentication_required: "This needs a recent sign-in. Log out, sign in again and repeat it.",
  origin_not_allowed: "This page may not sign in from where it was opened. Open the app at its own address.",
  invalid_login_code: "The sign-in expired before it finished. Please sign in again.",
  sso_provider_unavailable: "Your sign-in provider cannot be reached. Try again shortly.",
  too_many_attempts: "Too many login attempts. Wait a minute and try again.",
  rate_limited: "Too many requests. Wait a moment and try again.",
  not_authenticated: "Please log in.",
  invalid_token: "Your login is no longer valid. Please log in again.",
  token_expired: "Your login expired. Please log in again.",
  session_revoked: "You were logged out (perhaps from another device). Please log in again.",
  invalid_refresh_token: "Your login ended. Please log in again.",
  session_expired_idle: "You were away too long and have been logged out.",
  session_expired_absolute: "Your login reached its maximum age. Please log in again.",
  forbidden: "Your role does not allow this.",
  organization_full: "The organization has as many members and invitations as its limit allows. Ask to raise it.",
  already_member: "This address is a member of the organization already.",
  slug_taken: "Another organization has this short name.",
  provider_id_taken: "Another provider has this id. Choose another.",
  domain_in_use: "A sign-in provider of the organization uses a domain you removed. Change the provider first.",
  webhook_limit_reached: "The organization has 20 webhook endpoints, the most it may have. Remove one first.",
  insufficient_scope: "This API key's scopes do not allow that.",
  sso_secret_key_missing: "This deployment cannot store providers' secrets yet: its operator sets OIDC_SECRET_KEY.",
  not_found: "It does not exist, or you cannot see it.",
  version_conflict: "Someone saved this tree after you opened it. Reload it and apply your change again.",
  draft_conflict: "Someone else saved this draft after you opened it. Reload it and apply your change again.",
  review_required: "This tree needs another engineer's approval of this exact draft before it is published.",
  self_review: "You saved this draft yourself: another engineer has to review it.",
  stale_step: "This session moved on in another window. It has been reloaded.",
  session_completed: "This session is completed and can no longer change.",
  session_abandoned: "This session was abandoned and can no longer change.",
  validation_error: "Some fields are not valid.",
  request_too_large: "That is too large to send.",
  service_unavailable: "A part of the system is unavailable. Try again shortly.",
  database_unavailable: "The database is unavailable. Try again shortly.",
  shutting_down: "The system is restarting. Try again in a moment.",
  deadline_exceeded: "The system took too long to answer. Try again.",
  internal_error: "Something went wrong on our side.",
  network_error: "The server cannot be reached. Check your connection.",
};

/** A sentence for any error: the API's code when it has one, with the code itself for support. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const sentence = SENTENCES[error.detail] ?? `The request failed (HTTP ${error.status}).`;
    return `${sentence} [${error.detail}]`;
  }
  if (error instanceof TypeError) return `${SENTENCES.network_error} [network_error]`;
  return error instanceof Error ? error.message : String(error);
}

/** The sentence, and for a 422 each field's problem on a line of its own (`password: At least 8 characters`). */
export function describeWithProblems(error: unknown): string {
  const problems = error instanceof ApiError ? error.problems : [];
  const fields = problems.map(({ loc, msg }) => `${loc.filter((part) => part !== "body").join(" › ")}: ${msg}`);
  return [describeError(error), ...fields].join("\n");
}

/** The `error` a single sign-on provider's return brings (README, "Single sign-on"), as a sentence. */
const SSO_SENTENCES: Record<string, string> = {
  access_denied: "The sign-in was cancelled at your provider.",
  provider_error: "Your provider could not sign you in.",
  provider_unavailable: "Your provider cannot be reached. Try again shortly.",
  login_failed: "The sign-in could not be verified. Try again.",
  email_not_verified: "Your provider did not confirm your email address, so no account could be found for it.",
  domain_not_allowed: "Your email address's domain may not sign in with this provider.",
  identity_conflict: "Your account already signs in with another account at this provider.",
  account_disabled: "Your account is deactivated.",
  email_missing: "Your provider did not share your email address. Ask its administrator to allow it.",
  account_exists_link_required:
    "An account with your email address exists already. Sign in to it with your password (or reset the password by mail), then link the provider on your account page.",
  not_a_member: "You are not a member of this provider's organization (any more). Ask its administrator.",
  organization_full: "The organization has no room for new members. Ask its administrator.",
  link_session_ended: "Your login ended before the provider sent you back. Sign in, then link the provider again.",
  registration_closed:
    "No account has your email address, and new accounts are made by invitation only. Ask an administrator to invite you.",
};

export function ssoErrorMessage(code: string): string {
  return `${SSO_SENTENCES[code] ?? "The sign-in failed."} [${code.slice(0, 40)}]`;
}
