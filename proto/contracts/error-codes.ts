/**
 * Every `{"detail": "<code>"}` the API answers with (SPEC §3): its HTTP status and what it means.
 * The one catalogue, imported as `@tdt/proto/contracts/error-codes`: the services raise these codes
 * (the kit's AppError takes nothing else), the gateway documents each route's as enums in OpenAPI
 * and lets no other code out, and the README's table is printed from it.
 */

export interface ErrorCodeEntry {
  status: number;
  meaning: string;
}

export const ERROR_CODES = {
  bad_request: { status: 400, meaning: "The request could not be read." },
  malformed_json: { status: 400, meaning: "The body is not valid JSON (or is empty where JSON is required)." },
  json_too_deep: { status: 400, meaning: "The JSON body nests deeper than 32 levels." },
  unsupported_content_type: {
    status: 400,
    meaning: "The body's `Content-Type` is missing or not one the route reads.",
  },
  malformed_url: { status: 400, meaning: "The URL could not be decoded." },
  invalid_sso_state: {
    status: 400,
    meaning:
      "A single sign-on callback whose attempt is unknown, used, over 10 minutes old, or started in another browser: sign in again.",
  },
  invalid_logout_token: {
    status: 400,
    meaning: "A back-channel logout token that is not valid: signature, issuer, audience, claims or a replay.",
  },
  invalid_mail_token: {
    status: 400,
    meaning: "The mailed link's token is unknown, already used or expired: ask for a new mail.",
  },
  form_file_not_accepted: {
    status: 400,
    meaning: "The multipart form has a file part; the route reads text fields only.",
  },
  media_file_required: {
    status: 400,
    meaning: "An upload must be a `multipart/form-data` body with one file part named `file`, and nothing else.",
  },
  not_authenticated: { status: 401, meaning: "No access token was sent (`Authorization: Bearer …`)." },
  invalid_token: { status: 401, meaning: "The access token is not valid: signature, issuer, audience or type." },
  token_expired: { status: 401, meaning: "The access token has expired: refresh it." },
  session_revoked: {
    status: 401,
    meaning: "The token's login session has ended (logout, revocation, role change or deactivation).",
  },
  invalid_credentials: { status: 401, meaning: "Wrong email or password, or the account is deactivated." },
  invalid_refresh_token: {
    status: 401,
    meaning: "The refresh token is unknown, already used, or its login session has ended: log in again.",
  },
  session_expired_idle: {
    status: 401,
    meaning: "The login session was idle longer than the session policy allows: log in again.",
  },
  session_expired_absolute: {
    status: 401,
    meaning: "The login session reached the session policy's absolute limit: log in again.",
  },
  invalid_login_code: {
    status: 401,
    meaning: "The one-time single sign-on code is unknown, already used or over 60 s old: sign in again.",
  },
  forbidden: { status: 403, meaning: "Authenticated, but the caller's role or ownership does not allow this." },
  insufficient_scope: {
    status: 403,
    meaning:
      "An API key whose scopes do not open this route (`trees:read`, `trees:write`, `sessions:read`, `reports:read`, `webhooks:manage`).",
  },
  self_review: { status: 403, meaning: "Nobody reviews a draft revision they saved themselves." },
  origin_not_allowed: {
    status: 403,
    meaning: "A cookie-mode request came from an origin that is neither the gateway's nor in CORS_ORIGINS.",
  },
  token_transport_header_required: {
    status: 403,
    meaning: "The refresh cookie came without `X-Token-Transport: cookie`, which cookie mode requires (CSRF defence).",
  },
  wrong_password: { status: 403, meaning: "The current password given to change it is wrong." },
  reauthentication_required: {
    status: 403,
    meaning: "Setting a first password needs a sign-in within the last 10 minutes: sign in again, then set it.",
  },
  email_not_verified: {
    status: 403,
    meaning: "The account's email is not verified yet: follow the link in the mail, or ask for a new one.",
  },
  registration_closed: {
    status: 403,
    meaning: "Accounts are made by invitation only (`REGISTRATION=invite`) or not at all (`closed`).",
  },
  not_found: { status: 404, meaning: "Unknown, deleted, or not visible to the caller." },
  request_timeout: { status: 408, meaning: "The request was not received in time." },
  conflict: { status: 409, meaning: "The change conflicts with the current state." },
  email_already_registered: { status: 409, meaning: "An account with this email exists." },
  already_member: { status: 409, meaning: "The address is already a member of the organization." },
  slug_taken: { status: 409, meaning: "Another organization has this slug." },
  organization_full: {
    status: 409,
    meaning: "The organization has as many members and open invitations as its `max_members` allows.",
  },
  provider_id_taken: {
    status: 409,
    meaning: "Another organization's provider, or one of the deployment's (`OIDC_PROVIDERS`), has this id.",
  },
  domain_in_use: {
    status: 409,
    meaning: "One of the organization's providers signs in a domain the change leaves out: change the provider first.",
  },
  webhook_limit_reached: {
    status: 409,
    meaning: "The organization has as many webhook endpoints as it may (20): remove one first.",
  },
  cannot_change_own_account: {
    status: 409,
    meaning: "An admin cannot demote, deactivate or remove themselves.",
  },
  version_conflict: {
    status: 409,
    meaning: "The tree changed since the `version` the edit started from: reload it and edit again.",
  },
  draft_conflict: {
    status: 409,
    meaning: "The draft changed (or was published or discarded) since the `draft_revision` sent: reload it.",
  },
  review_required: {
    status: 409,
    meaning: "The tree needs another engineer's approval of this exact draft revision before it is published.",
  },
  stale_step: {
    status: 409,
    meaning: "`node_id` is not the session's current node (a retried or outdated step): nothing was applied.",
  },
  link_target_unpublished: {
    status: 409,
    meaning: "The step reaches a link to a tree with no published version: nothing was applied.",
  },
  link_depth_exceeded: {
    status: 409,
    meaning: "The step would nest links deeper than 8 (a loop of links): nothing was applied.",
  },
  last_sign_in_method: {
    status: 409,
    meaning: "Unlinking this provider would leave the account no way to sign in: set a password first.",
  },
  session_completed: { status: 409, meaning: "The session is completed and can no longer change." },
  session_abandoned: { status: 409, meaning: "The session was abandoned and can no longer change." },
  request_too_large: { status: 413, meaning: "The body is larger than 2 MB." },
  form_too_large: { status: 413, meaning: "The form has more fields, or a longer field, than the route reads." },
  media_too_large: {
    status: 413,
    meaning: "The image (or the upload carrying it) is larger than `MEDIA_MAX_BYTES` (default 5 MiB).",
  },
  image_too_large: {
    status: 413,
    meaning: "The image has more than 40 megapixels, or costs more to decode than an image may: send a smaller one.",
  },
  uri_too_long: { status: 414, meaning: "The URL or one of its path parameters is too long." },
  unsupported_media: {
    status: 415,
    meaning: "The file is not a PNG, JPEG or WebP image that decodes as the type its first bytes say.",
  },
  range_not_satisfiable: {
    status: 416,
    meaning: "The `Range` is not one `bytes=` range within the file (`Content-Range` gives its size).",
  },
  validation_error: {
    status: 422,
    meaning: "The input broke a rule; `detail` is then the list of problems, each with `loc`, `msg` and `type`.",
  },
  too_many_attempts: {
    status: 429,
    meaning: "Too many login or registration attempts: wait the seconds `Retry-After` gives.",
  },
  rate_limited: { status: 429, meaning: "Too many requests: wait the seconds `Retry-After` gives." },
  request_header_too_large: { status: 431, meaning: "The request's headers are larger than 16 KB." },
  internal_error: { status: 500, meaning: "A bug: the request id (`X-Request-Id`) finds it in the logs." },
  service_unavailable: {
    status: 503,
    meaning: "A backing service is down or restarting: retry shortly.",
  },
  sso_provider_unavailable: {
    status: 503,
    meaning: "The single sign-on provider cannot be reached (its metadata or keys): retry shortly.",
  },
  sso_secret_key_missing: {
    status: 503,
    meaning:
      "The deployment keeps no key (`OIDC_SECRET_KEY`) to store providers' client secrets under: its operator sets one.",
  },
  exports_busy: {
    status: 503,
    meaning: "Too many reports are being rendered right now: retry after the seconds `Retry-After` gives.",
  },
  database_unavailable: { status: 503, meaning: "A service's database is unreachable: retry shortly." },
  shutting_down: { status: 503, meaning: "The gateway is draining for a restart: retry on another connection." },
  deadline_exceeded: { status: 504, meaning: "A backing service did not answer in time." },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of the catalogue's. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The codes answered with `status`. */
export type ErrorCodeOfStatus<S extends number> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]["status"] extends S ? C : never;
}[ErrorCode];

/** The catalogue as a Markdown table, by status then code: the README and the OpenAPI document show it. */
export function errorCatalogueMarkdown(): string {
  const rows = (Object.entries(ERROR_CODES) as [ErrorCode, ErrorCodeEntry][])
    .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
    .map(([code, { status, meaning }]) => `| ${status} | \`${code}\` | ${meaning} |`);
  return ["| Status | `detail` | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
