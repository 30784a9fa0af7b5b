import type { Sql } from "postgres";
import {
  type ConfigOf,
  type ConfigSpec,
  type DEFAULT_METRICS_PORTS,
  env,
  loadConfig,
  metricsPortSetting,
  shared,
} from "./config.js";
import { connectDatabase, connectionUrlOf } from "./database/connection.js";
import { migrate } from "./database/migrations.js";
import { appRoleOf, shareOwnerPassword } from "./database/organizations.js";
import { type NatsConnection, type NatsLink, natsLink } from "./events/nats.js";
import { OutboxRelay } from "./events/outbox.js";
import { OUTBOX_MIGRATIONS } from "./events/outbox-migrations.js";
import { consumeDurably, type EventConsumer } from "./events/streams.js";
import { exitOnUncaughtException } from "./fatal-exit.js";
import { type GrpcServerHandle, type ServiceBinding, startGrpcServer } from "./grpc/server.js";
import { grpcTlsSetting } from "./grpc/tls.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { startProcessMetrics } from "./observability/metrics.js";
import { startTracing } from "./observability/tracing.js";
import { onShutdown } from "./shutdown.js";
import { announceListening } from "./supervision.js";

/** The backend services' short names. */
type ServiceName = Exclude<keyof typeof DEFAULT_METRICS_PORTS, "gateway">;

/** The settings every backend service reads: where it listens, with which TLS, its database, its log level. */
function baseSpec(name: ServiceName, defaultPort: number) {
  const upper = name.toUpperCase();
  return {
    port: env.port(`${upper}_PORT`, defaultPort),
    metricsPort: metricsPortSetting(name),
    metricsHost: shared.metricsHost,
    metricsToken: shared.metricsToken,
    bindHost: shared.grpcBindHost,
    /** Mutual TLS for this service's server and for its clients of other services. */
    grpcTls: grpcTlsSetting,
    databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
    ownDatabaseUrl: env.optional(`${upper}_DATABASE_URL`),
    /** Connections in this process's database pool. */
    databasePoolMax: env.int("DATABASE_POOL_MAX", 10, 1, 1000),
    logLevel: shared.logLevel,
    natsUrl: shared.natsUrl,
    natsCredentials: shared.natsCredentials,
    natsStreamReplicas: shared.natsStreamReplicas,
    /**
     * How long a service keeps answering after SIGTERM, reporting NOT_SERVING, before it stops
     * accepting calls: the time its callers and Kubernetes take to stop sending it any.
     */
    shutdownDelayMs: env.int("SHUTDOWN_DELAY_MS", 0, 0, 60_000),
  };
}

export interface ServiceParts<C> {
  config: C;
  sql: Sql;
  log: Logger;
  /**
   * The process's one NATS connection, opened on first use and shared by the outbox relay,
   * the durable consumers and the revocation feed; the kit drains it on shutdown.
   */
  nats: NatsLink;
  /**
   * Tells the outbox relay that this process just committed events (a no-op without an outbox):
   * they go out now, not at its next poll. writeOutboxEvent's own wake-up makes it unneeded.
   */
  outboxWritten: () => void;
}

export interface StartedService {
  bindings: ServiceBinding[];
  /** The durable consumers the kit runs on the NATS link (handlers in the service's `src/events.ts`). */
  consumers?: EventConsumer<unknown>[];
  /** Readiness beyond the database, e.g. a required downstream link. */
  isServing?: () => boolean;
  /** Runs after gRPC has drained and the consumers have stopped, before the outbox relay and the pool close. */
  stop?: () => Promise<void>;
}

export interface ServiceDefinition<S extends ConfigSpec> {
  /** Short name: "auth", "trees", "sessions". Also names the PORT and DATABASE_URL variables. */
  name: ServiceName;
  /** Fully qualified gRPC service names, for health checks. */
  grpcServices: string[];
  defaultPort: number;
  /**
   * The certificate identities that may call this service under mutual TLS (see
   * docs/decisions.md, "Service identity"). Others get PERMISSION_DENIED; health stays open.
   */
  callers: readonly string[];
  /** The service's own database, e.g. "tdt_auth". */
  database: string;
  migrationsDir: string;
  config: S;
  /**
   * The service's tenant tables are walled off by organization (database/organizations.ts): its
   * migrations wall each table with the kit's functions (every database has them) and make the
   * role `<name>_app`, and after them the service runs as that role, which the wall binds. `start`'s `sql` is that role's: a query outside `inOrganization` sees no tenant row.
   */
  organizationWall?: boolean;
  /**
   * Relays the service's `outbox` table (see events/outbox.ts) to JetStream; `prepare` runs before
   * the first publish and after a failure, e.g. to create the stream the service owns. The kit
   * makes the table, migrating it before the service's own migrations.
   */
  outbox?: {
    prepare?: (nc: NatsConnection) => Promise<void>;
    /** The organization an event's payload names: the relay sends it as a header (OutboxRelayOptions). */
    organizationOf?: (subject: string, payload: Uint8Array) => string | undefined;
  };
  start(parts: ServiceParts<ConfigOf<S> & ConfigOf<ReturnType<typeof baseSpec>>>): Promise<StartedService>;
}

