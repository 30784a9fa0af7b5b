/**
 * Deliveries: one row per event and endpoint that wants it, made once however often the event
 * comes (`unique (endpoint_id, event_id)`), claimed by workers with `skip locked` under a lease,
 * in order per endpoint and ordering key, and every attempt logged.
 */
import { inOrganization, type Sql, type TransactionSql } from "@tdt/kit";
import type { AttemptResult } from "./deliver.js";
import { delivered } from "./deliver.js";
import { setEnabled } from "./endpoint-store.js";

export interface DeliveryRow {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  ordering_key: string;
  occurred_at: Date;
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  /** This claim's token: the attempt's outcome is written only while the delivery still carries it. */
  claim: string;
}

export interface IncomingEvent {
  orgId: string;
  eventId: string;
  type: string;
  orderingKey: string;
  occurredAt: Date;
  body: string;
}

/**
 * Queues the event for every endpoint of its organization that wants its type and was registered
 * when it happened (a new endpoint hears what happens from then on, not the stream's past);
 * answers how many. A disabled endpoint's delivery waits until it is enabled (`setEnabled`): a
 * pause loses nothing.
 */
export function enqueue(sql: Sql, event: IncomingEvent): Promise<number> {
  return inOrganization(sql, event.orgId, async (tx) => {
    const made = await tx`
      insert into deliveries (org_id, endpoint_id, event_id, event_type, ordering_key, occurred_at, body, next_attempt_at)
      select org_id, id, ${event.eventId}, ${event.type}, ${event.orderingKey}, ${event.occurredAt}, ${event.body},
        case when enabled then now() else 'infinity'::timestamptz end
      from endpoints
      where ${event.type} = any(event_types) and created_at <= ${event.occurredAt}
      -- An enabling or disabling waits for this insert, and then finds its row (setEnabled).
      for share
      on conflict (endpoint_id, event_id) do nothing
      returning 1`;
    return made.length;
  });
}

