import { randomUUID } from "node:crypto";
import {
  after,
  cappedCount,
  DEFAULT_ORGANIZATION_ID,
  inOrganization,
  inTransaction,
  outboxInsert,
  type Page,
  pageAnswer,
  RecentlyUsed,
  type Sql,
  setOrganization,
  sortTime,
  type TransactionSql,
  totalOf,
  writeOutboxEvent,
} from "@tdt/kit";
import { DEFAULT_LANGUAGE } from "@tdt/proto/contracts/tree-languages";
import { fillPlaceholders, type Values } from "@tdt/proto/contracts/tree-logic";
import type { Session, SessionSummary, Step } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Node, Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { abandonedEvent, changeEvents, outboxEventOf, type SessionIdentity, startedEvent } from "./session-events.js";
import { valuesIn } from "./session-variables.js";
import {
  currentTreeOf,
  nodeById,
  type SessionState,
  type StepRecord,
  type TreeBook,
  treeOfStep,
} from "./step-engine.js";
import { TreeCopies, type TreeVersion } from "./tree-copies.js";
import { type PinnedTree, pinnedFrom } from "./tree-languages.js";

export interface SessionRow extends SessionState {
  id: string;
  user_id: string;
  tree_id: string;
  tree_version: number;
  tree_title: string;
  context: Record<string, unknown>;
  /** The language the session runs in ('' for one started before languages: its tree's own). */
  locale: string;
  /** The technician as auth knew them at the start ('' when it could not be asked). */
  user_name: string;
  user_email: string;
  started_at: Date;
  updated_at: Date;
  /** Counts the session's changes (a trigger does): a write computed from one revision applies only to it. */
  revision: number;
  /** The organization it belongs to. */
  org_id: string;
}

/** A session as this process last wrote or read it; `remembered` when it came from memory, not the database. */
export interface SeenSession {
  row: SessionRow;
  remembered: boolean;
}

/** How many sessions a process remembers as it last wrote or read them (the technicians at work on it). */
export const SESSIONS_REMEMBERED = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

function toStep(step: StepRecord, row: SessionRow): Step {
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
    ...treeOfStep(step, row),
    ...(step.outcome ? { outcome: step.outcome } : {}),
    ...(step.values ? { values: step.values } : {}),
    ...(step.rule !== undefined ? { rule: step.rule } : {}),
  };
}

/**
 * A node as the technician is shown it: `{{name}}` in its title, labels and body filled with the
 * variables' values (as text; in the Markdown body, escaped as text).
 */
export function shownNode(node: Node, tree: Tree, variables: Values): Node {
  const values = valuesIn(tree, variables);
  const text = (value: string) => fillPlaceholders(value, values, "text");
  return {
    ...node,
    title: text(node.title),
    body: fillPlaceholders(node.body, values, "markdown"),
    options: node.options.map((option) => ({ ...option, label: text(option.label) })),
    fields: node.fields.map((field) => ({ ...field, label: text(field.label) })),
  };
}

/** The session as the API shows it, with the full current node from its pinned tree version. */
export function toSession(row: SessionRow, book: TreeBook): Session {
  const tree = currentTreeOf(row, book);
  return {
    id: row.id,
    tree_id: row.tree_id,
    tree_version: row.tree_version,
    tree_title: row.tree_title,
    user_id: row.user_id,
    status: row.status,
    outcome: row.outcome ?? undefined,
    current_node: shownNode(nodeById(tree, row.current_node_id), tree, row.variables ?? {}),
    steps: row.steps.map((step) => toStep(step, row)),
    notes: row.notes,
    context: row.context,
    started_at: row.started_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at ?? undefined,
    user_name: row.user_name,
    user_email: row.user_email,
    variables: row.variables ?? {},
    locale: row.locale || tree.language || DEFAULT_LANGUAGE,
  };
}

interface StoredRow extends Omit<SessionRow, "completed_at"> {
  completed_at: Date | null;
}

/** What every event of the session names. */
const identityOf = (row: SessionRow): SessionIdentity => ({
  org_id: row.org_id,
  id: row.id,
  tree_id: row.tree_id,
  tree_version: row.tree_version,
  user_id: row.user_id,
  started_at: row.started_at,
});

const fromStored = (row: StoredRow): SessionRow => ({ ...row, completed_at: row.completed_at?.toISOString() ?? null });

/** What a list reads of each session: all of it, or what a summary shows. */
export type ListColumns = "full" | "brief";

const SUMMARY_COLUMNS = [
  "id",
  "tree_id",
  "tree_version",
  "tree_title",
  "user_id",
  "user_name",
  "user_email",
  "status",
  "outcome",
  "current_node_id",
  "context",
  "started_at",
  "updated_at",
  "completed_at",
] as const satisfies readonly (keyof SessionRow)[];

