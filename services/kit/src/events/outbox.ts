import { jetstream } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import type { Sql, TransactionSql } from "postgres";
import type { Logger } from "../observability/logger.js";
import { meter } from "../observability/metrics.js";
import { currentTraceparent } from "../observability/tracing.js";
import type { StreamOptions } from "./streams.js";

/**
 * The transactional outbox. A service writes its events with `writeOutboxEvent` inside the
 * transaction that makes the change, into the kit's `outbox` table (outbox-migrations.ts).
 *
 * The relay publishes unsent rows to JetStream with `Nats-Msg-Id` = id and marks them sent.
 * NATS being down only delays them. Several relays (replicas) share the table safely: one at a
 * time publishes (a transaction-level advisory lock), in the order the rows were written, so a
 * session's events reach the stream in the order they happened; a re-publish after a crash is
 * deduplicated by id. (Claiming rows with `skip locked` alone let two relays publish at once:
 * one sent a session's next step while the other still held its previous one, which the deploy
 * test's consumer saw as 327 sessions out of order under load.)
 */
export interface OutboxEvent {
  id: string;
  subject: string;
  payload: Uint8Array;
  /** The organization it belongs to, sent as the Tdt-Organization header (the relay reads it from the row). */
  organization?: string | undefined;
}

const WAKE_CHANNEL = "outbox";
/** The advisory lock a relay holds while it publishes (per database: one per service). */
const RELAY_LOCK_KEY = 7_316_001;
/** How soon a relay that found another one publishing looks again, for rows written meanwhile. */
const BUSY_RETRY_MS = 100;

/**
 * The insert of `events` into the outbox as a fragment of one statement, for a change written
 * without a transaction: `with changed as (update … returning …), announced as (${outboxInsert})
 * select … from changed` commits the change and its events together or neither. The caller
 * nudges its relay after (OutboxRelay.nudge).
 */
export function outboxInsert(
  sql: Sql | TransactionSql,
  events: OutboxEvent[],
  /** A condition the events need, e.g. that the change matched its row: `exists (select 1 from changed)`. */
  onlyIf = sql`true`,
) {
  return sql`
    insert into outbox (id, subject, payload, trace_context)
    select id, subject, decode(payload, 'base64'), ${currentTraceparent() ?? null}
    from unnest(${events.map((event) => event.id)}::uuid[], ${events.map((event) => event.subject)}::text[],
                ${events.map((event) => Buffer.from(event.payload).toString("base64"))}::text[]) as e(id, subject, payload)
    where ${onlyIf}`;
}

export async function writeOutboxEvent(tx: TransactionSql, event: OutboxEvent): Promise<void> {
  // The trace of the change that wrote it (null without tracing): the relay sends it along.
  await tx`insert into outbox (id, subject, payload, trace_context)
    values (${event.id}, ${event.subject}, ${Buffer.from(event.payload)}, ${currentTraceparent() ?? null})`;
  // Delivered at commit: wakes the relay at once instead of at its next poll.
  await tx`select pg_notify(${WAKE_CHANNEL}, '')`;
}

/**
 * Publishes an event already written to the outbox (its transaction committed) at once, so that
 * it is on the stream before the change is answered, rather than when the relay wakes. Waits
 * at most `timeoutMs`; a failure (NATS away, stream not yet made) is left to the relay, whose
 * re-publish of the same row JetStream drops by its `Nats-Msg-Id`.
 */
export async function publishNow(
  nc: NatsConnection | undefined,
  event: OutboxEvent,
  log: Logger,
  timeoutMs = 1000,
): Promise<void> {
  if (!nc || nc.isClosed()) return;
  try {
    await jetstream(nc).publish(event.subject, event.payload, {
      msgID: event.id,
      timeout: timeoutMs,
      ...eventHeaders(currentTraceparent(), event.organization),
    });
  } catch (error) {
    log.debug({ err: error, subject: event.subject }, "event left to the outbox relay");
  }
}

export interface OutboxRelayOptions {
  sql: Sql;
  /** The current NATS connection, or undefined while there is none yet. */
  nats: () => NatsConnection | undefined;
  /** Called before the first publish and after a failure, e.g. to create the stream. */
  prepare?: (nc: NatsConnection, options: StreamOptions) => Promise<void>;
  /** Passed to `prepare`: how the service's stream is kept (NATS_STREAM_REPLICAS). */
  stream?: StreamOptions;
  /**
   * The organization an event names in its payload, sent as its Tdt-Organization header
   * (docs/decisions/organizations.md); undefined: none.
   */
  organizationOf?: (subject: string, payload: Uint8Array) => string | undefined;
  log: Logger;
  pollIntervalMs?: number;
  batchSize?: number;
  /** Sent rows older than this are deleted. */
  keepSentMs?: number;
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;
  private prepared = false;
  private unlisten: (() => Promise<void>) | undefined;
  private lastCleanup = 0;
  private busy = false;

  /** `tdt.outbox.relayed`: events the relay published, by subject. */
  private readonly relayed = meter().createCounter("tdt.outbox.relayed", {
    description: "Events the outbox relay published to JetStream",
  });

  constructor(private readonly options: OutboxRelayOptions) {
    observeBacklog(options.sql);
  }

