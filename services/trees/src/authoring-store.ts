import { AppError, inTransaction, type Problem, type Sql, type TransactionSql } from "@tdt/kit";
import { DEFAULT_LANGUAGE } from "@tdt/proto/contracts/tree-languages";
import type {
  HistoryEntry,
  PortableTree,
  Tree,
  TreeDiff,
  TreeDraft,
  TreeInput,
  TreeReview,
  TreeSettings,
} from "@tdt/proto/tdt/trees/v1/trees";
import { diffTrees, type TreeContent } from "./tree-diff.js";
import type { TreeAnnouncer } from "./tree-events.js";
import { type HistoryAction, readHistory, recordHistory } from "./tree-history.js";
import { unresolvedLinks } from "./tree-input.js";
import { insertVersion, normaliseNodes, normaliseVariables, readVersion, storedNodes, UUID } from "./tree-store.js";

/**
 * Authoring beside the live tree (docs/decisions/drafts.md): one draft per tree, which
 * technicians never get; publishing it or rolling back to an earlier version's content makes a
 * new immutable version; reviews approve one draft revision; archive and restore. Each change
 * writes the tree's change log in its own transaction, and those that change what readers get
 * announce it (tree-events.ts).
 */

/** The portable format's name and version (`GET /api/v1/schemas/tree.json`). */
export const PORTABLE_FORMAT = "tdt-tree";
export const PORTABLE_FORMAT_VERSION = 1;

interface TreeRow {
  id: string;
  latest_version: number;
  last_draft_revision: number;
  review_required: boolean;
  deleted_at: Date | null;
}

/** A version's or the draft's content, as stored. */
type ContentRow = TreeContent;

interface DraftRow extends ContentRow {
  revision: number;
  based_on_version: number;
  saved_by: string;
  saved_at: Date;
}

const notFound = () => new AppError("not_found");
const unknownVersion = (loc: Problem["loc"]) =>
  AppError.invalid([{ loc, msg: "The tree has no such version", type: "unknown_version" }]);

/** A version or the draft, as a diff or an export names it. */
export type ContentRef = { version: number } | "draft";

export class AuthoringStore {
  constructor(
    private readonly sql: Sql,
    private readonly announcer: TreeAnnouncer,
    /** Of these tree ids, those that name no live tree: a published link must resolve. */
    private readonly missingTrees: (ids: string[]) => Promise<string[]>,
    /** The rules of a tree, as a create checks them: every problem, `loc` from `body`. */
    private readonly validate: (tree: TreeInput) => Problem[],
  ) {}

  /** The tree's draft; before anything was saved, its latest version's content at revision 0. */
  async draft(id: string): Promise<TreeDraft> {
    const tree = await this.liveTree(this.sql, id);
    const [draft] = await this.sql<DraftRow[]>`select * from tree_drafts where tree_id = ${id}`;
    if (draft) return this.draftOf(this.sql, tree, draft);
    const content = await this.versionContent(this.sql, id, tree.latest_version);
    if (!content) throw notFound();
    return {
      tree_id: id,
      draft_revision: 0,
      based_on_version: tree.latest_version,
      ...content,
      review_required: tree.review_required,
      approved: false,
    };
  }

  /** Saves the draft if it is still at `fromRevision` (0: none yet); never a silent overwrite. */
  async saveDraft(id: string, fromRevision: number, content: TreeInput, author: string): Promise<TreeDraft> {
    await inTransaction(this.sql, async (tx) => {
      const tree = await this.lockLiveTree(tx, id);
      const [draft] = await tx<{ revision: number; based_on_version: number }[]>`
        select revision, based_on_version from tree_drafts where tree_id = ${id}`;
      if ((draft?.revision ?? 0) !== fromRevision) throw new AppError("draft_conflict");
      const revision = tree.last_draft_revision + 1;
      const nodes = normaliseNodes(content.nodes);
      const variables = normaliseVariables(content.variables);
      await tx`
        insert into tree_drafts (tree_id, revision, based_on_version, title, description, category, tags,
          root_node_id, nodes, variables, language, saved_by)
        values (${id}, ${revision}, ${draft?.based_on_version ?? tree.latest_version}, ${content.title},
          ${content.description}, ${content.category}, ${content.tags}, ${content.root_node_id},
          ${tx.json(nodes as never)}, ${tx.json(variables as never)}, ${content.language || DEFAULT_LANGUAGE}, ${author})
        on conflict (tree_id) do update set revision = excluded.revision, title = excluded.title,
          description = excluded.description, category = excluded.category, tags = excluded.tags,
          root_node_id = excluded.root_node_id, nodes = excluded.nodes, variables = excluded.variables,
          language = excluded.language,
          saved_by = excluded.saved_by, saved_at = now()`;
      await tx`update trees set last_draft_revision = ${revision} where id = ${id}`;
      await recordHistory(tx, { treeId: id, actor: author, action: "draft_saved", draftRevision: revision });
    });
    return this.draft(id);
  }

