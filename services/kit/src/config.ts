import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/**
 * Configuration from environment variables, validated once at start.
 * A bad or missing value becomes one ConfigError naming the variable; `loadConfig`
 * turns that into one clear line on stderr and exit code 1.
 */

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** A variable's reader: name, default and how to parse it. */
export interface Setting<T> {
  read(env: Env): T;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function setting<T>(name: string, fallback: T | undefined, parse: (text: string) => T): Setting<T> {
  return {
    read(env) {
      const text = raw(env, name);
      if (text === undefined) {
        if (fallback === undefined) throw new ConfigError(name, "is required but not set");
        return fallback;
      }
      return parse(text);
    },
  };
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export const env = {
  string: (name: string, fallback?: string): Setting<string> => setting(name, fallback, (text) => text),

  /** An optional string: undefined when unset. */
  optional: (name: string): Setting<string | undefined> => ({ read: (e) => raw(e, name) }),

  int: (name: string, fallback: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): Setting<number> =>
    setting(name, fallback, (text) => integer(name, text, min, max)),

  port: (name: string, fallback: number): Setting<number> =>
    setting(name, fallback, (text) => integer(name, text, 0, 65535)),

  url: (name: string, fallback: string | undefined, protocols: string[]): Setting<string> =>
    setting(name, fallback, (text) => {
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        throw new ConfigError(name, `must be a URL (${protocols.join(", ")}), got "${redactUrl(text)}"`);
      }
      if (!protocols.includes(parsed.protocol.replace(/:$/, ""))) {
        throw new ConfigError(name, `must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
      }
      return text;
    }),

  /** One URL, or several separated by commas (the servers of a cluster), each checked as `url`. */
  urls: (name: string, fallback: string | undefined, protocols: string[]): Setting<string> =>
    setting(name, fallback, (text) => {
      const parts = text.split(",").map((part) => part.trim());
      if (parts.includes("")) throw new ConfigError(name, `has an empty entry in its list, got "${redactUrl(text)}"`);
      for (const part of parts) env.url(name, undefined, protocols).read({ [name]: part });
      return parts.join(",");
    }),

  oneOf: <T extends string>(name: string, fallback: T, choices: readonly T[]): Setting<T> =>
    setting(name, fallback, (text) => {
      if (!(choices as readonly string[]).includes(text)) {
        throw new ConfigError(name, `must be one of ${choices.join(", ")}, got "${text}"`);
      }
      return text as T;
    }),

  bool: (name: string, fallback: boolean): Setting<boolean> =>
    setting(name, fallback, (text) => {
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new ConfigError(name, `must be true or false, got "${text}"`);
    }),

  list: (name: string, fallback: string[]): Setting<string[]> =>
    setting(name, fallback, (text) =>
      text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean),
    ),
};

/**
 * Where another service listens, as a gRPC target: `<NAME>_TARGET` when set (a name that
 * resolves to several addresses, `dns:///trees:50052`, or a list, `ipv4:127.0.0.1:50052,127.0.0.2:50052`;
 * calls spread over every address), otherwise `<NAME>_HOST` (default 127.0.0.1) and `<NAME>_PORT`
 * as host:port.
 */
function address(name: string, defaultPort: number): Setting<string> {
  const target = env.optional(`${name}_TARGET`);
  const host = env.string(`${name}_HOST`, "127.0.0.1");
  const port = env.port(`${name}_PORT`, defaultPort);
  return {
    read(source) {
      const given = target.read(source);
      if (given === undefined) return `${host.read(source)}:${port.read(source)}`;
      if (!/^(dns|ipv4|ipv6|unix):/.test(given) || /\s/.test(given)) {
        throw new ConfigError(
          `${name}_TARGET`,
          `must be a gRPC target such as dns:///${name.toLowerCase()}:${defaultPort} or ipv4:127.0.0.1:${defaultPort},127.0.0.2:${defaultPort}, got "${given}"`,
        );
      }
      return given;
    },
  };
}

/**
 * JWKS_CACHE_DIR, or this user's own state directory: `$XDG_STATE_HOME/tdt/jwks`, else
 * `~/.local/state/tdt/jwks`. Never the shared temporary directory, where anyone may plant a key
 * (docs/decisions/jwks-cache.md).
 */
function jwksCacheDirectory(): Setting<string> {
  return {
    read(source) {
      const given = raw(source, "JWKS_CACHE_DIR");
      if (given !== undefined) {
        if (!isAbsolute(given)) throw new ConfigError("JWKS_CACHE_DIR", `must be an absolute path, got "${given}"`);
        return given;
      }
      // The XDG specification: a relative XDG_STATE_HOME is invalid and ignored.
      const stateHome = raw(source, "XDG_STATE_HOME");
      const base =
        stateHome !== undefined && isAbsolute(stateHome)
          ? stateHome
          : join(raw(source, "HOME") ?? homedir(), ".local", "state");
      return join(base, "tdt", "jwks");
    },
  };
}

/** How a service proves who it is to NATS: the server's own user/password, token or creds-file options. */
export type NatsCredentials = { user: string; password: string } | { token: string } | { credsFile: string };

/**
 * `NATS_USER` + `NATS_PASSWORD`, `NATS_TOKEN` or `NATS_CREDS_FILE`: at most one way, given whole;
 * none means an anonymous connection (a NATS without authentication).
 */
function natsCredentials(): Setting<NatsCredentials | undefined> {
  const names = ["NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_CREDS_FILE"] as const;
  return {
    read(source) {
      const [user, password, token, credsFile] = names.map((name) => raw(source, name));
      if (user !== undefined && password === undefined)
        throw new ConfigError("NATS_PASSWORD", "must be set with NATS_USER");
      if (password !== undefined && user === undefined)
        throw new ConfigError("NATS_USER", "must be set with NATS_PASSWORD");
      const ways = (
        [
          ["NATS_USER", user],
          ["NATS_TOKEN", token],
          ["NATS_CREDS_FILE", credsFile],
        ] as const
      ).filter(([, value]) => value !== undefined);
      if (ways.length > 1) {
        throw new ConfigError(
          ways[1]?.[0] ?? "NATS_TOKEN",
          `cannot be set with ${ways[0]?.[0]}: use one of NATS_USER+NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE`,
        );
      }
      if (user !== undefined && password !== undefined) return { user, password };
      if (token !== undefined) return { token };
      if (credsFile !== undefined) {
        try {
          accessSync(credsFile, constants.R_OK);
        } catch {
          throw new ConfigError("NATS_CREDS_FILE", `cannot be read: "${credsFile}"`);
        }
        return { credsFile };
      }
      return undefined;
    },
  };
}

export const DEFAULT_PORTS = { gateway: 8000, auth: 50051, trees: 50052, sessions: 50053, hooks: 50054 } as const;
/** Where each process serves Prometheus text (`<NAME>_METRICS_PORT`; 0 serves none). */
export const DEFAULT_METRICS_PORTS = { gateway: 9460, auth: 9461, trees: 9462, sessions: 9463, hooks: 9464 } as const;

/** `<NAME>_METRICS_PORT` of a process, defaulting to its port in DEFAULT_METRICS_PORTS. */
export function metricsPortSetting(name: keyof typeof DEFAULT_METRICS_PORTS): Setting<number> {
  return env.port(`${name.toUpperCase()}_METRICS_PORT`, DEFAULT_METRICS_PORTS[name]);
}

/** METRICS_TOKEN: unset, none; else at least 16 characters with no whitespace (it travels in a header). */
function metricsTokenSetting(): Setting<string | undefined> {
  const token = env.optional("METRICS_TOKEN");
  return {
    read(source) {
      const value = token.read(source);
      if (value !== undefined && (value.length < 16 || /\s/.test(value))) {
        throw new ConfigError("METRICS_TOKEN", "must be at least 16 characters without spaces");
      }
      return value;
    },
  };
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** Settings that several services read, declared once so that names and defaults never drift. */
export const shared = {
  logLevel: env.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
  /** A NATS server, or a cluster's servers separated by commas. */
  natsUrl: env.urls("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls", "ws", "wss"]),
  /**
   * How many servers of the NATS cluster keep each stream its service owns: 1 for one server,
   * 3 for a three-server cluster (docker-compose.yml, infra/k8s). A stream made with another
   * count is changed to this one when its owner starts.
   */
  natsStreamReplicas: env.int("NATS_STREAM_REPLICAS", 1, 1, 5),
  natsCredentials: natsCredentials(),
  /** Deadline of every call to another service. */
  grpcDeadlineMs: env.int("GRPC_DEADLINE_MS", 5000, 50, 120_000),
  /** The access-token lifetime: auth mints with it, the gateway keeps revocations that long. */
  accessTokenTtlSeconds: env.int("ACCESS_TOKEN_TTL_SECONDS", 900, 10, 24 * 3600),
  /** Where verifiers keep the last signing keys from auth, for a restart while auth is down. */
  jwksCacheDir: jwksCacheDirectory(),
  /**
   * How long after auth served them the kept keys may still be used: a day rides out a long
   * auth outage, and bounds how long a key auth has since withdrawn can come back from the file.
   */
  jwksCacheMaxAgeSeconds: env.int("JWKS_CACHE_MAX_AGE_SECONDS", 24 * 3600, 60, 30 * 24 * 3600),
  /**
   * The most an uploaded image, and the image stored from it, may weigh: the gateway reads no
   * further into an upload, and the trees service refuses more from any caller. At most 7 MiB:
   * an image travels whole in one gRPC message, and the kit's servers and clients take 8 MiB.
   */
  mediaMaxBytes: env.int("MEDIA_MAX_BYTES", 5 * 1024 * 1024, 1024, 7 * 1024 * 1024),
  authAddress: address("AUTH", DEFAULT_PORTS.auth),
  treesAddress: address("TREES", DEFAULT_PORTS.trees),
  sessionsAddress: address("SESSIONS", DEFAULT_PORTS.sessions),
  hooksAddress: address("HOOKS", DEFAULT_PORTS.hooks),
  /**
   * The interface a gRPC service listens on: loopback by default, so that under `npm start`
   * nothing outside the machine reaches a service; containers set 0.0.0.0.
   */
  grpcBindHost: env.string("GRPC_BIND_HOST", "127.0.0.1"),
  /**
   * The interface the metrics server listens on: loopback by default, as gRPC; the images set
   * 0.0.0.0, as Prometheus scrapes from another container or pod. The port is its own, never the
   * gateway's public one.
   */
  metricsHost: env.string("METRICS_HOST", "127.0.0.1"),
  /** When set, `/metrics` answers only a request with `Authorization: Bearer <token>` (observability/metrics.ts). */
  metricsToken: metricsTokenSetting(),
};

export type ConfigSpec = Record<string, Setting<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Reads every setting; throws the first ConfigError. */
export function readConfig<S extends ConfigSpec>(spec: S, source: Env = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(spec)) out[key] = item.read(source);
  return out as ConfigOf<S>;
}

/** Reads every setting, or prints one line naming the bad variable and exits 1. */
export function loadConfig<S extends ConfigSpec>(spec: S, source: Env = process.env): ConfigOf<S> {
  try {
    return readConfig(spec, source);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    // Unparseable: hide everything from the first colon after "//" to the last "@".
    return text.replace(/\/\/([^:/@]*):.*@/, "//$1:***@");
  }
}
