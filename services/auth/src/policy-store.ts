import type { Sql } from "@tdt/kit";
import type { SessionPolicy } from "./policy.js";

/** The account's session policy: one row, read at every login and refresh. */
export async function currentPolicy(sql: Sql): Promise<SessionPolicy> {
  const [row] = await sql<SessionPolicy[]>`
    select preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds from session_policy`;
  return row as SessionPolicy;
}

/** Replaces the policy; login sessions keep the snapshot they were opened with. */
export async function saveSessionPolicy(sql: Sql, policy: SessionPolicy): Promise<void> {
  await sql`
    update session_policy set preset = ${policy.preset}, idle_max_seconds = ${policy.idle_max_seconds},
      abs_max_seconds = ${policy.abs_max_seconds}, reuse_grace_seconds = ${policy.reuse_grace_seconds},
      updated_at = now()`;
}