export type SummaryRow = Pick<SessionRow, (typeof SUMMARY_COLUMNS)[number]>;
export type ListedRow<K extends ListColumns> = K extends "full" ? SessionRow : SummaryRow;

/**
 * A session in brief, as the lists of summaries show it. Field for field as `toSession` writes
 * them, not built from it: the JSON report prints a Session's fields in that function's order.
 */
export function toSessionSummary(row: SummaryRow): SessionSummary {
  return {
    id: row.id,
    tree_id: row.tree_id,
    tree_version: row.tree_version,
    tree_title: row.tree_title,
    user_id: row.user_id,
    status: row.status,
    outcome: row.outcome ?? undefined,
    current_node_id: row.current_node_id,
    context: row.context,
    started_at: row.started_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at ?? undefined,
    user_name: row.user_name,
    user_email: row.user_email,
  };
}

export interface ListFilters {
  userId?: string | undefined;
  status?: string | undefined;
  treeId?: string | undefined;
  outcome?: string | undefined;
  /** Started at or after. */
  from?: Date | undefined;
  /** Started before. */
  to?: Date | undefined;
}

/** The columns a change writes: the session's next state (the revision trigger counts the change). */
const nextState = (sql: Sql | TransactionSql, next: SessionState) => sql`
  status = ${next.status}, outcome = ${next.outcome}, current_node_id = ${next.current_node_id},
  steps = ${sql.json(next.steps as never)}, notes = ${next.notes}, completed_at = ${next.completed_at},
  pins = ${sql.json((next.pins ?? {}) as never)}, variables = ${sql.json((next.variables ?? {}) as never)},
  updated_at = now()`;

/**
 * The sessions of one organization (docs/decisions/organizations.md): every statement runs in a
 * transaction of it, which the database walls off to its rows, and what the process keeps in
 * memory is kept under it too. `of(org)` gives another organization's, sharing the memory.
 */
export class SessionStore {
  /** Tree versions never change: one read from the database per version, then memory. */
  readonly treeCopies: TreeCopies;
  /**
   * Sessions as this process last wrote or read them: a change computed from one is written only
   * if the session is still at that revision, so a copy gone stale costs a read, never a wrong write.
   */
  readonly sessions: RecentlyUsed<SessionRow>;

  /**
   * @param announced tells the outbox relay that events were just committed (runService's
   *   `outboxWritten`): each change writes its events (session-events.ts) with it, in the same
   *   statement or transaction.
   */
  constructor(
    private readonly sql: Sql,
    private readonly announced: () => void = () => {},
    readonly organization: string = DEFAULT_ORGANIZATION_ID,
    memory?: { treeCopies: TreeCopies; sessions: RecentlyUsed<SessionRow> },
  ) {
    this.treeCopies = memory?.treeCopies ?? new TreeCopies();
    this.sessions = memory?.sessions ?? new RecentlyUsed<SessionRow>(SESSIONS_REMEMBERED);
  }

  /** The store of organization `org`, with this one's memory. */
  of(org: string): SessionStore {
    return new SessionStore(this.sql, this.announced, org, this);
  }

