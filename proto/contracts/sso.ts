/** A provider's id (`OIDC_PROVIDERS`), as it appears in `/auth/oidc/{provider}/…`. */
export const PROVIDER_ID_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$";

/**
 * The `error` codes a single sign-on callback sends the browser back to `return_to` with
 * (`?error=<code>`), and what each means. The README and the callback's OpenAPI entry print this.
 */
export const SSO_LOGIN_ERRORS = {
  access_denied: "The user declined, or the provider refused them, at the provider.",
  provider_error: "The provider answered the sign-in with an error of its own.",
  provider_unavailable: "The provider's metadata could not be read: try again shortly.",
  login_failed:
    "The provider's answer did not pass the checks (code, PKCE, ID token signature, issuer, audience, nonce).",
  email_not_verified:
    "The account is not linked yet and the provider gave no verified email (`email_verified` true) to find or make one by.",
  email_missing: "The provider gave no email address at all: ask its administrator to release the `email` scope.",
  domain_not_allowed: "The email's domain is not one of the provider's `allowed_domains`.",
  account_exists_link_required:
    "An account with this email exists and is not linked to this provider: sign in to it another way, then link the provider from your account (or reset its password by mail first).",
  identity_conflict: "The user of this email already signs in with another account at this provider.",
  account_disabled: "The user is deactivated.",
  registration_closed:
    "No account has this email, and accounts are made by invitation only (`REGISTRATION=invite`, where only a provider that owns the email's domain makes them) or not at all (`closed`).",
  not_a_member: "The provider is an organization's, and the account signing in is not (or no longer) a member of it.",
  organization_full:
    "The provider's organization has reached its member limit: its admin frees a seat or asks for more.",
  link_session_ended:
    "The login session that asked to link the provider ended before the provider sent the browser back: sign in and link again.",
} as const;

export type SsoLoginError = keyof typeof SSO_LOGIN_ERRORS;

/** The list as a Markdown table. */
export function ssoLoginErrorsMarkdown(): string {
  const rows = Object.entries(SSO_LOGIN_ERRORS).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return ["| `error` | Meaning |", "| --- | --- |", ...rows].join("\n");
}