  async discardDraft(id: string, actor: string): Promise<void> {
    await inTransaction(this.sql, async (tx) => {
      await this.lockLiveTree(tx, id);
      const [gone] = await tx<{ revision: number }[]>`
        delete from tree_drafts where tree_id = ${id} returning revision`;
      if (!gone) throw notFound();
      await recordHistory(tx, { treeId: id, actor, action: "draft_discarded", draftRevision: gone.revision });
    });
  }

  /**
   * Publishes the draft at `revision` as the next version, if it follows the rules, its links
   * resolve, and (where the tree needs it) someone other than its saver approved that revision.
   */
  async publish(id: string, revision: number, changeNote: string, actor: string): Promise<Tree> {
    return this.newVersion(id, actor, async (tx, tree) => {
      const [draft] = await tx<DraftRow[]>`select * from tree_drafts where tree_id = ${id}`;
      if (!draft || draft.revision !== revision) throw new AppError("draft_conflict");
      const input = this.inputOf(draft, changeNote);
      const problems = this.validate(input).map((problem) => ({ ...problem, loc: ["draft", ...problem.loc.slice(1)] }));
      problems.push(...(await unresolvedLinks(this.missingTrees, input, "draft")));
      if (problems.length > 0) throw AppError.invalid(problems);
      if (tree.review_required && !(await this.isApproved(tx, id, revision, draft.saved_by))) {
        throw new AppError("review_required");
      }
      await tx`delete from tree_drafts where tree_id = ${id}`;
      return { input, action: "published", draftRevision: revision, note: changeNote };
    });
  }

  /** Publishes version `from`'s content again as the next version; the draft stays as it is. */
  async rollback(id: string, from: number, changeNote: string, actor: string): Promise<Tree> {
    return this.newVersion(id, actor, async (tx) => {
      const content = await this.versionContent(tx, id, from);
      if (!content) throw unknownVersion(["body", "version"]);
      const note = changeNote || `Version ${from}'s content again`;
      return { input: this.inputOf(content, note), action: "rolled_back", note };
    });
  }

  async settings(id: string): Promise<TreeSettings> {
    const tree = await this.liveTree(this.sql, id);
    return { review_required: tree.review_required };
  }

  async setSettings(
    id: string,
    change: { review_required?: boolean | undefined },
    actor: string,
  ): Promise<TreeSettings> {
    return inTransaction(this.sql, async (tx) => {
      const tree = await this.lockLiveTree(tx, id);
      const reviewRequired = change.review_required ?? tree.review_required;
      if (reviewRequired !== tree.review_required) {
        await tx`update trees set review_required = ${reviewRequired} where id = ${id}`;
        await recordHistory(tx, {
          treeId: id,
          actor,
          action: "settings_changed",
          note: `review_required: ${reviewRequired}`,
        });
      }
      return { review_required: reviewRequired };
    });
  }

  /** A review of the draft at `revision`, by someone other than who saved it. */
  async review(id: string, revision: number, decision: string, comment: string, reviewer: string): Promise<TreeReview> {
    return inTransaction(this.sql, async (tx) => {
      await this.lockLiveTree(tx, id);
      const [draft] = await tx<{ revision: number; saved_by: string }[]>`
        select revision, saved_by from tree_drafts where tree_id = ${id}`;
      if (!draft || draft.revision !== revision) throw new AppError("draft_conflict");
      if (draft.saved_by === reviewer) throw new AppError("self_review");
      const [row] = await tx<{ reviewed_at: Date }[]>`
        insert into tree_reviews (tree_id, draft_revision, reviewer, decision, comment)
        values (${id}, ${revision}, ${reviewer}, ${decision}, ${comment}) returning reviewed_at`;
      await recordHistory(tx, {
        treeId: id,
        actor: reviewer,
        action: decision === "approve" ? "approved" : "changes_requested",
        draftRevision: revision,
        note: comment,
      });
      return {
        draft_revision: revision,
        reviewer,
        decision,
        comment,
        reviewed_at: (row as { reviewed_at: Date }).reviewed_at.toISOString(),
      };
    });
  }

  /** Archives (`archive`) or restores a tree; a tree already so changes nothing. */
  async setArchived(id: string, archive: boolean, actor: string): Promise<void> {
    if (!UUID.test(id)) throw notFound();
    const event = await inTransaction(this.sql, async (tx) => {
      const [tree] = await tx<TreeRow[]>`select * from trees where id = ${id} for update`;
      if (!tree) throw notFound();
      if ((tree.deleted_at !== null) === archive) return undefined;
      await tx`update trees set deleted_at = ${archive ? tx`now()` : null} where id = ${id}`;
      await recordHistory(tx, { treeId: id, actor, action: archive ? "archived" : "restored" });
      return this.announcer.record(tx, id, archive ? 0 : tree.latest_version, archive ? "deleted" : "updated");
    });
    if (event) await this.announcer.publish(event);
  }

  /** The tree's change log, newest first. */
  history(id: string): Promise<HistoryEntry[]> {
    return readHistory(this.sql, id);
  }

  /** Whether the tree exists at all, archived or not (its change log stays readable). */
  async exists(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const [row] = await this.sql`select 1 from trees where id = ${id}`;
    return Boolean(row);
  }