  /** `work` in a transaction of this store's organization. */
  private db<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return inOrganization(this.sql, this.organization, work);
  }

  /** A remembered session's key: within its organization. */
  private keyOf(id: string): string {
    return `${this.organization}/${id}`;
  }

  /** Pinned tree versions: from memory, or else in one read of all those it lacks. */
  trees(versions: TreeVersion[]): Promise<Tree[]> {
    return this.treeCopies.getAll(
      versions,
      async (lacking) => {
        const rows = await this.db(
          (tx) => tx<{ document: PinnedTree }[]>`
          select document from tree_snapshots
          where (tree_id, version) in (select * from unnest(
            ${lacking.map((each) => each.tree_id)}::uuid[], ${lacking.map((each) => each.tree_version)}::int[]))`,
        );
        // A copy made before form and logic nodes lacks their fields: read as their defaults.
        return rows.map((row) => pinnedFrom(row.document));
      },
      this.organization,
    );
  }

  async tree(treeId: string, version: number): Promise<Tree> {
    const [tree] = await this.trees([{ tree_id: treeId, tree_version: version }]);
    return tree as Tree;
  }

  /** Stores the session and, when it is the first on this tree version, the version's copy: one statement. */
  async create(
    tree: Tree,
    userId: string,
    state: SessionState,
    context: Record<string, unknown>,
    now: Date,
    technician: { name: string; email: string } = { name: "", email: "" },
    locale = "",
  ) {
    const id = randomUUID();
    const identity = {
      id,
      tree_id: tree.id,
      tree_version: tree.version,
      user_id: userId,
      started_at: now,
      org_id: this.organization,
    };
    // The foreign key is checked at the end of the statement, when the copy is there; the
    // session and its `started` event commit together.
    const [row] = await this.db(
      (sql) => sql<StoredRow[]>`
      with snapshot as (
        insert into tree_snapshots (tree_id, version, document)
        values (${tree.id}, ${tree.version}, ${sql.json(tree as never)})
        on conflict do nothing),
      announced as (${outboxInsert(sql, [outboxEventOf(startedEvent(identity, state, now))])})
      insert into sessions (id, user_id, tree_id, tree_version, tree_title, status, outcome, current_node_id,
        steps, notes, context, started_at, updated_at, user_name, user_email, pins, variables, locale)
      values (${id}, ${userId}, ${tree.id}, ${tree.version}, ${tree.title}, ${state.status},
        ${state.outcome}, ${state.current_node_id}, ${sql.json(state.steps as never)}, ${state.notes},
        ${sql.json(context as never)}, ${now}, ${now}, ${technician.name.slice(0, 200)},
        ${technician.email.slice(0, 254)}, ${sql.json((state.pins ?? {}) as never)},
        ${sql.json((state.variables ?? {}) as never)}, ${locale})
      returning *`,
    );
    this.treeCopies.put(tree, this.organization);
    this.announced();
    return this.remember(fromStored(row as StoredRow));
  }

  /**
   * Keeps a linked tree's version the session pinned, as the first tree's copy is kept, and
   * answers the copy to use. A version kept in memory is stored already (it was read, written or
   * pinned before): its copy answers, and nothing is written again.
   */
  pin(tree: Tree): Promise<Tree> {
    return this.treeCopies.get(
      tree.id,
      tree.version,
      async () => {
        await this.db(
          (tx) => tx`
          insert into tree_snapshots (tree_id, version, document)
          values (${tree.id}, ${tree.version}, ${tx.json(tree as never)})
          on conflict do nothing`,
        );
        return tree;
      },
      this.organization,
    );
  }

  async get(id: string): Promise<SessionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db((tx) => tx<StoredRow[]>`select * from sessions where id = ${id}`);
    return row ? this.remember(fromStored(row)) : undefined;
  }

  /**
   * The session to compute a change from: as this process last wrote or read it, else read now.
   * Only for `changeFrom`, which writes nothing unless the copy was current; what never changes
   * (owner, tree version, context) is true in any copy.
   */
  async latest(id: string): Promise<SeenSession | undefined> {
    const remembered = this.sessions.get(this.keyOf(id));
    if (remembered) return { row: remembered, remembered: true };
    const row = await this.get(id);
    return row && { row, remembered: false };
  }

  /**
   * Writes the state `change` computes from `seen`, in one statement that applies only while the
   * session is still at the revision `seen` was at (compare-and-set): no transaction, no lock held
   * across round trips. When another change came first, this one is judged again on the current
   * row, locked (`change`), so a change never applies to a state it was not computed from; and a
   * refusal computed from a remembered copy stands only if the row as stored refuses it too.
   */
  async changeFrom(
    seen: SeenSession,
    change: (row: SessionRow) => SessionState,
    /** A completed session's report in Markdown, for its event. */
    reportOf?: (row: SessionRow) => string,
  ): Promise<SessionRow | undefined> {
    let next: SessionState;
    try {
      next = change(seen.row);
    } catch (refusal) {
      if (!seen.remembered) throw refusal;
      const stored = await this.get(seen.row.id);
      return stored && this.changeFrom({ row: stored, remembered: false }, change, reportOf);
    }
    const report = reportOf && ((after: SessionState) => reportOf({ ...seen.row, ...after }));
    const events = changeEvents(identityOf(seen.row), seen.row, next, new Date(), report).map(outboxEventOf);
    // Its events only if the change applied: both in the one statement, or neither (in the
    // organization's transaction the wall asks for: docs/decisions/organizations.md, the hot path).
    const [written] = await this.db(
      (sql) => sql<{ revision: number; updated_at: Date }[]>`
      with written as (
        update sessions set ${nextState(sql, next)}
        where id = ${seen.row.id} and revision = ${seen.row.revision}
        returning revision, updated_at)
      ${events.length > 0 ? sql`, announced as (${outboxInsert(sql, events, sql`exists (select 1 from written)`)})` : sql``}
      select revision, updated_at from written`,
    );
    if (written) {
      if (events.length > 0) this.announced();
      return this.remember({ ...seen.row, ...next, ...written });
    }
    return this.change(seen.row.id, async (current) => change(current), reportOf);
  }

  /**
   * Reads a session locked for the rest of the transaction, lets `change` compute its next state,
   * and writes it: concurrent steps on one session apply one after the other.
   */
  async change(
    id: string,
    change: (row: SessionRow) => Promise<SessionState>,
    reportOf?: (row: SessionRow) => string,
  ): Promise<SessionRow | undefined> {
    if (!isUuid(id)) return undefined;
    return this.db(async (tx: TransactionSql) => {
      const [stored] = await tx<StoredRow[]>`select * from sessions where id = ${id} for update`;
      if (!stored) return undefined;
      const before = fromStored(stored);
      const next = await change(before);
      const [updated] = await tx<StoredRow[]>`
        update sessions set ${nextState(tx, next)}
        where id = ${id}
        returning *`;
      const report = reportOf && ((after: SessionState) => reportOf({ ...before, ...after }));
      for (const event of changeEvents(identityOf(before), before, next, new Date(), report)) {
        await writeOutboxEvent(tx, outboxEventOf(event));
      }
      return fromStored(updated as StoredRow);
    }).then((row) => row && this.remember(row));
  }

  private remember(row: SessionRow): SessionRow {
    this.sessions.set(this.keyOf(row.id), row);
    return row;
  }

  list<K extends ListColumns>(filters: ListFilters, page: Page, columns: K) {
    return this.db((sql) => this.listIn(sql, filters, page, columns));
  }

  /**
   * A page of sessions, newest first, after `page.after` or `page.skip` rows, and how many match
   * (counted up to TOTAL_CAP): the newest-first indexes per organization, per user and per tree
   * give the page without reading the rows it skips by cursor. In brief, only the columns a
   * summary shows are read: not the steps, which a long session keeps out of line (TOAST).
   */
  private async listIn<K extends ListColumns>(sql: TransactionSql, filters: ListFilters, page: Page, columns: K) {
    const where = sql`
      where true
        ${filters.userId ? sql`and user_id = ${filters.userId}` : sql``}
        ${filters.status ? sql`and status = ${filters.status}` : sql``}
        ${filters.treeId ? sql`and tree_id = ${filters.treeId}` : sql``}
        ${filters.outcome ? sql`and outcome = ${filters.outcome}` : sql``}
        ${filters.from ? sql`and started_at >= ${filters.from}` : sql``}
        ${filters.to ? sql`and started_at < ${filters.to}` : sql``}`;
    const read = columns === "full" ? sql`*` : sql(SUMMARY_COLUMNS);
    // The page and the count in one round trip (sent one after the other on the transaction's connection).
    const [rows, [counted]] = await Promise.all([
      sql<(StoredRow & { sort_at: string; sort_id: string })[]>`
        select ${read}, ${sortTime(sql, "started_at")} as sort_at, id as sort_id from sessions ${where}
          ${after(sql, "started_at", "id", page.after)}
        order by started_at desc, id
        offset ${page.skip} limit ${page.limit + 1}`.execute(),
      sql<{ n: number }[]>`${cappedCount(sql, sql`select 1 from sessions ${where}`)}`.execute(),
    ]);
    const { rows: shown, nextCursor } = pageAnswer(rows, page.limit);
    return { rows: shown.map(fromStored) as ListedRow<K>[], nextCursor, ...totalOf(counted?.n ?? 0) };
  }

  /**
   * Marks a deactivated user's in-progress sessions abandoned, in every organization, once per
   * event: a redelivered event finds its id already handled and changes nothing. One transaction;
   * the organizations holding such a session are asked of the owner (the migration's function),
   * then each is walled in turn.
   */
  async abandonForDeactivatedUser(eventId: string, userId: string): Promise<number> {
    return inTransaction(this.sql, async (tx) => {
      const [fresh] = await tx`
        insert into handled_events (event_id) values (${eventId}) on conflict do nothing returning event_id`;
      if (!fresh) return 0;
      const organizations = await tx<{ org: string }[]>`select organizations_with_sessions_of(${userId}) as org`;
      const now = new Date();
      let abandoned = 0;
      for (const { org } of organizations) {
        await setOrganization(tx, org);
        const rows = await tx<(SessionIdentity & { current_node_id: string; steps: StepRecord[] })[]>`
          update sessions set status = 'abandoned', updated_at = now()
          where user_id = ${userId} and status = 'in_progress'
          returning id, tree_id, tree_version, user_id, started_at, current_node_id, steps, org_id`;
        for (const row of rows) {
          await writeOutboxEvent(tx, outboxEventOf(abandonedEvent(row, row, row.current_node_id, now)));
        }
        abandoned += rows.length;
      }
      return abandoned;
    });
  }
}
