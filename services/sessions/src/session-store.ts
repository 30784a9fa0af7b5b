import { randomUUID } from "node:crypto";
import { inTransaction, type Sql, type TransactionSql } from "@tdt/kit";
import type { Session, Step } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { nodeById, type SessionState, type StepRecord } from "./step-engine.js";

export interface SessionRow extends SessionState {
  id: string;
  user_id: string;
  tree_id: string;
  tree_version: number;
  tree_title: string;
  context: Record<string, unknown>;
  started_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

function toStep(step: StepRecord): Step {
  return {
    seq: step.seq,
    node_id: step.node_id,
    node_title: step.node_title,
    option_id: step.option_id,
    option_label: step.option_label,
    note: step.note,
    entered_at: step.entered_at,
    left_at: step.left_at || undefined,
    duration_ms: step.duration_ms,
  };
}

/** The session as the API shows it, with the full current node from its pinned tree version. */
export function toSession(row: SessionRow, tree: Tree): Session {
  return {
    id: row.id,
    tree_id: row.tree_id,
    tree_version: row.tree_version,
    tree_title: row.tree_title,
    user_id: row.user_id,
    status: row.status,
    outcome: row.outcome ?? undefined,
    current_node: nodeById(tree, row.current_node_id),
    steps: row.steps.map(toStep),
    notes: row.notes,
    context: row.context,
    started_at: row.started_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at ?? undefined,
  };
}

interface StoredRow extends Omit<SessionRow, "completed_at"> {
  completed_at: Date | null;
}

const fromStored = (row: StoredRow): SessionRow => ({ ...row, completed_at: row.completed_at?.toISOString() ?? null });

export interface ListFilters {
  userId?: string | undefined;
  status?: string | undefined;
  treeId?: string | undefined;
}

export class SessionStore {
  /** Tree versions never change: one read from the database, then memory. */
  private readonly trees = new Map<string, Tree>();

  constructor(private readonly sql: Sql) {}

  async tree(treeId: string, version: number): Promise<Tree> {
    const key = `${treeId}@${version}`;
    const cached = this.trees.get(key);
    if (cached) return cached;
    const [row] = await this.sql<{ document: Tree }[]>`
      select document from tree_snapshots where tree_id = ${treeId} and version = ${version}`;
    if (!row) throw new Error(`no snapshot of tree ${key}`);
    this.trees.set(key, row.document);
    return row.document;
  }

  async create(tree: Tree, userId: string, state: SessionState, context: Record<string, unknown>, now: Date) {
    const id = randomUUID();
    await inTransaction(this.sql, async (tx) => {
      await tx`
        insert into tree_snapshots (tree_id, version, document)
        values (${tree.id}, ${tree.version}, ${tx.json(tree as never)})
        on conflict do nothing`;
      await tx`
        insert into sessions (id, user_id, tree_id, tree_version, tree_title, status, outcome, current_node_id,
          steps, notes, context, started_at, updated_at)
        values (${id}, ${userId}, ${tree.id}, ${tree.version}, ${tree.title}, ${state.status}, ${state.outcome},
          ${state.current_node_id}, ${tx.json(state.steps as never)}, ${state.notes}, ${tx.json(context as never)},
          ${now}, ${now})`;
    });
    return (await this.get(id)) as SessionRow;
  }

  async get(id: string): Promise<SessionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.sql<StoredRow[]>`select * from sessions where id = ${id}`;
    return row ? fromStored(row) : undefined;
  }

  /**
   * Reads a session locked for the rest of the transaction, lets `change` compute its next state,
   * and writes it: concurrent steps on one session apply one after the other.
   */
  async change(id: string, change: (row: SessionRow) => Promise<SessionState>): Promise<SessionRow | undefined> {
    if (!isUuid(id)) return undefined;
    return inTransaction(this.sql, async (tx: TransactionSql) => {
      const [stored] = await tx<StoredRow[]>`select * from sessions where id = ${id} for update`;
      if (!stored) return undefined;
      const next = await change(fromStored(stored));
      const [updated] = await tx<StoredRow[]>`
        update sessions set status = ${next.status}, outcome = ${next.outcome},
          current_node_id = ${next.current_node_id}, steps = ${tx.json(next.steps as never)}, notes = ${next.notes},
          completed_at = ${next.completed_at}, updated_at = now()
        where id = ${id}
        returning *`;
      return fromStored(updated as StoredRow);
    });
  }

  async list(filters: ListFilters, page: { skip: number; limit: number }) {
    const sql = this.sql;
    const where = sql`
      where true
        ${filters.userId ? sql`and user_id = ${filters.userId}` : sql``}
        ${filters.status ? sql`and status = ${filters.status}` : sql``}
        ${filters.treeId ? sql`and tree_id = ${filters.treeId}` : sql``}`;
    const rows = await sql<(StoredRow & { total: number })[]>`
      select *, count(*) over ()::int as total from sessions ${where}
      order by started_at desc, id
      offset ${page.skip} limit ${page.limit}`;
    // A page past the end has no row to carry the total: count separately.
    const total =
      rows[0]?.total ??
      (page.skip > 0 ? ((await sql<{ n: number }[]>`select count(*)::int as n from sessions ${where}`)[0]?.n ?? 0) : 0);
    return { rows: rows.map(fromStored), total };
  }

  /**
   * Marks a deactivated user's in-progress sessions abandoned, once per event: a redelivered
   * event finds its id already handled and changes nothing.
   */
  async abandonForDeactivatedUser(eventId: string, userId: string): Promise<number> {
    return inTransaction(this.sql, async (tx) => {
      const [fresh] = await tx`
        insert into handled_events (event_id) values (${eventId}) on conflict do nothing returning event_id`;
      if (!fresh) return 0;
      const rows = await tx`
        update sessions set status = 'abandoned', updated_at = now()
        where user_id = ${userId} and status = 'in_progress'
        returning id`;
      return rows.length;
    });
  }
}