  /** What changed from `from` to `to` (by default from the latest version to the draft). */
  async diff(id: string, from: ContentRef | undefined, to: ContentRef | undefined): Promise<TreeDiff> {
    const tree = await this.liveTree(this.sql, id);
    const start = from ?? { version: tree.latest_version };
    const end = to ?? "draft";
    const [before, after] = await Promise.all([
      this.contentOf(id, start, ["query", "from"]),
      this.contentOf(id, end, ["query", "to"]),
    ]);
    return { from: nameOf(start), to: nameOf(end), ...diffTrees(before, after) };
  }

  /** The tree's latest version (or `version`) in the portable format. */
  async exportTree(id: string, version: number | undefined): Promise<PortableTree> {
    const tree = await this.liveTree(this.sql, id);
    const content = await this.versionContent(this.sql, id, version ?? tree.latest_version);
    if (!content) throw notFound();
    return { format: PORTABLE_FORMAT, format_version: PORTABLE_FORMAT_VERSION, ...content };
  }

  /** A version's or the draft's content, or a 422 at `loc` when there is no such version. */
  private async contentOf(id: string, ref: ContentRef, loc: Problem["loc"]): Promise<TreeContent> {
    if (ref === "draft") return this.draft(id);
    const content = await this.versionContent(this.sql, id, ref.version);
    if (!content) throw unknownVersion(loc);
    return content;
  }

  /** Writes the next version, published, as `make` says, and announces it. */
  private async newVersion(
    id: string,
    actor: string,
    make: (
      tx: TransactionSql,
      tree: TreeRow,
    ) => Promise<{ input: TreeInput; action: HistoryAction; draftRevision?: number; note: string }>,
  ): Promise<Tree> {
    const { event, written } = await inTransaction(this.sql, async (tx) => {
      const tree = await this.lockLiveTree(tx, id);
      const { input, action, draftRevision, note } = await make(tx, tree);
      const version = tree.latest_version + 1;
      await tx`update trees set latest_version = ${version}, published_version = ${version} where id = ${id}`;
      await insertVersion(tx, id, version, input, actor);
      await recordHistory(tx, { treeId: id, actor, action, version, draftRevision, note });
      // Read back in the same transaction: what was written, whatever happens to the tree next.
      const written = (await readVersion(tx, id, version)) as Tree;
      return { event: await this.announcer.record(tx, id, version, "updated"), written };
    });
    await this.announcer.publish(event);
    return written;
  }

  private inputOf(content: ContentRow, changeNote: string): TreeInput {
    const { title, description, category, tags, root_node_id, nodes, variables, language } = content;
    return {
      title,
      description,
      category,
      tags,
      root_node_id,
      nodes,
      variables,
      language,
      status: "published",
      change_note: changeNote,
    };
  }

  /** Whether the newest review of `revision` by someone other than its saver approves it. */
  private async isApproved(sql: Sql | TransactionSql, id: string, revision: number, savedBy: string): Promise<boolean> {
    const [review] = await sql<{ decision: string }[]>`
      select decision from tree_reviews
      where tree_id = ${id} and draft_revision = ${revision} and reviewer <> ${savedBy}
      order by id desc limit 1`;
    return review?.decision === "approve";
  }

  private async draftOf(sql: Sql, tree: TreeRow, draft: DraftRow): Promise<TreeDraft> {
    return {
      tree_id: tree.id,
      draft_revision: draft.revision,
      based_on_version: draft.based_on_version,
      title: draft.title,
      description: draft.description,
      category: draft.category,
      tags: draft.tags,
      root_node_id: draft.root_node_id,
      nodes: storedNodes(draft.nodes),
      variables: draft.variables,
      language: draft.language,
      saved_by: draft.saved_by,
      saved_at: draft.saved_at.toISOString(),
      review_required: tree.review_required,
      approved: await this.isApproved(sql, tree.id, draft.revision, draft.saved_by),
    };
  }

  /** A version's content, or undefined when the tree has no such version. */
  private async versionContent(
    sql: Sql | TransactionSql,
    id: string,
    version: number,
  ): Promise<ContentRow | undefined> {
    const [row] = await sql<ContentRow[]>`
      select title, description, category, tags, root_node_id, nodes, variables, language from tree_versions
      where tree_id = ${id} and version = ${version}`;
    return row && { ...row, nodes: storedNodes(row.nodes) };
  }

  private async liveTree(sql: Sql, id: string): Promise<TreeRow> {
    if (!UUID.test(id)) throw notFound();
    const [tree] = await sql<TreeRow[]>`select * from trees where id = ${id} and deleted_at is null`;
    if (!tree) throw notFound();
    return tree;
  }

  private async lockLiveTree(tx: TransactionSql, id: string): Promise<TreeRow> {
    if (!UUID.test(id)) throw notFound();
    const [tree] = await tx<TreeRow[]>`select * from trees where id = ${id} and deleted_at is null for update`;
    if (!tree) throw notFound();
    return tree;
  }
}

function nameOf(ref: ContentRef): string {
  return ref === "draft" ? "draft" : String(ref.version);
}