/** Queues an event for one endpoint only (a test-ping); its delivery's id, or undefined when the endpoint is not the organization's. */
export function enqueueFor(sql: Sql, endpointId: string, event: IncomingEvent): Promise<string | undefined> {
  return inOrganization(sql, event.orgId, async (tx) => {
    const [made] = await tx<{ id: string }[]>`
      insert into deliveries (org_id, endpoint_id, event_id, event_type, ordering_key, occurred_at, body, next_attempt_at)
      select org_id, id, ${event.eventId}, ${event.type}, ${event.orderingKey}, ${event.occurredAt}, ${event.body},
        case when enabled then now() else 'infinity'::timestamptz end
      from endpoints where id = ${endpointId}
      for share
      returning id`;
    return made?.id;
  });
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`: pending, due, not claimed by a live worker,
 * and first of their endpoint and ordering key (a later event of a session waits for the earlier
 * to be delivered or given up). Racing workers never claim the same row (`skip locked`); a worker
 * that dies leaves its claim to expire, and the attempt is made again.
 */
export async function claimDue(sql: Sql, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`
    with due as (
      select d.id from deliveries d
      where d.state = 'pending' and d.next_attempt_at <= now()
        and (d.locked_until is null or d.locked_until < now())
        and not exists (
          select 1 from deliveries e
          where e.endpoint_id = d.endpoint_id and e.ordering_key = d.ordering_key and e.state = 'pending'
            and (e.occurred_at, e.created_at, e.id) < (d.occurred_at, d.created_at, d.id))
      order by d.next_attempt_at, d.occurred_at
      limit ${limit}
      for update of d skip locked
    )
    update deliveries set locked_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = attempts + 1,
      claim = gen_random_uuid()
    from due where deliveries.id = due.id
    returning deliveries.claim, deliveries.id, deliveries.org_id, deliveries.endpoint_id, deliveries.event_id, deliveries.event_type,
      deliveries.ordering_key, deliveries.occurred_at, deliveries.body, deliveries.state, deliveries.attempts,
      deliveries.next_attempt_at, deliveries.created_at`;
}

/** How long an endpoint may fail every delivery before it is disabled (`failing`). */
export const FAILING_DISABLES_AFTER_MS = 5 * 24 * 3600 * 1000;

/**
 * Logs an attempt and decides what follows, in the delivery's organization: delivered; tried
 * again at `retryAt` (a time, or undefined when the attempts are spent: failed); and for the
 * endpoint, `410 Gone` disables it at once, a success ends its run of failures, and failures
 * for `FAILING_DISABLES_AFTER_MS` disable it. The delivery's state is decided only while this
 * claim still holds: a redelivery asked for meanwhile (or a later claim after this one's lease
 * ran out) owns what follows.
 */
export function recordAttempt(
  sql: Sql,
  delivery: Pick<DeliveryRow, "id" | "org_id" | "endpoint_id" | "claim">,
  at: Date,
  result: AttemptResult,
  retryAt: Date | undefined,
): Promise<void> {
  return inOrganization(sql, delivery.org_id, async (tx) => {
    await tx`
      insert into delivery_attempts (delivery_id, attempt, at, status, latency_ms, error, excerpt)
      values (${delivery.id},
              (select coalesce(max(attempt), 0) + 1 from delivery_attempts where delivery_id = ${delivery.id}),
              ${at}, ${result.status ?? null}, ${result.latency_ms}, ${result.error ?? null}, ${result.excerpt})`;
    if (delivered(result)) {
      await tx`update deliveries set state = 'delivered', locked_until = null, claim = null ${held(tx, delivery)}`;
      await tx`update endpoints set failing_since = null where id = ${delivery.endpoint_id} and failing_since is not null`;
      return;
    }
    if (retryAt) {
      await tx`update deliveries set next_attempt_at = ${retryAt}, locked_until = null, claim = null ${held(tx, delivery)}`;
    } else {
      await tx`update deliveries set state = 'failed', locked_until = null, claim = null ${held(tx, delivery)}`;
    }
    await failed(tx, delivery.endpoint_id, result);
  });
}

/** The delivery's row, while `delivery`'s claim of it holds. */
function held(tx: TransactionSql, delivery: Pick<DeliveryRow, "id" | "claim">) {
  return tx`where id = ${delivery.id} and claim = ${delivery.claim}`;
}

async function failed(tx: TransactionSql, endpointId: string, result: AttemptResult): Promise<void> {
  if (result.status === 410) {
    await setEnabled(tx, endpointId, false, "gone");
    return;
  }
  const [endpoint] = await tx<{ since: Date }[]>`
    update endpoints set failing_since = coalesce(failing_since, now()) where id = ${endpointId}
    returning failing_since as since`;
  if (endpoint && Date.now() - endpoint.since.getTime() > FAILING_DISABLES_AFTER_MS) {
    await setEnabled(tx, endpointId, false, "failing");
  }
}

/**
 * Gives a claim back unattempted, its endpoint disabled meanwhile: due again when it is enabled
 * (`setEnabled`). Called in the transaction that read the endpoint disabled and holds its row, so
 * an enabling waits for it and then makes this delivery due.
 */
export async function release(tx: TransactionSql, delivery: Pick<DeliveryRow, "id" | "claim">): Promise<void> {
  await tx`
    update deliveries set locked_until = null, attempts = greatest(attempts - 1, 0), next_attempt_at = 'infinity',
      claim = null
    ${held(tx, delivery)}`;
}

export interface LoggedDelivery {
  id: string;
  event_id: string;
  type: string;
  state: DeliveryRow["state"];
  created_at: Date;
  attempts: Array<{ at: Date; status: number | null; latency_ms: number; error: string | null; excerpt: string }>;
}

/** The endpoint's deliveries, newest first, with every attempt; undefined when the endpoint is not the organization's. */
export function deliveriesOf(
  sql: Sql,
  orgId: string,
  endpointId: string,
  limit: number,
): Promise<LoggedDelivery[] | undefined> {
  return inOrganization(sql, orgId, async (tx) => {
    const [endpoint] = await tx`select 1 from endpoints where id = ${endpointId}`;
    if (!endpoint) return undefined;
    return tx<LoggedDelivery[]>`
      select d.id, d.event_id, d.event_type as type, d.state, d.created_at,
        coalesce((select json_agg(json_build_object('at', a.at, 'status', a.status, 'latency_ms', a.latency_ms,
                                                    'error', a.error, 'excerpt', a.excerpt) order by a.attempt)
                  from delivery_attempts a where a.delivery_id = d.id), '[]') as attempts
      from deliveries d where d.endpoint_id = ${endpointId}
      order by d.created_at desc, d.id
      limit ${limit}`;
  });
}

/**
 * Makes deliveries of the endpoint due again, with a fresh run of attempts: one (`deliveryId`),
 * or every one made since `since`. Answers how many; undefined when the endpoint is not the
 * organization's.
 */
export function redeliver(
  sql: Sql,
  orgId: string,
  endpointId: string,
  which: { deliveryId: string } | { since: Date },
): Promise<number | undefined> {
  return inOrganization(sql, orgId, async (tx) => {
    const [endpoint] = await tx<{ enabled: boolean }[]>`select enabled from endpoints where id = ${endpointId}`;
    if (!endpoint) return undefined;
    const rows = await tx`
      update deliveries set state = 'pending', attempts = 0, locked_until = null, claim = null,
        next_attempt_at = ${endpoint.enabled ? tx`now()` : tx`'infinity'::timestamptz`}
      where endpoint_id = ${endpointId}
        and ${"deliveryId" in which ? tx`id = ${which.deliveryId}` : tx`created_at >= ${which.since}`}
      returning 1`;
    return rows.length;
  });
}