  async start(): Promise<void> {
    this.running = true;
    const listening = await this.options.sql.listen(WAKE_CHANNEL, () => this.wake?.());
    this.unlisten = listening.unlisten;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.unlisten?.().catch(() => {});
  }

  /**
   * An event was just committed in this process: relay now rather than at the next poll. For a
   * change written in one statement, where a `pg_notify` (writeOutboxEvent's wake-up) would cost
   * another round trip; the relays of other processes still find it at their poll.
   */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false;
      this.nudged = false;
      try {
        more = await this.relayBatch();
        await this.cleanup();
      } catch (error) {
        this.prepared = false;
        this.options.log.warn({ err: error }, "outbox relay: publish failed; will retry");
      }
      if (more || this.nudged) continue;
      await new Promise<void>((resume) => {
        const timer = setTimeout(resume, this.busy ? BUSY_RETRY_MS : (this.options.pollIntervalMs ?? 1000));
        this.wake = () => {
          clearTimeout(timer);
          resume();
        };
      });
    }
  }

  /** Publishes one batch; true when there may be more waiting. */
  async relayBatch(): Promise<boolean> {
    const nc = this.options.nats();
    if (!nc || nc.isClosed()) return false;
    if (!this.prepared) {
      await this.options.prepare?.(nc, this.options.stream ?? {});
      this.prepared = true;
    }
    const js = jetstream(nc);
    const limit = this.options.batchSize ?? 100;
    let claimed = 0;
    let failure: unknown;
    this.busy = false;
    await this.options.sql.begin(async (tx) => {
      const [lock] = await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}) as locked`;
      if (!lock?.locked) {
        // Another replica's relay is publishing; it may have read the table before our rows
        // were committed, so look again soon rather than at the next poll.
        this.busy = true;
        return;
      }
      const rows = await tx<{ id: string; subject: string; payload: Buffer; trace_context: string | null }[]>`
        select id, subject, payload, trace_context from outbox
        where sent_at is null
        order by created_at, id
        limit ${limit}
        for update`;
      claimed = rows.length;
      const sent: string[] = [];
      for (const row of rows) {
        try {
          await js.publish(row.subject, row.payload, {
            msgID: row.id,
            timeout: 2000,
            ...eventHeaders(row.trace_context ?? undefined, this.organizationOf(row.subject, row.payload)),
          });
          this.relayed.add(1, { "messaging.destination.name": row.subject });
        } catch (error) {
          failure = error;
          await tx`update outbox set attempts = attempts + 1 where id = ${row.id}`;
          break;
        }
        sent.push(row.id);
      }
      // What was published is marked sent even when a later row failed; the rest waits for a retry.
      if (sent.length > 0) await tx`update outbox set sent_at = now() where id = any(${sent}::uuid[])`;
    });
    if (failure) throw failure;
    return claimed === limit;
  }

  /** The organization of a row's event, as the service reads its payload; none when unreadable. */
  private organizationOf(subject: string, payload: Uint8Array): string | undefined {
    try {
      return this.options.organizationOf?.(subject, payload) || undefined;
    } catch {
      return undefined;
    }
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    const keepSeconds = Math.round((this.options.keepSentMs ?? 7 * 24 * 3600 * 1000) / 1000);
    await this.options.sql`delete from outbox where sent_at < now() - make_interval(secs => ${keepSeconds})`;
  }
}

/**
 * `tdt.outbox.waiting` and `tdt.outbox.oldest_age`: what the relay has not sent yet, read at
 * scrape time with one statement on the unsent rows' index. A scrape while the database is
 * away (or too slow to answer within BACKLOG_READ_MS) reports neither, rather than a zero that
 * would look healthy, and never holds the scrape longer than that.
 */
const BACKLOG_READ_MS = 2000;

function observeBacklog(sql: Sql): void {
  const m = meter();
  const waiting = m.createObservableGauge("tdt.outbox.waiting", { description: "Outbox rows not yet relayed" });
  const oldest = m.createObservableGauge("tdt.outbox.oldest_age", {
    unit: "s",
    description: "Age of the oldest outbox row not yet relayed (0 when none)",
  });
  m.addBatchObservableCallback(
    async (result) => {
      try {
        const read = sql<{ waiting: number; oldest: number }[]>`
          select count(*)::int as waiting,
            coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest
          from outbox where sent_at is null`;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("outbox backlog read too slow")), BACKLOG_READ_MS);
        });
        const [row] = await Promise.race([read, late]).finally(() => clearTimeout(timer));
        if (!row) return;
        result.observe(waiting, row.waiting);
        result.observe(oldest, row.oldest);
      } catch {
        // No figure is better than a wrong one; the relay logs why the database is away.
      }
    },
    [waiting, oldest],
  );
}

/** The header naming an event's organization (docs/decisions/organizations.md). */
export const ORGANIZATION_HEADER = "Tdt-Organization";

/** An event's headers: its `traceparent` when the change that made it was traced, its organization when it has one. */
function eventHeaders(traceparent: string | undefined, organization: string | undefined) {
  if (!traceparent && !organization) return {};
  const fields = headers();
  if (traceparent) fields.set("traceparent", traceparent);
  if (organization) fields.set(ORGANIZATION_HEADER, organization);
  return { headers: fields };
}
