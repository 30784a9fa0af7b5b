/**
 * A browser made of plain HTTP, for single sign-on tests: it keeps cookies per host (with their
 * path, expiry and deletion), follows no redirect by itself, and fills the local issuer's login,
 * consent and logout pages (scripts/oidc-dev-issuer.ts) as a person would.
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
  expires: number | undefined;
}

export class HttpBrowser {
  /** Cookies by host:port. */
  readonly cookies = new Map<string, Map<string, Cookie>>();

  /** One request, sending and storing cookies; redirects are answered, not followed. */
  async request(
    url: string | URL,
    init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
    if (init.json !== undefined) headers["content-type"] = "application/json";
    const body = init.form
      ? new URLSearchParams(init.form).toString()
      : init.json !== undefined
        ? JSON.stringify(init.json)
        : undefined;
    const response = await fetch(target, {
      method: init.method ?? (body !== undefined ? "POST" : "GET"),
      headers,
      redirect: "manual",
      ...(body !== undefined ? { body } : {}),
    });
    this.store(target, response.headers.getSetCookie());
    return response;
  }

  /**
   * Follows redirects from `url` until one leads to a URL `stop` accepts (answered without being
   * fetched) or an answer that is not a redirect; at most 20 hops.
   */
  async follow(
    url: string | URL,
    stop: (url: URL) => boolean = () => false,
  ): Promise<{ url: URL; response?: Response }> {
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      if (stop(current)) return { url: current };
      const response = await this.request(current);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response };
      await response.arrayBuffer();
      current = new URL(location, current);
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }

  /** The cookie's value for this URL, if the browser would send it. */
  cookieFor(url: string | URL, name: string): string | undefined {
    return this.matching(new URL(url)).find((cookie) => cookie.name === name)?.value;
  }

  private matching(url: URL): Cookie[] {
    const jar = this.cookies.get(url.host);
    if (!jar) return [];
    const now = Date.now();
    return [...jar.values()].filter(
      (cookie) =>
        (cookie.expires === undefined || cookie.expires > now) &&
        (url.pathname === cookie.path ||
          url.pathname.startsWith(cookie.path.endsWith("/") ? cookie.path : `${cookie.path}/`)),
    );
  }

  private cookieHeader(url: URL): string {
    return this.matching(url)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ");
  }

  private store(url: URL, setCookies: string[]): void {
    const jar = this.cookies.get(url.host) ?? new Map<string, Cookie>();
    this.cookies.set(url.host, jar);
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const equals = pair.indexOf("=");
      const cookie: Cookie = {
        name: pair.slice(0, equals),
        value: pair.slice(equals + 1),
        path: "/",
        expires: undefined,
      };
      for (const attribute of attributes) {
        const [key = "", value = ""] = attribute.split("=");
        if (key.toLowerCase() === "path") cookie.path = value || "/";
        if (key.toLowerCase() === "max-age") cookie.expires = Date.now() + Number(value) * 1000;
        if (key.toLowerCase() === "expires" && cookie.expires === undefined) cookie.expires = Date.parse(value);
      }
      jar.set(`${cookie.name} ${cookie.path}`, cookie);
    }
  }
}

/** The first form of a page: where it posts and its hidden fields. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*>/i.exec(html);
  if (!form) throw new Error(`no form on the page: ${html.slice(0, 300)}`);
  const action = /\baction="([^"]*)"/i.exec(form[0])?.[1] ?? "";
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = input[0];
    if (!/\btype="hidden"/i.test(tag)) continue;
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    if (name) fields[name] = decodeEntities(/\bvalue="([^"]*)"/i.exec(tag)?.[1] ?? "");
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(text: string): string {
  return text
    .replaceAll("&amp;", "&")
    .replaceAll("&#x2F;", "/")
    .replaceAll("&#x3D;", "=")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'");
}

/**
 * From an authorization URL at the local issuer: sign in as `login` on its login page (skipped
 * when the browser is signed in there already), approve consent when asked, and answer the URL
 * the issuer sends the browser back to (the relying party's callback), without fetching it.
 */
export async function signInAtIssuer(
  browser: HttpBrowser,
  authorizationUrl: string | URL,
  login: string,
  callbackPrefix: string,
): Promise<URL> {
  const backHome = (url: URL) => url.href.startsWith(callbackPrefix);
  let step = await browser.follow(authorizationUrl, backHome);
  for (let page = 0; page < 4; page++) {
    if (!step.response) return step.url;
    const html = await step.response.text();
    if (step.response.status !== 200)
      throw new Error(`the issuer answered ${step.response.status}: ${html.slice(0, 300)}`);
    const { action, fields } = formOf(html);
    const form =
      fields.prompt === "login" || /name="login"/.test(html) ? { ...fields, login, password: "any" } : fields;
    const posted = await browser.request(new URL(action, step.url), { form });
    const location = posted.headers.get("location");
    if (!location) throw new Error(`the issuer's form answered ${posted.status} without a redirect`);
    step = await browser.follow(new URL(location, step.url), backHome);
  }
  throw new Error("the issuer kept asking");
}

/**
 * From an end-session URL at the local issuer: confirm the sign-out (the issuer then posts its
 * back-channel logout tokens) and answer where it sends the browser afterwards.
 */
export async function signOutAtIssuer(browser: HttpBrowser, endSessionUrl: string | URL): Promise<URL | undefined> {
  const page = await browser.follow(endSessionUrl);
  if (!page.response) return page.url;
  const html = await page.response.text();
  const { action, fields } = formOf(html);
  const confirmed = await browser.request(new URL(action, page.url), { form: { ...fields, logout: "yes" } });
  const location = confirmed.headers.get("location");
  return location ? new URL(location, page.url) : undefined;
}
