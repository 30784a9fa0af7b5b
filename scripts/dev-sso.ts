/**
 * `OIDC_DEV_ISSUER=true npm start`: single sign-on without an account anywhere. Starts the test
 * suite's local OpenID Connect issuer (oidc-provider, a development dependency: it signs in any
 * email typed on its login page) and adds it to OIDC_PROVIDERS as the provider `dev`, with its
 * callback and back-channel logout registered under PUBLIC_URL.
 */
import { randomBytes } from "node:crypto";
import type { Started } from "./infrastructure.js";

export const DEV_PROVIDER_ID = "dev";
export const DEFAULT_DEV_ISSUER_PORT = 9400;

/** True when OIDC_DEV_ISSUER asks for the local issuer. */
export function wantsDevIssuer(env: NodeJS.ProcessEnv): boolean {
  return /^(1|true|yes|on)$/i.test(env.OIDC_DEV_ISSUER?.trim() ?? "");
}

/** PUBLIC_URL, or the gateway on this machine: http://localhost:<GATEWAY_PORT>. */
export function localPublicUrl(env: NodeJS.ProcessEnv): string {
  return (env.PUBLIC_URL?.trim() || `http://localhost:${env.GATEWAY_PORT?.trim() || 8000}`).replace(/\/+$/, "");
}

/**
 * Starts the issuer and answers the settings that make auth use it: PUBLIC_URL (default
 * http://localhost:<GATEWAY_PORT>) and OIDC_PROVIDERS with `dev` added to any already listed.
 */
export async function startDevSso(env: NodeJS.ProcessEnv): Promise<Started & { env: Record<string, string> }> {
  const port = Number(env.OIDC_DEV_ISSUER_PORT ?? DEFAULT_DEV_ISSUER_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`OIDC_DEV_ISSUER_PORT must be a port number, got "${env.OIDC_DEV_ISSUER_PORT}"`);
  }
  const publicUrl = localPublicUrl(env);
  const listed = parseListed(env.OIDC_PROVIDERS);
  const client = {
    client_id: "tdt-dev",
    client_secret: randomBytes(24).toString("base64url"),
    redirect_uris: [`${publicUrl}/api/v1/auth/oidc/${DEV_PROVIDER_ID}/callback`],
    post_logout_redirect_uris: [`${publicUrl}/`],
    backchannel_logout_uri: `${publicUrl}/api/v1/auth/oidc/${DEV_PROVIDER_ID}/backchannel-logout`,
  };
  // Loaded only when asked for: oidc-provider is a development dependency.
  const { startDevIssuer } = await import("./oidc-dev-issuer.js");
  const issuer = await startDevIssuer({ port, clients: [client] });
  const provider = {
    id: DEV_PROVIDER_ID,
    name: "the local test issuer (any email)",
    issuer: issuer.issuer,
    client_id: client.client_id,
    client_secret: client.client_secret,
  };
  return {
    url: issuer.issuer,
    stop: () => issuer.stop(),
    env: { PUBLIC_URL: publicUrl, OIDC_PROVIDERS: JSON.stringify([...listed, provider]) },
  };
}

/** The providers OIDC_PROVIDERS already lists (auth checks each entry; here only the list shape). */
function parseListed(json: string | undefined): unknown[] {
  if (json === undefined || json.trim() === "") return [];
  try {
    const list: unknown = JSON.parse(json);
    if (Array.isArray(list)) return list;
  } catch {
    // auth names the problem at start.
  }
  throw new Error("OIDC_PROVIDERS must be a JSON list to add the dev issuer to it");
}
