/**
 * A local OpenID Connect issuer (oidc-provider, a development dependency) for the test suite and
 * for `OIDC_DEV_ISSUER=true npm start`: the provider side of single sign-on with nothing to sign
 * up for. Its own login page takes any login and any password; the login is the account:
 *
 *   - `sub` is derived from it, so the same login is the same account every time;
 *   - `email` is the login and is verified, unless its local part contains `+unverified`
 *     (`email_verified: false`), `+noverified` (no `email_verified` at all), `+stringverified`
 *     (`"true"`, as a string) or `+noemail` (no `email` at all);
 *   - `name` is the part before the `@`.
 *
 * It speaks plain http on 127.0.0.1, requires PKCE (S256) of every client, and supports
 * RP-initiated logout and back-channel logout (with `sid` in ID and logout tokens). Its shape:
 *
 *   - `defaults`: oidc-provider as it ships: the ID token carries only the claims asked for with
 *     the `claims` parameter, and a scope's claims (`email`, `name`) come from UserInfo, as
 *     OpenID Connect Core §5.4 says for the code flow;
 *   - `keycloak`: the claims in the ID token too, as Keycloak sends them by default.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { exportJWK, generateKeyPair, type JWK } from "jose";

export interface DevIssuerClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
}

export interface DevIssuerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  clients: DevIssuerClient[];
  /** Default `defaults` (see the file's comment). */
  shape?: DevIssuerShape;
  /** Serve https with this certificate (PEM), for relying parties that take no plain http issuer. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export type DevIssuerShape = "defaults" | "keycloak";

export interface DevIssuer {
  /** Its issuer identifier, e.g. http://127.0.0.1:9400. */
  issuer: string;
  /** The private key it signs with: tests forge logout tokens the issuer's own keys verify. */
  signingKey: JWK;
  stop(): Promise<void>;
}

/** The account a login names (see the file's comment). */
export function accountOfLogin(login: string) {
  const normalized = login.trim().toLowerCase();
  const local = normalized.slice(0, Math.max(normalized.indexOf("@"), 0)) || normalized;
  const verified = local.includes("+unverified")
    ? { email_verified: false }
    : local.includes("+noverified")
      ? {}
      : local.includes("+stringverified")
        ? { email_verified: "true" }
        : { email_verified: true };
  return {
    sub: `dev-${createHash("sha256").update(normalized).digest("hex").slice(0, 24)}`,
    ...(local.includes("+noemail") ? {} : { email: login.trim(), ...verified }),
    name: local.split("+")[0] ?? local,
  };
}

export async function startDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const host = options.host ?? "127.0.0.1";
  const issuer = `${options.tls ? "https" : "http"}://${host}:${options.port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: `dev-${randomBytes(6).toString("hex")}`,
    alg: "RS256",
    use: "sig",
  };

  // Its warnings (development defaults, an unsupported Node) are for its own operators, not ours.
  const { default: Provider } = await import("oidc-provider");
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      ...client,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      ...(client.backchannel_logout_uri ? { backchannel_logout_session_required: true } : {}),
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "email", "profile"],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // Its guard against calling private addresses would stop the back-channel logout to the
    // gateway on this machine, which is the one relying party a local issuer has.
    fetch: (url: string | URL | Request, init?: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _private, ...rest } = init ?? {};
      return globalThis.fetch(url, rest);
    },
    // Keycloak's shape puts the scope's claims in the ID token too; oidc-provider's default keeps
    // them for UserInfo.
    ...(options.shape === "keycloak" ? { conformIdTokenClaims: false } : {}),
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => accountOfLogin(id),
    }),
  });
  // A relying party that refused a back-channel logout is worth a line: its sessions stay open.
  provider.on("backchannel.error", (_ctx: unknown, error: Error, client: { clientId: string }) => {
    process.stderr.write(`[dev issuer] back-channel logout to ${client.clientId} failed: ${error.message}\n`);
  });
  const server: Server = await new Promise((resolveServer, reject) => {
    const listening = options.tls
      ? createHttpsServer(options.tls, provider.callback()).listen(options.port, host, () => resolveServer(listening))
      : provider.listen(options.port, host, () => resolveServer(listening));
    listening.once("error", reject);
  });
  return {
    issuer,
    signingKey,
    stop: () =>
      new Promise((resolveStop) => {
        server.closeAllConnections();
        server.close(() => resolveStop());
      }),
  };
}
