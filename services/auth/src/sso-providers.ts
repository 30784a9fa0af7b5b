import { AppError, type Logger } from "@tdt/kit";
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyOptions, errors as joseErrors, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { isLocalIssuer, type OidcProviderConfig } from "./sso-config.js";

/** Seconds a call to a provider may take: well inside the gateway's deadline for the callback. */
const PROVIDER_TIMEOUT_SECONDS = 4;
/** After a failed discovery, the next use tries again, but not more often than this. */
const REDISCOVER_AFTER_MS = 2000;

/** What signs a provider's tokens may be: asymmetric algorithms only. */
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
/** A token with a key id the provider's set lacks fetches the set again, at most this often. */
const KEYS_REFETCH_COOLDOWN_MS = 1000;

interface Discovery {
  /** The provider's version it was made for (a stored provider changed since is discovered again). */
  version?: string | undefined;
  pending?: Promise<oidc.Configuration> | undefined;
  ready?: oidc.Configuration | undefined;
  failedAt?: number | undefined;
}

/** Where providers beyond the deployment's own are found: those organizations added. */
export interface ProviderSource {
  find(id: string): Promise<OidcProviderConfig | undefined>;
}

/**
 * The deployment's providers (OIDC_PROVIDERS) and organizations' (read from the database at each
 * use, so a change made through one replica reaches every other at its next sign-in), and what
 * their issuers' metadata says. The deployment's are discovered at start in the background (auth
 * serves password logins while a provider is away); any is discovered again on first use while
 * undiscovered, after it changed, and after a call to the provider failed (`forget`): keys and
 * endpoints move.
 */
export class OidcProviders {
  private readonly byId: Map<string, OidcProviderConfig>;
  private readonly discoveries = new Map<string, Discovery>();
  /** Each issuer's key set, by its jwks_uri: fetched on demand, again for a key id it lacks. */
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    readonly configs: OidcProviderConfig[],
    private readonly log: Logger,
    private readonly stored?: ProviderSource,
  ) {
    this.byId = new Map(configs.map((config) => [config.id, config]));
  }

  /** The provider with this id, the deployment's before an organization's; 404 `not_found` for any other. */
  async get(id: string): Promise<OidcProviderConfig> {
    const config = this.byId.get(id) ?? (await this.stored?.find(id));
    if (!config) throw new AppError("not_found");
    return config;
  }

  /** Discovers every provider once, logging each outcome; never throws. */
  discoverAll(): Promise<void> {
    return Promise.all(this.configs.map((config) => this.configuration(config).catch(() => undefined))).then(
      () => undefined,
    );
  }

  /**
   * The provider's discovered configuration; 503 `sso_provider_unavailable` while it cannot be had.
   * It takes the provider as `get` answered it, so a stored one is read once per step of a sign-in.
   */
  async configuration(config: OidcProviderConfig): Promise<oidc.Configuration> {
    const { id } = config;
    let discovery = this.discoveries.get(id);
    if (!discovery || discovery.version !== config.version) {
      discovery = { version: config.version };
      this.discoveries.set(id, discovery);
    }
    if (discovery.ready) return discovery.ready;
    if (!discovery.pending) {
      if (discovery.failedAt !== undefined && Date.now() - discovery.failedAt < REDISCOVER_AFTER_MS) {
        throw new AppError("sso_provider_unavailable");
      }
      discovery.pending = this.discover(config).then(
        (ready) => {
          discovery.ready = ready;
          discovery.pending = undefined;
          discovery.failedAt = undefined;
          this.log.info({ provider: id, issuer: config.issuer }, "oidc provider discovered");
          return ready;
        },
        (error: unknown) => {
          discovery.pending = undefined;
          discovery.failedAt = Date.now();
          this.log.warn({ provider: id, issuer: config.issuer, err: describe(error) }, "oidc discovery failed");
          throw new AppError("sso_provider_unavailable");
        },
      );
    }
    return discovery.pending;
  }

  /**
   * Verifies a token the provider signed (an ID token, a logout token) against its published keys:
   * a provider that rotated its keys is read again at once, so its first token with a new key passes.
   */
  async verify(
    provider: OidcProviderConfig,
    token: string,
    options: JWTVerifyOptions,
    { fromTokenEndpoint = false }: { fromTokenEndpoint?: boolean } = {},
  ): Promise<JWTPayload> {
    const metadata = (await this.configuration(provider)).serverMetadata();
    const { client_id } = provider;
    if (!metadata.jwks_uri) throw new AppError("sso_provider_unavailable");
    let keySet = this.keySets.get(metadata.jwks_uri);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(metadata.jwks_uri), {
        timeoutDuration: PROVIDER_TIMEOUT_SECONDS * 1000,
        cooldownDuration: KEYS_REFETCH_COOLDOWN_MS,
      });
      this.keySets.set(metadata.jwks_uri, keySet);
    }
    const verify = async () =>
      (
        await jwtVerify(token, keySet, {
          issuer: metadata.issuer,
          audience: client_id,
          algorithms: ASYMMETRIC,
          ...options,
        })
      ).payload;
    try {
      return await verify();
    } catch (error) {
      // A token from the token endpoint (no stranger can make us fetch) with a key the set
      // lacks: the provider rotated its keys within the cooldown; read them now, once.
      if (!fromTokenEndpoint || !(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      await keySet.reload();
      return verify();
    }
  }

  /** Drops what was discovered, so that the next use discovers again (a call to the provider failed). */
  forget(id: string): void {
    const discovery = this.discoveries.get(id);
    if (discovery?.ready) discovery.ready = undefined;
  }

  private async discover(config: OidcProviderConfig): Promise<oidc.Configuration> {
    const configuration = await oidc.discovery(
      new URL(config.issuer),
      config.client_id,
      { client_secret: config.client_secret },
      oidc.ClientSecretBasic(config.client_secret),
      {
        execute: isLocalIssuer(config.issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: PROVIDER_TIMEOUT_SECONDS,
      },
    );
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    return configuration;
  }
}

/** An error as a log field: its class, code and message, never a token or a secret it may carry in `cause`. */
export function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error).slice(0, 200) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    ...(typeof code === "string" ? { code } : {}),
    message: error.message.slice(0, 300),
  };
}
