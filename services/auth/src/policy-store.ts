import type { Sql, TransactionSql } from "@tdt/kit";
import type { SessionPolicy } from "./policy.js";

/** An organization's session policy: one row each, read at every login and legacy refresh. */
export async function currentPolicy(sql: Sql | TransactionSql, orgId: string): Promise<SessionPolicy> {
  const [row] = await sql<SessionPolicy[]>`
    select preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds from session_policy where org_id = ${orgId}`;
  if (!row) throw new Error(`organization ${orgId} has no session policy`);
  return row;
}

/** Replaces an organization's policy; login sessions keep the snapshot they were opened with. */
export async function saveSessionPolicy(sql: Sql, orgId: string, policy: SessionPolicy): Promise<void> {
  await sql`
    update session_policy set preset = ${policy.preset}, idle_max_seconds = ${policy.idle_max_seconds},
      abs_max_seconds = ${policy.abs_max_seconds}, reuse_grace_seconds = ${policy.reuse_grace_seconds},
      updated_at = now()
    where org_id = ${orgId}`;
}