/**
 * The shared service defaults: config from env, logger, database created and migrated, one
 * lazily opened NATS connection with the outbox relay and the durable consumers on it, handlers
 * bound with `grpc.health.v1`, graceful shutdown on SIGTERM. NATS being down never stops a
 * service: the outbox keeps the events and the consumers catch up once it is back.
 */
export async function runService<S extends ConfigSpec>(definition: ServiceDefinition<S>): Promise<GrpcServerHandle> {
  const config = {
    ...loadConfig(baseSpec(definition.name, definition.defaultPort)),
    ...loadConfig(definition.config),
  };
  // First: what starts next (the pool, the clients) is traced only once the SDK is registered.
  const tracing = startTracing(`tdt-${definition.name}`);
  const log = createLogger(definition.name, config.logLevel);
  process.on("unhandledRejection", (error) => log.error({ err: error }, "unhandled rejection"));
  // What an uncaught exception can still close, filled in as the parts start.
  const closable: { server?: GrpcServerHandle; sql?: Sql } = {};
  exitOnUncaughtException(log, async () => {
    await closable.server?.shutdown(1000);
    await closable.sql?.end({ timeout: 1 });
  });
  try {
    const metricsServer = await startProcessMetrics(definition.name, config, log);
    const where = {
      serverUrl: config.databaseUrl,
      explicitUrl: config.ownDatabaseUrl,
      database: definition.database,
      max: config.databasePoolMax,
      log,
    };
    // A walled service's owner pool only migrates: the role's pool is the one to watch.
    let sql = await connectDatabase({ ...where, observe: !definition.organizationWall });
    closable.sql = sql;
    const role = definition.organizationWall ? appRoleOf(definition.name) : undefined;
    await migrate(sql, definition.migrationsDir, log, definition.outbox ? OUTBOX_MIGRATIONS : [], async (owner) => {
      if (role) await shareOwnerPassword(owner, role, connectionUrlOf(where));
    });
    if (role) {
      // From here on the service is its own role, which the wall binds; the owner's pool goes.
      const owner = sql;
      sql = await connectDatabase({ ...where, role });
      closable.sql = sql;
      await owner.end({ timeout: 5 });
    }
    const nats = natsLink(config, definition.name, log);
    const relay = definition.outbox
      ? new OutboxRelay({
          sql,
          nats: () => nats.current(),
          prepare: definition.outbox.prepare,
          organizationOf: definition.outbox.organizationOf,
          stream: { replicas: config.natsStreamReplicas },
          log,
        })
      : undefined;
    const started = await definition.start({ config, sql, log, nats, outboxWritten: () => relay?.nudge() });
    await relay?.start();
    const consumers = startConsumers(nats, started.consumers ?? [], log);
    const server = await startGrpcServer({
      host: config.bindHost,
      port: config.port,
      tls: config.grpcTls,
      allowedCallers: definition.callers,
      bindings: started.bindings,
      serviceNames: definition.grpcServices,
      ...(started.isServing ? { isServing: started.isServing } : {}),
      log,
    });
    closable.server = server;
    onShutdown(log, [
      // In-flight calls finish first; the events they write still go out through the relay.
      () => server.shutdown(undefined, config.shutdownDelayMs),
      () => consumers.stop(),
      async () => started.stop?.(),
      async () => {
        if (!relay) return;
        await relay.stop();
        // One last batch, so the events of the last calls leave now rather than at the next start;
        // at most a second (NATS may be away): what is not sent stays in the outbox, and a
        // re-publish at the next start is deduplicated by its id.
        await Promise.race([relay.relayBatch().catch(() => {}), new Promise((wake) => setTimeout(wake, 1000))]);
      },
      () => nats.close(),
      () => sql.end({ timeout: 5 }),
      () => metricsServer.stop(),
      // Last, so that the spans of the final calls are exported.
      () => tracing.stop(),
    ]);
    announceListening(definition.name, server.port);
    return server;
  } catch (error) {
    log.fatal({ err: error }, "failed to start");
    process.exit(1);
  }
}

/** Runs each consumer once the link is open, in the background; `stop` ends them all. */
function startConsumers(nats: NatsLink, consumers: EventConsumer<unknown>[], log: Logger): { stop(): Promise<void> } {
  if (consumers.length === 0) return { stop: async () => {} };
  const stops: Array<() => Promise<void>> = [];
  let stopped = false;
  const started = nats.connection().then(async (nc) => {
    for (const consumer of consumers) {
      if (stopped) return;
      stops.push(await consumeDurably(nc, consumer, log));
    }
  });
  return {
    async stop() {
      stopped = true;
      // A consumer still opening (NATS up, the stream not yet there) is stopped once it is open.
      if (nats.current()) await Promise.race([started, new Promise((wake) => setTimeout(wake, 1000))]);
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
