import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { type Attributes, type Counter, type Histogram, type Meter, metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { AppError } from "../grpc/errors.js";
import type { CacheCounts } from "./cache-statistics.js";
import type { Logger } from "./logger.js";

/**
 * Metrics (issue 13): OpenTelemetry instruments, read by Prometheus from a port of the process's
 * own (never the gateway's public one), path `/metrics`, on loopback unless METRICS_HOST says
 * otherwise and behind METRICS_TOKEN when set (issue 23). Until `startMetrics` has run, and when
 * its port is 0, the API's meter is a no-op: instruments cost a function call.
 *
 * Instruments are made where they are recorded, after `startMetrics` (the API has no proxy for
 * meters made before a provider is set): in factories and constructors that run at start.
 */
export function meter(): Meter {
  return metrics.getMeter("tdt");
}

export interface MetricsServer {
  /** The port Prometheus scrapes; undefined when the port setting is 0. */
  port: number | undefined;
  stop(): Promise<void>;
}

/**
 * Serves the process's metrics on `host:port` at `/metrics`; with `token`, only to a request
 * that brings it as `Authorization: Bearer <token>` (401 otherwise). A port already taken fails
 * the start with one line naming it, as the other ports do.
 */
export async function startMetrics(options: {
  serviceName: string;
  host: string;
  port: number;
  token?: string | undefined;
  log: Logger;
}): Promise<MetricsServer> {
  if (options.port === 0) return { port: undefined, stop: async () => {} };
  // The exporter only collects; the server is ours, so that it can ask for the token first.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const admits = bearerCheck(options.token);
  const server = createServer((request, response) => {
    if (pathOf(request.url) !== "/metrics") {
      response.writeHead(404).end();
    } else if (!admits(request.headers.authorization)) {
      response.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"' }).end();
    } else {
      exporter.getMetricsRequestHandler(request, response);
    }
  });
  try {
    await new Promise<void>((listening, failed) => {
      server.once("error", failed);
      server.listen(options.port, options.host, () => listening());
    });
  } catch (error) {
    throw new Error(`metrics port ${options.host}:${options.port} cannot be used: ${(error as Error).message}`);
  }
  server.unref();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName }),
    readers: [exporter],
  });
  metrics.setGlobalMeterProvider(provider);
  options.log.info({ host: options.host, port: options.port, token: options.token !== undefined }, "metrics listening");
  return {
    port: options.port,
    stop: async () => {
      await new Promise<void>((closed) => server.close(() => closed()));
      await provider.shutdown().catch(() => {});
      metrics.disable();
    },
  };
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? "/", "http://metrics").pathname;
  } catch {
    return undefined;
  }
}

/** Whether an Authorization header carries the token; anything passes when there is none. */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  // Digests of equal length, compared in constant time: the answer's timing tells nothing.
  const expected = createHash("sha256").update(token).digest();
  return (header) => {
    const given = /^Bearer (\S+)$/i.exec(header ?? "")?.[1];
    return given !== undefined && timingSafeEqual(createHash("sha256").update(given).digest(), expected);
  };
}

/**
 * An RPC's attributes as the semantic conventions name them, from its path "/pkg.Service/Method":
 * the names made once per method, each call adding its status code.
 */
export function rpcAttributes(path: string): (code: number) => Attributes {
  const slash = path.lastIndexOf("/");
  const names = { "rpc.system": "grpc", "rpc.service": path.slice(1, slash), "rpc.method": path.slice(slash + 1) };
  return (code) => ({ ...names, "rpc.grpc.status_code": code });
}

/** `rpc.server.duration` or `rpc.client.duration`, in milliseconds, as the conventions have them. */
export function rpcDuration(side: "server" | "client"): Histogram {
  return meter().createHistogram(`rpc.${side}.duration`, {
    unit: "ms",
    description:
      side === "server" ? "Duration of gRPC calls served" : "Duration of gRPC calls made, as the caller saw them",
  });
}

/**
 * `tdt.cache.lookups`: each cache's hits and misses, read from the counts the caches keep
 * anyway (the same the "cache statistics" log line shows).
 */
export function observeCacheLookups(caches: Record<string, { stats(): CacheCounts } | undefined>): void {
  meter()
    .createObservableCounter("tdt.cache.lookups", { description: "Cache lookups, by cache and result" })
    .addCallback((result) => {
      for (const [name, cache] of Object.entries(caches)) {
        if (!cache) continue;
        const { hits, misses } = cache.stats();
        result.observe(hits, { "tdt.cache.name": name, "tdt.cache.result": "hit" });
        result.observe(misses, { "tdt.cache.name": name, "tdt.cache.result": "miss" });
      }
    });
}

/**
 * Runs `work` and counts its outcome on `counter`: `outcome` is "ok", the error code it was
 * refused with, or "error" for anything else.
 */
export async function countOutcome<T>(counter: Counter, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    counter.add(1, { outcome: "ok" });
    return result;
  } catch (error) {
    counter.add(1, { outcome: error instanceof AppError ? error.code : "error" });
    throw error;
  }
}

/** A process's metrics server as its config sets it (`METRICS_HOST`, its metrics port, `METRICS_TOKEN`). */
export function startProcessMetrics(
  name: string,
  config: { metricsHost: string; metricsPort: number; metricsToken: string | undefined },
  log: Logger,
): Promise<MetricsServer> {
  return startMetrics({
    serviceName: `tdt-${name}`,
    host: config.metricsHost,
    port: config.metricsPort,
    token: config.metricsToken,
    log,
  });
}
