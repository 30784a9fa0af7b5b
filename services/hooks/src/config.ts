import { isIP } from "node:net";
import { ConfigError, env, type Setting, shared } from "@tdt/kit";
import { parseAllowList } from "./address-guard.js";
import { RETRY_WAITS_MS } from "./retry-schedule.js";

/**
 * WEBHOOK_ALLOW_PRIVATE: comma-separated CIDRs a delivery may reach although they are loopback,
 * private or link-local (a receiver inside the deployment; the tests' on loopback). Unset: none.
 */
const allowPrivate: Setting<string[]> = {
  read(source) {
    const parsed = parseAllowList(source.WEBHOOK_ALLOW_PRIVATE);
    if ("invalid" in parsed) {
      throw new ConfigError("WEBHOOK_ALLOW_PRIVATE", `must list CIDRs such as 10.0.0.0/8, got "${parsed.invalid}"`);
    }
    return parsed.cidrs;
  },
};

/**
 * WEBHOOK_RETRY_SCHEDULE: the waits after each failed attempt, in seconds, comma-separated
 * (default Standard Webhooks' 5, 300, 1800, 7200, 18000, 36000, 36000: about a day). Each is
 * moved by up to ±20 %.
 */
const retrySchedule: Setting<number[]> = {
  read(source) {
    const text = source.WEBHOOK_RETRY_SCHEDULE?.trim();
    if (!text) return [...RETRY_WAITS_MS];
    const waits = text.split(",").map((part) => part.trim());
    if (waits.length > 20 || waits.some((wait) => !/^\d{1,6}$/.test(wait) || Number(wait) < 1)) {
      throw new ConfigError(
        "WEBHOOK_RETRY_SCHEDULE",
        `must be up to 20 waits in whole seconds (1 to 999999), comma-separated, got "${text}"`,
      );
    }
    return waits.map((wait) => Number(wait) * 1000);
  },
};

/** WEBHOOK_RESOLVER: an IP address, with a port or not (`10.0.0.2`, `10.0.0.2:53`, `[fd00::2]:53`). */
const resolverSetting: Setting<string | undefined> = {
  read(source) {
    const text = source.WEBHOOK_RESOLVER?.trim();
    if (!text) return undefined;
    const match = /^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+)|([0-9a-fA-F:]+))(?::(\d{1,5}))?$/.exec(text);
    const host = match?.[1] ?? match?.[2] ?? match?.[3];
    const port = match?.[4] === undefined ? 53 : Number(match[4]);
    if (!host || isIP(host) === 0 || port < 1 || port > 65535 || (match?.[3] && match[4] !== undefined)) {
      throw new ConfigError("WEBHOOK_RESOLVER", `must be a DNS server's IP address, with a port or not, got "${text}"`);
    }
    return text;
  },
};

export const hooksConfig = {
  authAddress: shared.authAddress,
  jwksCacheDir: shared.jwksCacheDir,
  jwksCacheMaxAgeSeconds: shared.jwksCacheMaxAgeSeconds,
  accessTokenTtlSeconds: shared.accessTokenTtlSeconds,
  /** The deployment's address: each event's CloudEvents `source`, and where report links point. */
  publicUrl: env.url("PUBLIC_URL", "http://localhost:8000", ["http", "https"]),
  webhookAllowPrivate: allowPrivate,
  webhookRetryWaitsMs: retrySchedule,
  /**
   * WEBHOOK_RESOLVER: the DNS server (`host` or `host:port`) that resolves receivers' names, for an
   * operator whose egress has a resolver of its own; unset, the system's.
   */
  webhookResolver: resolverSetting,
  /** Deliveries one replica attempts at once. */
  webhookConcurrency: env.int("WEBHOOK_CONCURRENCY", 16, 1, 256),
};
