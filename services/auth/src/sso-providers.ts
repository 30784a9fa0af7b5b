import { AppError, type Logger } from "@tdt/kit";
import * as oidc from "openid-client";
import { isLocalIssuer, type OidcProviderConfig } from "./sso-config.js";

/** Seconds a call to a provider may take: well inside the gateway's deadline for the callback. */
const PROVIDER_TIMEOUT_SECONDS = 4;
/** After a failed discovery, the next use tries again, but not more often than this. */
const REDISCOVER_AFTER_MS = 2000;

interface Discovery {
  pending?: Promise<oidc.Configuration> | undefined;
  ready?: oidc.Configuration | undefined;
  failedAt?: number | undefined;
}

/**
 * The configured providers and what their issuers' metadata says. Discovered at start in the
 * background (auth serves password logins while a provider is away), again on first use while
 * undiscovered, and again after a call to the provider failed (`forget`): keys and endpoints move.
 */
export class OidcProviders {
  private readonly byId: Map<string, OidcProviderConfig>;
  private readonly discoveries = new Map<string, Discovery>();

  constructor(
    readonly configs: OidcProviderConfig[],
    private readonly log: Logger,
  ) {
    this.byId = new Map(configs.map((config) => [config.id, config]));
  }

  /** The provider with this id; 404 `not_found` for any other. */
  get(id: string): OidcProviderConfig {
    const config = this.byId.get(id);
    if (!config) throw new AppError("not_found");
    return config;
  }

  /** Discovers every provider once, logging each outcome; never throws. */
  discoverAll(): Promise<void> {
    return Promise.all(this.configs.map((config) => this.configuration(config.id).catch(() => undefined))).then(
      () => undefined,
    );
  }

  /** The provider's discovered configuration; 503 `sso_provider_unavailable` while it cannot be had. */
  async configuration(id: string): Promise<oidc.Configuration> {
    const config = this.get(id);
    const discovery = this.discoveries.get(id) ?? {};
    this.discoveries.set(id, discovery);
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
    // The ID token's signature is checked against the issuer's keys, not only taken on TLS's word.
    oidc.enableNonRepudiationChecks(configuration);
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
