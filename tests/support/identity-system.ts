/**
 * A system with local OpenID providers for identity tests: one dev issuer per provider
 * (scripts/oidc-dev-issuer.ts), so that each provider is its own space of accounts, and the
 * gateway's port chosen first, because each issuer must know its callback URL before the system
 * starts. `PUBLIC_URL` is the gateway, so mailed links and `return_to` pages are requests to it.
 */
import { type DevIssuer, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";
import { freePort } from "./ports.js";
import { type SystemWithAdmin, startSystemWithAdmin } from "./system.js";

/** Never logged: the identity tests look for it in every log line. */
export const CLIENT_SECRET = "identity-client-secret-never-logged";

export interface ProviderSpec {
  id: string;
  allowed_domains?: string[];
  default_role?: string;
}

export interface SystemWithProviders {
  running: SystemWithAdmin;
  /** The gateway's base URL (also PUBLIC_URL and the allowed return_to origin). */
  gateway: string;
  issuers: Map<string, DevIssuer>;
  stop(): Promise<void>;
}

/**
 * `providers` are the deployment's (OIDC_PROVIDERS); `issuersOnly` names providers that get a dev
 * issuer (with its client `tdt-<id>` and callback) but are not configured: an organization adds
 * them through the API.
 */
export async function startSystemWithProviders(
  providers: ProviderSpec[],
  extraEnv: Record<string, string> = {},
  issuersOnly: string[] = [],
): Promise<SystemWithProviders> {
  const gatewayPort = await freePort();
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  const issuers = new Map<string, DevIssuer>();
  try {
    for (const id of [...providers.map((provider) => provider.id), ...issuersOnly]) {
      const issuer = await startDevIssuer({
        port: await freePort(),
        clients: [
          {
            client_id: `tdt-${id}`,
            client_secret: CLIENT_SECRET,
            redirect_uris: [`${gateway}/api/v1/auth/oidc/${id}/callback`],
            post_logout_redirect_uris: [`${gateway}/`],
          },
        ],
      });
      issuers.set(id, issuer);
    }
    const running = await startSystemWithAdmin({
      GATEWAY_PORT: String(gatewayPort),
      PUBLIC_URL: gateway,
      OIDC_RETURN_ORIGINS: gateway,
      OIDC_RATE_LIMIT_PER_MINUTE: "1000000",
      MAIL_RATE_LIMIT_PER_MINUTE: "1000000",
      ...(providers.length > 0
        ? {
            OIDC_PROVIDERS: JSON.stringify(
              providers.map((provider) => ({
                ...provider,
                issuer: issuers.get(provider.id)?.issuer,
                client_id: `tdt-${provider.id}`,
                client_secret: CLIENT_SECRET,
              })),
            ),
          }
        : {}),
      ...extraEnv,
    });
    return {
      running,
      gateway,
      issuers,
      stop: async () => {
        try {
          await running.stop();
        } finally {
          await Promise.all([...issuers.values()].map((issuer) => issuer.stop()));
        }
      },
    };
  } catch (error) {
    await Promise.all([...issuers.values()].map((issuer) => issuer.stop()));
    throw error;
  }
}
