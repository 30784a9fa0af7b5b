import { type ConfigOf, type ConfigSpec, loadConfig } from "./config.js";
import { type NatsLink, type NatsSettings, natsLink } from "./events/nats.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { startProcessMetrics } from "./observability/metrics.js";
import { startTracing } from "./observability/tracing.js";
import { onShutdown } from "./shutdown.js";
import { announceListening } from "./supervision.js";

/** What every HTTP front reads: where it listens and logs, where its metrics go, its NATS. */
interface FrontConfig extends NatsSettings {
  port: number;
  host: string;
  logLevel: string;
  metricsHost: string;
  metricsPort: number;
  metricsToken: string | undefined;
}

/** An HTTP server as the kit runs it (a fastify app is one). */
export interface HttpServer {
  listen(options: { port: number; host: string }): Promise<unknown>;
  close(): Promise<unknown>;
}

export interface GatewayParts<C> {
  config: C;
  log: Logger;
  /** The process's one NATS connection, opened on first use; the kit drains it on shutdown. */
  nats: NatsLink;
}

export interface StartedGateway {
  server: HttpServer;
  /** Runs once the server has drained, before NATS, the metrics and the tracing stop. */
  stop?: () => Promise<void>;
}

/**
 * Runs an HTTP front as runService runs a gRPC service: config, tracing (first, so that what
 * starts next is traced), logs, metrics, the NATS link; then `start` builds the server, which
 * listens on the config's host and port. A failure to start is one fatal line and exit 1. On
 * SIGTERM or SIGINT the server drains first, then `stop`, NATS, metrics and tracing (last, so
 * that the spans of the final requests are exported).
 */
export async function runGateway<S extends ConfigSpec>(definition: {
  name: string;
  config: S;
  start: (parts: GatewayParts<ConfigOf<S>>) => Promise<StartedGateway>;
}): Promise<void> {
  const config = loadConfig(definition.config);
  const front = config as unknown as FrontConfig;
  const tracing = startTracing(`tdt-${definition.name}`);
  const log = createLogger(definition.name, front.logLevel);
  const fatal = (error: unknown): never => {
    // One line saying why (e.g. the port is taken), not a stack trace.
    log.fatal({ err: error }, "failed to start");
    process.exit(1);
  };
  // Before the parts start, so that the instruments they make (gRPC clients, caches) record.
  const metricsServer = await startProcessMetrics(definition.name, front, log).catch(fatal);
  const nats = natsLink(front, definition.name, log);
  const { server, stop } = await definition.start({ config, log, nats }).catch(fatal);
  await server.listen({ port: front.port, host: front.host }).catch(fatal);
  announceListening(definition.name, front.port);
  onShutdown(log, [
    () => server.close(),
    async () => stop?.(),
    () => nats.close(),
    () => metricsServer.stop(),
    () => tracing.stop(),
  ]);
}
