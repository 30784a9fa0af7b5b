/**
 * The login of this tab. The access token lives in memory only; the refresh token never reaches
 * a script: in cookie mode (`X-Token-Transport: cookie`) the gateway keeps it in an HttpOnly,
 * SameSite=Strict cookie scoped to the refresh and logout routes, so a reload logs back in from
 * the cookie. A call answered 401 gets one refresh and one retry. Refreshes are serialized across
 * this browser's tabs with the Web Locks API: they share the cookie, and under the strict policy
 * (no reuse grace) two refreshes sending the same cookie would end the login session.
 */
import { createApiClient } from "@tdt/api-client";
import { answerOf } from "./api-error.js";
import { t } from "./i18n.js";

/** Login, refresh and logout, in cookie mode, without the token-adding fetch below. */
const auth = createApiClient({
  baseUrl: location.origin,
  credentials: "same-origin",
  headers: { "X-Token-Transport": "cookie" },
});

let accessToken: string | undefined;
let refreshing: Promise<boolean> | undefined;
const signedOutListeners: Array<() => void> = [];

export const isSignedIn = () => accessToken !== undefined;

/** Called when the login ends on its own (the refresh cookie expired or was revoked). */
export function onSignedOut(listener: () => void): void {
  signedOutListeners.push(listener);
}

export async function signIn(email: string, password: string): Promise<void> {
  accessToken = answerOf(await auth.POST("/api/v1/auth/login/json", { body: { email, password } })).access_token;
}

/** Back from a single sign-on provider: the one-time code `return_to` received, traded for a login. */
export async function signInWithCode(code: string): Promise<void> {
  accessToken = answerOf(await auth.POST("/api/v1/auth/oidc/exchange", { body: { code } })).access_token;
}

/**
 * Acts in another of the user's organizations: a new login there, its refresh cookie replacing
 * this one (so every tab of this browser follows at its next refresh).
 */
export async function switchOrganization(organizationId: string): Promise<void> {
  const token = accessToken;
  if (!token) throw new Error(t("session.notSignedIn"));
  accessToken = answerOf(
    await auth.POST("/api/v1/auth/switch-organization", {
      headers: { authorization: `Bearer ${token}` },
      body: { organization_id: organizationId },
    }),
  ).access_token;
}

/** The single sign-on providers the login screen offers. */
/** The deployment's single sign-on providers, or one organization's (by its slug). */
export async function signInProviders(organization?: string): Promise<Array<{ id: string; name: string }>> {
  return answerOf(
    await auth.GET("/api/v1/auth/providers", organization ? { params: { query: { organization } } } : {}),
  );
}

/** After a reload: an access token from the refresh cookie, if the login is still alive. */
export function resume(): Promise<boolean> {
  return refreshOnce();
}

/**
 * Ends the login session on the server and clears the cookie; a failure (already ended) changes
 * nothing. A login that came from a provider answers where to sign out there too.
 */
export async function signOut(): Promise<string | undefined> {
  const token = accessToken;
  accessToken = undefined;
  if (!token) return undefined;
  const result = await auth
    .POST("/api/v1/auth/logout", { headers: { authorization: `Bearer ${token}` }, body: null })
    .catch(() => undefined);
  return result?.data?.end_session_url;
}

/** The fetch of the typed client: adds the access token, and after a 401 refreshes once and retries. */
export async function authorizedFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const used = accessToken;
  const response = await fetch(withToken(request, used));
  if (response.status !== 401 || used === undefined) return response;
  // Another call may have refreshed meanwhile; otherwise this one does.
  if (accessToken === used && !(await refreshOnce())) return response;
  return fetch(withToken(retry, accessToken));
}

function withToken(request: Request, token: string | undefined): Request {
  if (token) request.headers.set("authorization", `Bearer ${token}`);
  return request;
}

function refreshOnce(): Promise<boolean> {
  refreshing ??= acrossTabs(refresh).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/**
 * One refresh at a time in this browser. Web Locks need a secure context (https, or localhost);
 * without them (plain http on another address) tabs refresh unserialized, as a lone tab does.
 */
function acrossTabs(task: () => Promise<boolean>): Promise<boolean> {
  // (The lock resolves with the task's promise; `then` says so to the type checker.)
  return navigator.locks ? navigator.locks.request("tdt-refresh", task).then((done) => done) : task();
}

async function refresh(): Promise<boolean> {
  const result = await auth.POST("/api/v1/auth/refresh", { body: {} });
  if (result.data) {
    accessToken = result.data.access_token;
    return true;
  }
  const wasSignedIn = accessToken !== undefined;
  accessToken = undefined;
  if (wasSignedIn) for (const listener of signedOutListeners) listener();
  return false;
}
