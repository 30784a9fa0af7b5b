import postgres, { type Sql, type TransactionSql } from "postgres";
import { redactUrl } from "../config.js";
import { callTimeLeftMs } from "../grpc/call-deadline.js";
import type { Logger } from "../observability/logger.js";
import { meter } from "../observability/metrics.js";
import { tracingEnabled } from "../observability/tracing.js";
import { replaceablePool } from "./pool.js";
import { tracedSql } from "./tracing.js";

export type { Sql, TransactionSql };

/**
 * The URL of a service's own database: `explicitUrl` when an operator names one, else the
 * server URL with the database name put in its path.
 */
export function databaseUrlFor(serverUrl: string, database: string, explicitUrl?: string): string {
  if (explicitUrl) return explicitUrl;
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
}

/** Creates the database when missing; safe when several replicas race to do it. */
export async function ensureDatabase(serverUrl: string, database: string, log: Logger): Promise<void> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [found] = await admin`select 1 as one from pg_database where datname = ${database}`;
    if (found) return;
    await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
    log.info({ database }, "database created");
  } catch (error) {
    // 42P04 duplicate_database, 23505 unique_violation: another replica created it first.
    const code = (error as { code?: string }).code;
    if (code !== "42P04" && code !== "23505") throw error;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export interface DatabaseOptions {
  /** DATABASE_URL: a server URL; the service's database lives on it. */
  serverUrl: string;
  /** The service's own database name, e.g. tdt_auth. */
  database: string;
  /** <SERVICE>_DATABASE_URL when set: used as is, never created. */
  explicitUrl?: string | undefined;
  max?: number;
  /**
   * Connect as this login role instead of the URL's user (with the URL's password): a walled
   * service's own role (organizations.ts). The database is then not created: its owner did.
   */
  role?: string | undefined;
  /** Report the pool's metrics (default); not for a pool that only migrates and closes. */
  observe?: boolean;
  log: Logger;
}

/** The URL of the service's database as `role`, or as the URL says. */
export function connectionUrlOf(options: Pick<DatabaseOptions, "serverUrl" | "database" | "explicitUrl" | "role">) {
  const url = new URL(databaseUrlFor(options.serverUrl, options.database, options.explicitUrl));
  if (options.role) url.username = options.role;
  return url.toString();
}

/** Ensures the service's database exists and returns a pool on it. */
export async function connectDatabase(options: DatabaseOptions): Promise<Sql> {
  const url = connectionUrlOf(options);
  if (!options.explicitUrl && !options.role) await ensureDatabase(options.serverUrl, options.database, options.log);
  const pool = replaceablePool(
    url,
    {
      max: options.max ?? 10,
      onnotice: () => {},
      // Well inside a caller's deadline (GRPC_DEADLINE_MS, 5 s by default): while the server is
      // unreachable (a Postgres container restarting has no address for a while) a call fails as
      // 503 unavailable, which the client may retry, rather than waiting out the caller as 504.
      connect_timeout: 2,
      connection: { application_name: options.database },
    },
    options.log,
  );
  const sql = tracingEnabled() ? tracedSql(pool, databaseNameOf(url)) : pool;
  await sql`select 1`;
  options.log.info({ database: databaseNameOf(url), url: redactUrl(url) }, "database connected");
  if (options.observe !== false) observePool(pool, databaseNameOf(url));
  return sql;
}

/** What the pool holds now (patches/postgres@3.4.9.patch adds `poolState` to postgres.js). */
interface PoolState {
  idle: number;
  used: number;
  waiting: number;
}

/**
 * The conventions' `db.client.connection.count` (by state: used, idle) and
 * `db.client.connection.pending_requests` (queries waiting for a connection), read from the pool
 * at scrape time.
 */
function observePool(sql: Sql, poolName: string): void {
  const m = meter();
  const connections = m.createObservableUpDownCounter("db.client.connection.count", {
    description: "Connections of the database pool, by state",
  });
  const pending = m.createObservableUpDownCounter("db.client.connection.pending_requests", {
    description: "Queries waiting for a connection of the database pool",
  });
  const pool = { "db.client.connection.pool.name": poolName };
  m.addBatchObservableCallback(
    (result) => {
      const state = (sql as unknown as { poolState(): PoolState }).poolState();
      result.observe(connections, state.used, { ...pool, "db.client.connection.state": "used" });
      result.observe(connections, state.idle, { ...pool, "db.client.connection.state": "idle" });
      result.observe(pending, state.waiting, pool);
    },
    [connections, pending],
  );
}

/** A transaction of postgres.js (it can make savepoints), rather than a pool. */
function isTransaction(sql: Sql | TransactionSql): sql is TransactionSql {
  return typeof (sql as Partial<TransactionSql>).savepoint === "function";
}

/**
 * Sets the transaction's `statement_timeout` to what is left of the call being served, if any. Not
 * awaited: postgres.js sends it at once, and `work`'s statements follow it on the connection. Should
 * it fail, the transaction is aborted and `work`'s next statement says so.
 */
function boundByCall(tx: TransactionSql): void {
  const left = callTimeLeftMs();
  if (left === undefined) return;
  tx`select set_config('statement_timeout', ${String(Math.max(1, Math.ceil(left)))}, true)`.execute().catch(() => {});
}

/** 40001 serialization_failure, 40P01 deadlock_detected: Postgres rolled the work back whole. */
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);

/**
 * Runs `work` in a transaction, and again (up to `attempts` times in all, after a short random
 * pause) when Postgres aborted it for a serialization failure or a deadlock: nothing of the
 * failed attempt was kept, so running it again is safe. `work` must not act outside the database.
 * Given a transaction (a store handed one, as `inOrganization` does), `work` joins it: the outer
 * transaction commits, or is retried, whole.
 *
 * Started while serving a gRPC call, no statement of it runs past the call's deadline
 * (grpc/call-deadline.ts): `statement_timeout` is set, local to the transaction, to what is left
 * of the call, sent ahead of `work`'s first statement on the same connection (no round trip of
 * its own).
 */
export async function inTransaction<T>(sql: Sql, work: (tx: TransactionSql) => Promise<T>, attempts = 5): Promise<T> {
  if (isTransaction(sql)) return work(sql);
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin((tx) => {
        boundByCall(tx);
        return work(tx);
      })) as T;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= attempts || typeof code !== "string" || !RETRYABLE_SQLSTATES.has(code)) throw error;
      await new Promise((wake) => setTimeout(wake, Math.random() * 10 * attempt));
    }
  }
}
