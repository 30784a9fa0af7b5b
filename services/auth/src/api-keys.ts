/**
 * API keys for machines (docs/decisions/hooks.md): made by an organization's admins, shown once,
 * stored as their SHA-256, and counted per UTC day against their quota at every request.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Sql } from "@tdt/kit";

const PREFIX = "tdt_";

/** A new key: `tdt_` and 32 random bytes, base64url. */
export function newApiKey(): string {
  return `${PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** The stored form of a key; undefined for a string that cannot be one (no lookup is spent on it). */
export function apiKeyHash(key: string): Buffer | undefined {
  if (!/^tdt_[A-Za-z0-9_-]{43}$/.test(key)) return undefined;
  return createHash("sha256").update(key).digest();
}

export interface ApiKeyRow {
  id: string;
  org_id: string;
  name: string;
  scopes: string[];
  daily_quota: number;
  used_today: number;
  created_at: Date;
  last_used_at: Date | null;
}

/** Today's UTC date, and the seconds left of it. */
export function utcDay(now: Date): { day: string; secondsLeft: number } {
  const day = now.toISOString().slice(0, 10);
  const midnight = Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;
  return { day, secondsLeft: Math.max(1, Math.ceil((midnight - now.getTime()) / 1000)) };
}

export async function createApiKey(
  sql: Sql,
  input: { orgId: string; name: string; scopes: string[]; dailyQuota: number; createdBy: string },
): Promise<ApiKeyRow & { key: string }> {
  const key = newApiKey();
  const [row] = await sql<ApiKeyRow[]>`
    insert into api_keys (org_id, name, scopes, key_hash, daily_quota, created_by)
    values (${input.orgId}, ${input.name}, ${input.scopes}::text[], ${apiKeyHash(key) as Buffer}, ${input.dailyQuota},
            ${input.createdBy})
    returning id, org_id, name, scopes, daily_quota, 0 as used_today, created_at, last_used_at`;
  if (!row) throw new Error("the API key was not stored");
  return { ...row, key };
}

export function listApiKeys(sql: Sql, orgId: string, now: Date): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    select k.id, k.org_id, k.name, k.scopes, k.daily_quota, coalesce(u.count, 0) as used_today, k.created_at,
      k.last_used_at
    from api_keys k left join api_key_usage u on u.key_id = k.id and u.day = ${utcDay(now).day}::date
    where k.org_id = ${orgId} and k.revoked_at is null
    order by k.created_at desc, k.id`;
}

/** Revokes the organization's key; false when it has no such key (or it was revoked). */
export async function revokeApiKey(sql: Sql, orgId: string, id: string): Promise<boolean> {
  const rows = await sql`
    update api_keys set revoked_at = now() where id = ${id} and org_id = ${orgId} and revoked_at is null
    returning 1`;
  return rows.length === 1;
}

export type KeyUse =
  | { outcome: "unknown" }
  | { outcome: "exhausted"; key: ApiKeyRow; secondsLeft: number }
  | { outcome: "used"; key: ApiKeyRow; remaining: number; secondsLeft: number };

/**
 * One request of the key: counted against today's quota in one statement (racing requests count
 * one after the other, and none goes past the quota), and its last use noted. Unknown and
 * revoked keys are the same to the caller.
 */
export async function useApiKey(sql: Sql, key: string, now: Date): Promise<KeyUse> {
  const hash = apiKeyHash(key);
  if (!hash) return { outcome: "unknown" };
  const { day, secondsLeft } = utcDay(now);
  // One statement, one round trip on every request of a key: find it, count the request (racing
  // requests count one after the other, and none past the quota), note its use.
  const [found] = await sql<(ApiKeyRow & { counted: number | null })[]>`
    with found as (
      select id, org_id, name, scopes, daily_quota, created_at, last_used_at
      from api_keys where key_hash = ${hash} and revoked_at is null),
    counted as (
      insert into api_key_usage as u (key_id, day, count)
      select id, ${day}::date, 1 from found
      on conflict (key_id, day) do update set count = u.count + 1
        where u.count < (select daily_quota from found)
      returning count),
    touched as (
      -- At most once a second per key: a busy key's row is not rewritten at every request.
      update api_keys set last_used_at = ${now}
      where id = (select id from found) and exists (select 1 from counted)
        and (last_used_at is null or last_used_at < ${now}::timestamptz - interval '1 second'))
    select found.*, 0 as used_today, (select count from counted) as counted from found`;
  if (!found) return { outcome: "unknown" };
  const { counted, ...row } = found;
  if (counted === null) return { outcome: "exhausted", key: { ...row, used_today: row.daily_quota }, secondsLeft };
  return { outcome: "used", key: { ...row, used_today: counted }, remaining: row.daily_quota - counted, secondsLeft };
}
