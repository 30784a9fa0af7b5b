import { readFileSync } from "node:fs";
import { ConfigError, env, ROLES, type Role, type Setting } from "@tdt/kit";
import { PROVIDER_ID_PATTERN } from "@tdt/proto/contracts/sso";
import { DOMAIN_PATTERN } from "./organization-settings.js";

/** One OpenID Connect provider that users may sign in with (OIDC_PROVIDERS). */
export interface OidcProviderConfig {
  /** The provider's id in URLs (`/auth/oidc/{id}/…`). */
  id: string;
  /** What a login page shows; the id when not given. */
  name: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  scopes: string[];
  /** The role of a user this provider creates. */
  default_role: Role;
  /** Email domains the provider may sign in (and create) users of; none: any verified email. */
  allowed_domains: string[] | undefined;
  /**
   * The organization whose admins added it (a row of `oidc_providers`); none for the deployment's
   * own (OIDC_PROVIDERS). An organization's provider signs in to that organization only and is
   * never trusted to link an account by its email.
   */
  organization?: string | undefined;
  /** When a stored provider last changed: what was discovered for an earlier version is read again. */
  version?: string | undefined;
}

/** Everything single sign-on reads from the environment. */
export interface SsoConfig {
  /** OIDC_SECRET_KEY: what organizations' client secrets are kept encrypted under; none: they cannot be stored. */
  secretKey: Buffer | undefined;
  providers: OidcProviderConfig[];
  /** The gateway's public base URL, without a final slash: callbacks are registered under it. */
  publicUrl: string;
  /** Origins a `return_to` may point at. */
  returnOrigins: string[];
  /** Where a provider sends the browser after an RP-initiated logout. */
  postLogoutUrl: string;
}

const ID = new RegExp(PROVIDER_ID_PATTERN);
const KNOWN_KEYS = new Set([
  "id",
  "name",
  "issuer",
  "client_id",
  "client_secret",
  "scopes",
  "default_role",
  "allowed_domains",
]);

/** A loopback host: the only place a provider may speak plain http (a local or test issuer). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** True when the issuer is on this machine and may be spoken to over plain http. */
export function isLocalIssuer(issuer: string): boolean {
  return isLoopbackHost(new URL(issuer).hostname);
}

/** The scopes asked for when a provider names none. */
export const DEFAULT_SCOPES: readonly string[] = ["openid", "email", "profile"];

/**
 * What is wrong with an issuer, if anything: a URL, https (plain http only on this machine),
 * without query or fragment. The deployment's providers and organizations' are held to it alike.
 */
export function issuerProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return `issuer must be a URL, got "${issuer}"`;
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    return `issuer must use https (plain http only on this machine), got "${issuer}"`;
  }
  if (url.search || url.hash) return "issuer must have no query or fragment";
  return undefined;
}

function stringList(value: unknown, field: string, fail: (problem: string) => never): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item.trim() === "")) {
    fail(`${field} must be a list of non-empty strings`);
  }
  return (value as string[]).map((item) => item.trim());
}

/** One entry of the list, checked field by field; never echoes the secret. */
function providerOf(entry: unknown, index: number, variable: string): OidcProviderConfig {
  const label = (id?: unknown) => `entry ${index + 1}${typeof id === "string" && id ? ` ("${id}")` : ""}`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new ConfigError(variable, `${label()}: must be an object`);
  }
  const raw = entry as Record<string, unknown>;
  const fail = (problem: string): never => {
    throw new ConfigError(variable, `${label(raw.id)}: ${problem}`);
  };
  const unknown = Object.keys(raw).find((key) => !KNOWN_KEYS.has(key));
  if (unknown) fail(`has an unknown field "${unknown}"`);
  if (typeof raw.id !== "string" || !ID.test(raw.id)) {
    fail("id must be 1–64 lowercase letters, digits, '-' or '_', starting with a letter or digit");
  }
  const text = (field: string, max: number): string => {
    const value = raw[field];
    if (typeof value !== "string" || value.trim() === "") fail(`${field} is required`);
    if ((value as string).length > max) fail(`${field} must be at most ${max} characters`);
    return (value as string).trim();
  };
  const issuer = text("issuer", 2048);
  const wrongIssuer = issuerProblem(issuer);
  if (wrongIssuer) fail(wrongIssuer);
  const scopes = stringList(raw.scopes, "scopes", fail) ?? [...DEFAULT_SCOPES];
  if (!scopes.includes("openid")) fail('scopes must include "openid"');
  const role = raw.default_role ?? "technician";
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
    fail(`default_role must be one of ${ROLES.join(", ")}`);
  }
  const domains = stringList(raw.allowed_domains, "allowed_domains", fail)?.map((domain) => domain.toLowerCase());
  const badDomain = domains?.find((domain) => !DOMAIN_PATTERN.test(domain));
  if (badDomain !== undefined) fail(`allowed_domains has "${badDomain}", which is not a domain name`);
  if (domains?.length === 0) fail("allowed_domains must name at least one domain when given");
  const name = raw.name === undefined ? (raw.id as string) : text("name", 100);
  return {
    id: raw.id as string,
    name,
    issuer,
    client_id: text("client_id", 256),
    client_secret: text("client_secret", 1024),
    scopes,
    default_role: role as Role,
    allowed_domains: domains,
  };
}

