/**
 * The login of this tab: the access token lives in memory only, and so does the refresh token
 * (JSON mode, until the gateway's cookie mode lets the browser keep it out of scripts' reach).
 * A call answered 401 gets one refresh and one retry; refreshes are serialized, so two calls
 * that expire together spend the refresh token once (the strict policy has no reuse grace).
 */
import { createApiClient } from "@tdt/api-client";
import { answerOf } from "./api-error.js";

/** Login, refresh and logout: without the token-adding fetch below. */
const auth = createApiClient({ baseUrl: location.origin });

let accessToken: string | undefined;
let refreshToken: string | undefined;
let refreshing: Promise<boolean> | undefined;
const signedOutListeners: Array<() => void> = [];

export const isSignedIn = () => accessToken !== undefined;

/** Called when the login ends on its own (the refresh token expired or was revoked). */
export function onSignedOut(listener: () => void): void {
  signedOutListeners.push(listener);
}

export async function signIn(email: string, password: string): Promise<void> {
  keep(answerOf(await auth.POST("/api/v1/auth/login/json", { body: { email, password } })));
}

export async function signOut(): Promise<void> {
  const token = accessToken;
  const refresh = refreshToken;
  forget();
  if (!token) return;
  // The login session ends on the server too; a failure here (already expired) changes nothing.
  await auth
    .POST("/api/v1/auth/logout", {
      headers: { authorization: `Bearer ${token}` },
      body: refresh ? { refresh_token: refresh } : null,
    })
    .catch(() => undefined);
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
  refreshing ??= refresh().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

async function refresh(): Promise<boolean> {
  if (!refreshToken) return false;
  const result = await auth.POST("/api/v1/auth/refresh", { body: { refresh_token: refreshToken } });
  if (!result.data) {
    forget();
    for (const listener of signedOutListeners) listener();
    return false;
  }
  keep(result.data);
  return true;
}

function keep(tokens: { access_token: string; refresh_token?: string }): void {
  accessToken = tokens.access_token;
  refreshToken = tokens.refresh_token;
}

function forget(): void {
  accessToken = undefined;
  refreshToken = undefined;
}
