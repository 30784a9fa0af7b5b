import type { Sql, TransactionSql } from "@tdt/kit";
import type { HistoryEntry } from "@tdt/proto/tdt/trees/v1/trees";

/** What happened to a tree (trees.proto's HistoryAction, as stored). */
export type HistoryAction =
  | "created"
  | "updated"
  | "draft_saved"
  | "draft_discarded"
  | "published"
  | "rolled_back"
  | "approved"
  | "changes_requested"
  | "settings_changed"
  | "archived"
  | "restored"
  | "imported";

export interface HistoryRecord {
  treeId: string;
  actor: string;
  action: HistoryAction;
  version?: number | undefined;
  draftRevision?: number | undefined;
  note?: string | undefined;
}

/** Saves of one author within this long of each other are one entry: autosave does not flood the log. */
export const DRAFT_SAVES_MERGED_WITHIN_MS = 10 * 60_000;

/** Writes an entry of the tree's change log, in the transaction of the change it records. */
export async function recordHistory(tx: TransactionSql, entry: HistoryRecord): Promise<void> {
  if (entry.action === "draft_saved") {
    // The newest entry, when it is this author's save of a few minutes ago, moves to this save.
    const merged = await tx`
      update tree_history set at = now(), draft_revision = ${entry.draftRevision ?? null}
      where id = (select id from tree_history where tree_id = ${entry.treeId} order by id desc limit 1)
        and action = 'draft_saved' and actor = ${entry.actor}
        and at > now() - ${`${DRAFT_SAVES_MERGED_WITHIN_MS} milliseconds`}::interval
      returning id`;
    if (merged.length > 0) return;
  }
  await tx`
    insert into tree_history (tree_id, actor, action, version, draft_revision, note)
    values (${entry.treeId}, ${entry.actor}, ${entry.action}, ${entry.version ?? null},
      ${entry.draftRevision ?? null}, ${entry.note ?? ""})`;
}

/** The newest entries first; at most this many (a tree's log is read, not paged). */
export const HISTORY_LIMIT = 1000;

export async function readHistory(sql: Sql, treeId: string): Promise<HistoryEntry[]> {
  const rows = await sql<
    { at: Date; actor: string; action: string; version: number | null; draft_revision: number | null; note: string }[]
  >`
    select at, actor, action, version, draft_revision, note from tree_history
    where tree_id = ${treeId} order by id desc limit ${HISTORY_LIMIT}`;
  return rows.map((row) => ({
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    ...(row.version === null ? {} : { version: row.version }),
    ...(row.draft_revision === null ? {} : { draft_revision: row.draft_revision }),
    note: row.note,
  }));
}
