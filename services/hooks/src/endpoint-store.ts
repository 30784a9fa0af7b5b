/**
 * The endpoints an organization registers, each read and written in a transaction of its
 * organization (the wall shows no other's: another organization's id is not found). A secret is
 * shown once, when it is made; rotation keeps the previous one for an overlap, during which
 * deliveries are signed with both.
 */
import { inOrganization, type Sql, type TransactionSql } from "@tdt/kit";
import { newSecret } from "./signing.js";

export interface Endpoint {
  id: string;
  org_id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: "gone" | "failing" | "admin" | null;
  created_at: Date;
  updated_at: Date;
}

/** What a delivery needs of its endpoint: where, whether, and the secrets to sign with now. */
export interface DeliveryTarget {
  url: string;
  enabled: boolean;
  secrets: string[];
}

const SHOWN = "id, org_id, url, description, event_types, enabled, disabled_reason, created_at, updated_at";

/** Endpoints an organization may have: each event is a delivery to each of them. */
export const MAX_ENDPOINTS = 20;

/** Makes the endpoint; undefined when the organization has MAX_ENDPOINTS already. */
export async function createEndpoint(
  sql: Sql,
  orgId: string,
  input: { url: string; event_types: string[]; description: string },
): Promise<(Endpoint & { secret: string }) | undefined> {
  const secret = newSecret();
  return inOrganization(sql, orgId, async (tx) => {
    // Two creations at once count one after the other.
    await tx`select pg_advisory_xact_lock(hashtext('tdt-hooks-endpoints'), hashtext(${orgId}))`;
    const [{ count } = { count: 0 }] = await tx<{ count: number }[]>`select count(*)::int as count from endpoints`;
    if (count >= MAX_ENDPOINTS) return undefined;
    const [row] = await tx<Endpoint[]>`
      insert into endpoints (url, description, event_types, secret)
      values (${input.url}, ${input.description}, ${input.event_types}::text[], ${secret})
      returning ${tx.unsafe(SHOWN)}`;
    if (!row) throw new Error("the endpoint was not stored");
    return { ...row, secret };
  });
}

export function listEndpoints(sql: Sql, orgId: string): Promise<Endpoint[]> {
  return inOrganization(
    sql,
    orgId,
    (tx) => tx<Endpoint[]>`select ${tx.unsafe(SHOWN)} from endpoints order by created_at, id`,
  );
}

export function getEndpoint(sql: Sql, orgId: string, id: string): Promise<Endpoint | undefined> {
  return inOrganization(sql, orgId, async (tx) => {
    const [row] = await tx<Endpoint[]>`select ${tx.unsafe(SHOWN)} from endpoints where id = ${id}`;
    return row;
  });
}

/**
 * Enables or disables the endpoint (with why). Its pending deliveries wait while it is disabled
 * and are due again when it is enabled: nothing queued is lost by pausing it.
 */
export async function setEnabled(
  tx: TransactionSql,
  id: string,
  enabled: boolean,
  reason: "gone" | "failing" | "admin" | null,
): Promise<void> {
  await tx`
    update endpoints set enabled = ${enabled}, disabled_reason = ${enabled ? null : reason},
      failing_since = case when ${enabled} then null else failing_since end, updated_at = now()
    where id = ${id}`;
  await tx`
    update deliveries set next_attempt_at = ${enabled ? tx`now()` : tx`'infinity'::timestamptz`}
    where endpoint_id = ${id} and state = 'pending'`;
}

/**
 * Changes what is given of the endpoint; undefined when it is not the organization's. Enabling
 * or disabling goes through `setEnabled`, so its pending deliveries wait or become due with it.
 */
export function updateEndpoint(
  sql: Sql,
  orgId: string,
  id: string,
  change: {
    url?: string | undefined;
    event_types?: string[] | undefined;
    description?: string | undefined;
    enabled?: boolean | undefined;
  },
): Promise<Endpoint | undefined> {
  return inOrganization(sql, orgId, async (tx) => {
    const [current] = await tx<{ enabled: boolean }[]>`select enabled from endpoints where id = ${id} for update`;
    if (!current) return undefined;
    await tx`
      update endpoints set
        url = coalesce(${change.url ?? null}, url),
        event_types = coalesce(${change.event_types ?? null}::text[], event_types),
        description = coalesce(${change.description ?? null}, description),
        updated_at = now()
      where id = ${id}`;
    if (change.enabled !== undefined && change.enabled !== current.enabled) {
      await setEnabled(tx, id, change.enabled, "admin");
    }
    const [row] = await tx<Endpoint[]>`select ${tx.unsafe(SHOWN)} from endpoints where id = ${id}`;
    return row;
  });
}

/** Removes the endpoint with its deliveries and their log; false when it is not the organization's. */
export function deleteEndpoint(sql: Sql, orgId: string, id: string): Promise<boolean> {
  return inOrganization(sql, orgId, async (tx) => {
    const rows = await tx`delete from endpoints where id = ${id} returning 1`;
    return rows.length === 1;
  });
}

/** A new secret, shown once; the one it replaces signs too until `overlapSeconds` have passed. */
export function rotateSecret(sql: Sql, orgId: string, id: string, overlapSeconds: number): Promise<string | undefined> {
  const secret = newSecret();
  return inOrganization(sql, orgId, async (tx) => {
    const rows = await tx`
      update endpoints set previous_secret = secret, secret = ${secret},
        previous_until = now() + make_interval(secs => ${overlapSeconds}), updated_at = now()
      where id = ${id}
      returning 1`;
    return rows.length === 1 ? secret : undefined;
  });
}

/**
 * The endpoint as a delivery sees it, in the delivery's organization; undefined when it is gone.
 * Its row is held for share until the transaction ends: an enabling or disabling waits for it.
 */
export async function deliveryTarget(tx: TransactionSql, id: string): Promise<DeliveryTarget | undefined> {
  const [row] = await tx<
    { url: string; enabled: boolean; secret: string; previous_secret: string | null; overlapping: boolean }[]
  >`
    select url, enabled, secret, previous_secret, coalesce(previous_until > now(), false) as overlapping
    from endpoints where id = ${id}
    for share`;
  if (!row) return undefined;
  const secrets = row.previous_secret && row.overlapping ? [row.secret, row.previous_secret] : [row.secret];
  return { url: row.url, enabled: row.enabled, secrets };
}
