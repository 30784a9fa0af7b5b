/**
 * A browser's ways through single sign-on at the gateway, step by step, for identity tests:
 * authorize (or ask to link while signed in), sign in at the local issuer, come back through the
 * callback to the web app's page at `return_to` (requested too, as a browser would), and trade
 * the one-time code. Every secret that travels (states, codes, bindings, tokens) is added to
 * `secrets`, so a test can look for each in the logs afterwards.
 */
import type { TokenPair } from "./api.js";
import { HttpBrowser, signInAtIssuer } from "./oidc-browser.js";

export const BINDING_COOKIE = "tdt_sso";

export interface ReturnedTo {
  /** return_to with what the sign-in added: `code`, `linked` or `error`. */
  url: URL;
  params: Record<string, string>;
}

export function ssoJourney(gateway: string) {
  const secrets = new Set<string>();
  const keep = (value: string | null | undefined) => {
    if (value) secrets.add(value);
  };
  const returnTo = `${gateway}/`;
  const oidc = `${gateway}/api/v1/auth/oidc`;
  const callbackPrefix = (provider: string) => `${oidc}/${provider}/callback`;
  const bindingOf = (browser: HttpBrowser) => browser.cookieFor(`${oidc}/exchange`, BINDING_COOKIE);

  /** GET /authorize: the provider's URL, and the binding the gateway set (the Set-Cookie value). */
  async function authorize(browser: HttpBrowser, provider: string) {
    const answer = await browser.request(`${oidc}/${provider}/authorize?return_to=${encodeURIComponent(returnTo)}`);
    if (answer.status !== 302) throw new Error(`authorize answered ${answer.status}: ${await answer.text()}`);
    const location = new URL(answer.headers.get("location") ?? "");
    keep(location.searchParams.get("state"));
    const set = answer.headers
      .getSetCookie()
      .find((line) => line.startsWith(`${BINDING_COOKIE}=`))
      ?.split(";")[0]
      ?.slice(BINDING_COOKIE.length + 1);
    keep(set);
    return { location, binding: set };
  }

  /** At the issuer, signed in as `login`: the callback URL it sends the browser to (not fetched). */
  async function atIssuer(browser: HttpBrowser, authorizationUrl: URL | string, login: string, provider: string) {
    const callback = await signInAtIssuer(browser, authorizationUrl, login, callbackPrefix(provider));
    keep(callback.searchParams.get("code"));
    keep(callback.searchParams.get("state"));
    return callback;
  }

  /** The callback through the gateway: where it redirects (return_to), whose page is then loaded. */
  async function back(browser: HttpBrowser, callback: URL): Promise<ReturnedTo> {
    const answer = await browser.request(callback);
    if (answer.status !== 302) throw new Error(`the callback answered ${answer.status}: ${await answer.text()}`);
    const url = new URL(answer.headers.get("location") ?? "");
    if (`${url.origin}${url.pathname}` !== returnTo) throw new Error(`the callback went to ${url.href}`);
    keep(url.searchParams.get("code"));
    // The web app's page, with the code in its query, as the browser loads it.
    await (await browser.request(url)).arrayBuffer();
    return { url, params: Object.fromEntries(url.searchParams) };
  }

  /** POST /oidc/exchange from this browser (its binding cookie goes along). */
  async function exchange(browser: HttpBrowser, code: string) {
    const answer = await browser.request(`${oidc}/exchange`, { json: { code } });
    const body = (await answer.json()) as TokenPair & { detail?: string };
    if (answer.status === 200) {
      keep(body.access_token);
      keep(body.refresh_token);
    }
    return { status: answer.status, body };
  }

  /** Authorize and sign in at the issuer: the callback URL. */
  async function toCallback(browser: HttpBrowser, login: string, provider: string) {
    const { location } = await authorize(browser, provider);
    return atIssuer(browser, location, login, provider);
  }

  /** A whole sign-in as `login`: where it came back to (`code` or `error`). */
  async function attempt(login: string, provider: string, browser = new HttpBrowser()) {
    return back(browser, await toCallback(browser, login, provider));
  }

  /** A whole sign-in that must succeed: the token pair. */
  async function signIn(login: string, provider: string, browser = new HttpBrowser()) {
    const { params } = await attempt(login, provider, browser);
    if (!params.code) throw new Error(`the sign-in came back with ${JSON.stringify(params)}`);
    const pair = await exchange(browser, params.code);
    if (pair.status !== 200) throw new Error(`the exchange answered ${pair.status}: ${JSON.stringify(pair.body)}`);
    return { tokens: pair.body, browser };
  }

  /** POST /oidc/{provider}/link with the caller's token, from the browser: the answer and the binding set. */
  async function beginLink(browser: HttpBrowser, accessToken: string, provider: string) {
    const answer = await browser.request(`${oidc}/${provider}/link`, {
      json: { return_to: returnTo },
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const body = (await answer.json()) as { authorize_url?: string; detail?: unknown };
    if (body.authorize_url) keep(new URL(body.authorize_url).searchParams.get("state"));
    keep(bindingOf(browser));
    return { status: answer.status, body, headers: answer.headers };
  }

  /** The whole link: ask while signed in, sign in at the provider as `login`, come back. */
  async function link(browser: HttpBrowser, accessToken: string, provider: string, login: string) {
    const begun = await beginLink(browser, accessToken, provider);
    if (begun.status !== 200 || !begun.body.authorize_url) {
      throw new Error(`link answered ${begun.status}: ${JSON.stringify(begun.body)}`);
    }
    return back(browser, await atIssuer(browser, begun.body.authorize_url, login, provider));
  }

  return {
    secrets,
    keep,
    returnTo,
    bindingOf,
    authorize,
    atIssuer,
    back,
    exchange,
    toCallback,
    attempt,
    signIn,
    beginLink,
    link,
  };
}

export type SsoJourney = ReturnType<typeof ssoJourney>;
