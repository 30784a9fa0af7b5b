import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, DEFAULT_PORTS, env, grpcTlsSetting, metricsPortSetting, type Setting, shared } from "@tdt/kit";
import { httpsSetting } from "./edge/https-setting.js";

/** The web app as `npm run build` leaves it beside the gateway in this repository. */
const builtWebApp = fileURLToPath(new URL("../../web/dist", import.meta.url));

/** WEB_ROOT: unset, the built web app when there is one; empty, none; else a folder that must exist. */
const webRootSetting: Setting<string | undefined> = {
  read(variables) {
    const value = variables.WEB_ROOT;
    if (value === undefined) return existsSync(builtWebApp) ? builtWebApp : undefined;
    if (value.trim() === "") return undefined;
    if (!statSync(value, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ConfigError("WEB_ROOT", `must be a folder (the built web app), got "${value}"`);
    }
    return value;
  },
};

export const gatewayConfig = {
  port: env.port("GATEWAY_PORT", DEFAULT_PORTS.gateway),
  /** Loopback by default, so that `npm start` serves this machine alone; the images set 0.0.0.0. */
  host: env.string("GATEWAY_HOST", "127.0.0.1"),
  /** Prometheus text at /metrics, on a port of its own: never on the public port. */
  metricsPort: metricsPortSetting("gateway"),
  metricsHost: shared.metricsHost,
  metricsToken: shared.metricsToken,
  /** GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE: listen on https (HSTS and upgrades then go out). */
  https: httpsSetting,
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  treesAddress: shared.treesAddress,
  sessionsAddress: shared.sessionsAddress,
  hooksAddress: shared.hooksAddress,
  /** The most of an uploaded image the gateway reads (the trees service weighs it again). */
  mediaMaxBytes: shared.mediaMaxBytes,
  /** Where the auth events come from: revoked sessions stop working here within about a second. */
  natsUrl: shared.natsUrl,
  natsCredentials: shared.natsCredentials,
  /** The auth service's access token lifetime: how far back revocations matter. */
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  /**
   * Believe `X-Forwarded-For` for the client address (rate limits, login sessions). Off by
   * default: without a proxy in front that overwrites the header, any client could claim any
   * address and so escape the per-address rate limits. Turn it on only behind such a proxy.
   */
  trustProxy: env.bool("TRUST_PROXY", false),
  /** The release this process runs, shown by `/health`: the image sets it (Dockerfile, VERSION). */
  version: env.string("TDT_VERSION", "dev"),
  /** Deadline of every downstream call. */
  grpcDeadlineMs: shared.grpcDeadlineMs,
  /** Mutual TLS to auth, trees and sessions: the gateway's certificate (CN gateway) and the CA. */
  grpcTls: grpcTlsSetting,
  /**
   * Origins allowed by CORS, comma-separated: each with credentials (cookie mode). "*" lets any
   * other origin read answers, never with credentials (cors-policy.ts); empty allows none.
   */
  corsOrigins: env.list("CORS_ORIGINS", []),
  /** The folder of the web app served at `/` (services/web/dist when built); empty serves none. */
  webRoot: webRootSetting,
  /** Memory for ready answers of tree reads (response-cache.ts), in MiB; 0 turns the cache off. */
  cacheMegabytes: env.int("GATEWAY_CACHE_MB", 64, 0, 64 * 1024),
  /** The longest a cached answer is served, even if no change was announced (a late announcement's bound). */
  cacheMaxAgeSeconds: env.int("GATEWAY_CACHE_MAX_AGE_SECONDS", 10, 1, 3600),
  logLevel: shared.logLevel,
};