/** Parses the providers' JSON list; `variable` names where it came from in every error. */
export function parseProviders(json: string, variable: string): OidcProviderConfig[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new ConfigError(variable, "must be a JSON list of providers, and is not valid JSON");
  }
  if (!Array.isArray(list)) throw new ConfigError(variable, "must be a JSON list of providers");
  const providers = list.map((entry, index) => providerOf(entry, index, variable));
  const seen = new Set<string>();
  for (const [index, provider] of providers.entries()) {
    if (seen.has(provider.id)) {
      throw new ConfigError(variable, `entry ${index + 1} ("${provider.id}"): id is used by an earlier entry`);
    }
    seen.add(provider.id);
  }
  return providers;
}

/** An origin as `new URL(...).origin` writes it, or a ConfigError naming the variable. */
function originOf(variable: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(variable, `must list origins such as https://app.example.com, got "${text}"`);
  }
  if (!["http:", "https:"].includes(url.protocol) || url.origin !== text.replace(/\/$/, "")) {
    throw new ConfigError(variable, `must list origins such as https://app.example.com (no path), got "${text}"`);
  }
  return url.origin;
}

/** OIDC_SECRET_KEY: 32 bytes, as 64 hex digits or base64 (url-safe or not). */
function secretKeyOf(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) {
    throw new ConfigError(
      "OIDC_SECRET_KEY",
      "must be 32 random bytes, as 64 hex digits or in base64 (openssl rand -hex 32)",
    );
  }
  return key;
}

/**
 * OIDC_PROVIDERS (JSON) or OIDC_PROVIDERS_FILE (a file holding it), at most one; PUBLIC_URL,
 * OIDC_RETURN_ORIGINS (default: PUBLIC_URL's origin) and OIDC_POST_LOGOUT_URL (default: PUBLIC_URL/).
 */
export function ssoConfig(): Setting<SsoConfig> {
  const inline = env.optional("OIDC_PROVIDERS");
  const file = env.optional("OIDC_PROVIDERS_FILE");
  const publicUrl = env.url("PUBLIC_URL", "http://localhost:8000", ["http", "https"]);
  const origins = env.list("OIDC_RETURN_ORIGINS", []);
  const postLogout = env.optional("OIDC_POST_LOGOUT_URL");
  const secretKey = env.optional("OIDC_SECRET_KEY");
  return {
    read(source) {
      const base = publicUrl.read(source).replace(/\/+$/, "");
      const json = inline.read(source);
      const path = file.read(source);
      if (json !== undefined && path !== undefined) {
        throw new ConfigError("OIDC_PROVIDERS_FILE", "cannot be set with OIDC_PROVIDERS: use one of them");
      }
      let providers: OidcProviderConfig[] = [];
      if (json !== undefined) providers = parseProviders(json, "OIDC_PROVIDERS");
      if (path !== undefined) {
        let text: string;
        try {
          text = readFileSync(path, "utf8");
        } catch {
          throw new ConfigError("OIDC_PROVIDERS_FILE", `cannot be read: "${path}"`);
        }
        providers = parseProviders(text, "OIDC_PROVIDERS_FILE");
      }
      const listed = origins.read(source).map((origin) => originOf("OIDC_RETURN_ORIGINS", origin));
      const logoutUrl = postLogout.read(source);
      if (logoutUrl !== undefined) {
        try {
          new URL(logoutUrl);
        } catch {
          throw new ConfigError("OIDC_POST_LOGOUT_URL", `must be a URL, got "${logoutUrl}"`);
        }
      }
      return {
        providers,
        secretKey: secretKeyOf(secretKey.read(source)),
        publicUrl: base,
        returnOrigins: listed.length > 0 ? listed : [new URL(base).origin],
        postLogoutUrl: logoutUrl ?? `${base}/`,
      };
    },
  };
}
