/**
 * The delivery worker: claims due deliveries, signs each for its endpoint as it is now (its
 * URL, its secrets in their rotation), makes one attempt, and logs it. Any number of workers (in
 * any number of replicas) share the table; each attempt is made by one of them, and again only
 * after a worker died holding it (its lease expired): at least once.
 */
import { detachedFromCall, inOrganization, type Logger, meter, type Sql } from "@tdt/kit";
import type { AddressGuard } from "./address-guard.js";
import { type AttemptOptions, type AttemptResult, attemptDelivery, delivered } from "./deliver.js";
import { claimDue, type DeliveryRow, recordAttempt, release } from "./delivery-store.js";
import { deliveryTarget } from "./endpoint-store.js";
import { nextAttemptAt } from "./retry-schedule.js";
import { webhookHeaders } from "./signing.js";

export interface WorkerOptions {
  sql: Sql;
  guard: AddressGuard;
  log: Logger;
  /** Deliveries attempted at once by this worker. */
  concurrency?: number;
  /** How long a claim lasts: longer than an attempt may take. */
  leaseMs?: number;
  /** How often the worker looks for due deliveries when it was not nudged. */
  pollMs?: number;
  /** When to try again after `failedAttempts` (the schedule's; tests shorten it). */
  retryAt?: (failedAttempts: number, now: number) => number | undefined;
  attempt?: Pick<AttemptOptions, "timeoutMs" | "lookup">;
}

/** What an attempt came to, as the metrics count it: `delivered`, an HTTP status class, or why none came. */
function outcomeOf(result: AttemptResult): string {
  if (result.status !== undefined) return delivered(result) ? "delivered" : `${Math.floor(result.status / 100)}xx`;
  return result.error ?? "connection_failed";
}

export class DeliveryWorker {
  private readonly attempts = meter().createCounter("tdt.webhook.attempts", {
    description: "Webhook delivery attempts, by outcome (delivered, 4xx, 5xx, timeout, address_not_allowed, ...)",
  });
  private readonly latency = meter().createHistogram("tdt.webhook.attempt.duration", {
    description: "How long a webhook delivery attempt took, answered or not",
    unit: "ms",
  });
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly retryAt: (failedAttempts: number, now: number) => number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: WorkerOptions) {
    this.concurrency = options.concurrency ?? 8;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.retryAt = options.retryAt ?? ((failed, now) => nextAttemptAt(failed, now));
  }

  start(): void {
    this.stopped = false;
    this.nudge();
  }

  /** Something was queued: look now rather than at the next poll. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    // A call that queued something only wakes the worker: its deadline is not the worker's.
    this.running = detachedFromCall(() => this.drain())
      .catch((error: unknown) => this.options.log.warn({ err: error }, "webhook deliveries could not be read"))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.nudge();
        } else this.timer = setTimeout(() => this.nudge(), this.pollMs);
      });
  }

  /** Stops claiming; the attempts under way finish (their claims would expire otherwise). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Claims and attempts until nothing is due. */
  private async drain(): Promise<void> {
    while (!this.stopped) {
      const claimed = await claimDue(this.options.sql, this.concurrency, this.leaseMs);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    }
  }

  private async deliver(delivery: DeliveryRow): Promise<void> {
    const { sql, log } = this.options;
    const target = await inOrganization(sql, delivery.org_id, async (tx) => {
      const found = await deliveryTarget(tx, delivery.endpoint_id);
      // Disabled since it was queued: it waits, unattempted. (Deleted: its deliveries went with it.)
      if (found && !found.enabled) await release(tx, delivery);
      return found;
    });
    if (!target?.enabled) return;
    const at = new Date();
    let result: AttemptResult;
    try {
      const timestamp = Math.floor(at.getTime() / 1000);
      const headers = webhookHeaders(target.secrets, delivery.event_id, timestamp, delivery.body);
      result = await attemptDelivery(target.url, headers, delivery.body, {
        guard: this.options.guard,
        ...this.options.attempt,
      });
    } catch (error) {
      log.warn({ err: error, delivery_id: delivery.id }, "webhook attempt failed before it was sent");
      result = { latency_ms: 0, excerpt: "", error: "connection_failed" };
    }
    this.attempts.add(1, { outcome: outcomeOf(result) });
    this.latency.record(result.latency_ms);
    const next = this.retryAt(delivery.attempts, Date.now());
    await recordAttempt(sql, delivery, at, result, next === undefined ? undefined : new Date(next));
    log.info(
      {
        delivery_id: delivery.id,
        endpoint_id: delivery.endpoint_id,
        event_type: delivery.event_type,
        attempt: delivery.attempts,
        status: result.status,
        error: result.error,
        latency_ms: result.latency_ms,
      },
      "webhook attempt",
    );
  }
}
