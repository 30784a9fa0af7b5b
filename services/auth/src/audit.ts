import type { TransactionSql } from "@tdt/kit";

/** What an operator did to an account outside the API. */
export type AuditAction = "admin_created" | "admin_reset";

/** Records an operator's change in the caller's transaction: the change and its record commit together. */
export async function recordAuditEvent(
  tx: TransactionSql,
  event: { action: AuditAction; userId: string; actor: string; detail: Record<string, unknown> },
): Promise<void> {
  await tx`
    insert into audit_events (action, user_id, actor, detail)
    values (${event.action}, ${event.userId}, ${event.actor}, ${tx.json(event.detail as never)})`;
}
