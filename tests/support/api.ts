/** A small HTTP client for system tests: JSON in, status + JSON out, through the gateway. */
import { type Mailbox, tokenOf } from "./mailbox.js";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/**
 * `mailbox` is the system's SMTP server: `register` then follows the verification link in the
 * mail, as a person signing up does.
 */
export function api(baseUrl: string, mailbox?: Mailbox) {
  const call = async <T = unknown>(
    method: string,
    path: string,
    options: {
      token?: string;
      json?: unknown;
      form?: Record<string, string>;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: options.signal });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a download, a page): the text itself.
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };

  let counter = 0;
  const uniqueEmail = (label = "user") => `${label}-${Date.now().toString(36)}-${counter++}@example.com`;

  return {
    call,
    uniqueEmail,
    /**
     * A new account, its address verified by the mailed link, as a person signs up: register,
     * read the mail, follow the link, log in; the id is read from `/auth/me`.
     */
    async signUp(email = uniqueEmail(), password = "correct-horse-battery", full_name = "Test User") {
      const since = Date.now();
      const response = await call("POST", "/api/v1/auth/register", { json: { email, password, full_name } });
      if (response.status !== 202)
        throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
      await this.followVerification(email, since);
      const tokens = await this.login(email, password);
      const me = await call<{ id: string }>("GET", "/api/v1/auth/me", { token: tokens.access_token });
      return { id: me.body.id, email, password, tokens };
    },
    /** Reads the verification mail to `email` received since `since` and follows its link. */
    async followVerification(email: string, since: number) {
      if (!mailbox) throw new Error("following a verification link needs the system's mailbox");
      const mail = await mailbox.waitFor(email, { since, subject: /confirm/i });
      const verified = await call("POST", "/api/v1/auth/verify-email", {
        json: { token: tokenOf(mail, "verify-email") },
      });
      if (verified.status !== 204)
        throw new Error(`verify-email failed: ${verified.status} ${JSON.stringify(verified.body)}`);
    },
    /** A new verified account, signed out again: no login session of it is open. */
    async register(email = uniqueEmail(), password = "correct-horse-battery", full_name = "Test User") {
      const { tokens, ...account } = await this.signUp(email, password, full_name);
      const out = await call("POST", "/api/v1/auth/logout", { token: tokens.access_token });
      if (out.status !== 204) throw new Error(`logout failed: ${out.status} ${JSON.stringify(out.body)}`);
      return account;
    },
    async login(email: string, password: string): Promise<TokenPair> {
      const response = await call<TokenPair>("POST", "/api/v1/auth/login/json", { json: { email, password } });
      if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    /** A new engineer (promoted by an admin), logged in: the access token. */
    async engineer(adminToken: string): Promise<string> {
      const account = await this.register(uniqueEmail("engineer"));
      const promoted = await call("PATCH", `/api/v1/auth/users/${account.id}`, {
        token: adminToken,
        json: { role: "engineer" },
      });
      if (promoted.status !== 200) throw new Error(`promotion failed: ${promoted.status}`);
      return (await this.login(account.email, account.password)).access_token;
    },
    /** A new technician, logged in. */
    async user(label = "tech") {
      return this.signUp(uniqueEmail(label));
    },
  };
}

/** The claims of a JWT, unverified: for looking at what a test received. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8"));
}
