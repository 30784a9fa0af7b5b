import { randomUUID } from "node:crypto";
import {
  AppError,
  after,
  cappedCount,
  inTransaction,
  type Page,
  pageAnswer,
  type Sql,
  sortTime,
  type TransactionSql,
  totalOf,
} from "@tdt/kit";
import type {
  ListTreesResponse,
  Node,
  Tree,
  TreeInput,
  TreeSummary,
  TreeVersion,
  Variable,
} from "@tdt/proto/tdt/trees/v1/trees";
import {
  HIGHLIGHT_START,
  HIGHLIGHT_STOP,
  highlightsOf,
  indexWords,
  queryWords,
  transpositions,
  tsquerySource,
} from "./search-query.js";

/** A snippet of about twenty words around the match, the matched words marked for `highlightsOf`. */
const HEADLINE_OPTIONS = `StartSel=${HIGHLIGHT_START}, StopSel=${HIGHLIGHT_STOP}, MaxWords=20, MinWords=8, MaxFragments=1, FragmentDelimiter=" … "`;

import { DEFAULT_LANGUAGE } from "@tdt/proto/contracts/tree-languages";
import { searchConfigOf, translatedSearchConfigs, versionTranslations } from "./translations.js";
import type { TreeAnnouncer } from "./tree-events.js";
import { recordHistory } from "./tree-history.js";

/** Which version of a tree the caller sees: authors the latest, technicians the latest published. */
export type Audience = "authors" | "technicians";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a listing or a search reads of a version: everything but its nodes. */
interface SummaryRow {
  id: string;
  version: number;
  title: string;
  description: string;
  category: string;
  tags: string[];
  status: string;
  node_count: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow extends SummaryRow {
  root_node_id: string;
  change_note: string;
  nodes: Node[];
  variables: Variable[];
  language: string;
  /** The locales the version carries translations for. */
  locales: string[];
}

/** What a summary and a full tree both say about a version. */
function describe(row: SummaryRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    category: row.category,
    tags: row.tags,
    status: row.status,
    version: row.version,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toSummary(row: SummaryRow): TreeSummary {
  return { ...describe(row), node_count: row.node_count };
}

function toTree(row: VersionRow): Tree {
  return {
    ...describe(row),
    root_node_id: row.root_node_id,
    change_note: row.change_note,
    nodes: storedNodes(row.nodes),
    variables: row.variables,
    language: row.language,
    translations: row.locales,
  };
}

/** A summary's columns of a version joined with its tree; `updated_at` is when this version was made. */
const summaryColumns = (sql: Sql) => sql`
  t.id, v.version, v.title, v.description, v.category, v.tags, v.status, v.node_count, t.created_by,
  t.created_at, v.created_at as updated_at`;

/** All the columns of a version joined with its tree: a summary's, and the document's own. */
const versionColumns = (sql: Sql) => sql`${summaryColumns(sql)}, v.root_node_id, v.change_note, v.nodes, v.variables,
  v.language, array(select jsonb_object_keys(v.translations) order by 1) as locales`;

/** Joins each live tree (or, for authors who ask, each archived one) to the version its audience sees. */
const visibleVersions = (sql: Sql, audience: Audience, archived = false) => sql`
  trees t join tree_versions v on v.tree_id = t.id and v.version = ${
    audience === "authors" ? sql`t.latest_version` : sql`t.published_version`
  }
  where ${archived && audience === "authors" ? sql`t.deleted_at is not null` : sql`t.deleted_at is null`}`;

/** Nodes as stored: only the fields their type uses, so documents read back exactly as sent. */
export function normaliseNodes(nodes: Node[]): Node[] {
  return nodes.map((node) => ({
    id: node.id,
    type: node.type,
    title: node.title,
    body: node.body,
    options: node.options.map((option) => ({ id: option.id, label: option.label, next: option.next })),
    fields: (node.fields ?? []).map((field) => ({
      id: field.id,
      label: field.label,
      variable: field.variable,
      type: field.type,
      required: field.required ?? false,
      ...(field.min !== undefined ? { min: field.min } : {}),
      ...(field.max !== undefined ? { max: field.max } : {}),
      choices: field.choices ?? [],
    })),
    rules: (node.rules ?? []).map((rule) => ({ when: rule.when, next: rule.next })),
    ...(node.next ? { next: node.next } : {}),
    ...(node.outcome !== undefined ? { outcome: node.outcome } : {}),
    ...(node.tree_id ? { tree_id: node.tree_id } : {}),
    ...(node.default_next ? { default_next: node.default_next } : {}),
  }));
}

/**
 * Nodes as read back: a version written before form and logic nodes has no `fields` or `rules`
 * on its nodes, which every node carries over gRPC.
 */
export function storedNodes(nodes: Node[]): Node[] {
  return nodes.map((node) => (node.fields && node.rules ? node : { ...node, fields: [], rules: [] }));
}

/** Variables as stored: the fields their type uses. */
export function normaliseVariables(variables: Variable[] | undefined): Variable[] {
  return (variables ?? []).map((variable) => ({
    name: variable.name,
    type: variable.type,
    ...(variable.default !== undefined && variable.default !== null ? { default: variable.default } : {}),
    choices: variable.choices ?? [],
  }));
}

export type ListFilters = {
  category?: string | undefined;
  tag?: string | undefined;
  status?: string | undefined;
  archived?: boolean | undefined;
};

/** The listing's filters, after `visibleVersions`' where clause. */
const filterConditions = (sql: Sql, filters: ListFilters) => sql`
  ${filters.category ? sql`and lower(v.category) = lower(${filters.category})` : sql``}
  ${filters.tag ? sql`and ${filters.tag} = any(v.tags)` : sql``}
  ${filters.status ? sql`and v.status = ${filters.status}` : sql``}`;

export class TreeStore {
  constructor(
    private readonly sql: Sql,
    /** Announces every create, new version and delete (tree-events.ts). */
    private readonly announcer: TreeAnnouncer,
  ) {}

  /**
   * A page of summaries, newest first, after `page.after` or `page.skip` rows, and how many there
   * are (counted up to TOTAL_CAP). The page walks the versions' newest-first index and stops when
   * full; the total counts live trees alone unless a filter needs their versions, so neither
   * reads a version's nodes or every matching row.
   */
  async list(audience: Audience, filters: ListFilters, page: Page): Promise<ListTreesResponse> {
    const sql = this.sql;
    // The page and the count in one round trip (sent one after the other on the transaction's connection).
    const [rows, [counted]] = await Promise.all([
      sql<(SummaryRow & { sort_at: string; sort_id: string })[]>`
        select ${summaryColumns(sql)}, ${sortTime(sql, "v.created_at")} as sort_at, v.tree_id as sort_id
        from ${visibleVersions(sql, audience, filters.archived)} ${filterConditions(sql, filters)}
          ${after(sql, "v.created_at", "v.tree_id", page.after)}
        order by v.created_at desc, v.tree_id
        offset ${page.skip} limit ${page.limit + 1}`.execute(),
      sql<{ n: number }[]>`${cappedCount(sql, this.countedRows(audience, filters))}`.execute(),
    ]);
    const { rows: shown, nextCursor } = pageAnswer(rows, page.limit);
    return { trees: shown.map(toSummary), next_cursor: nextCursor, ...totalOf(counted?.n ?? 0) };
  }

  /** The rows the listing counts: the trees table alone when no filter reads a version. */
  private countedRows(audience: Audience, filters: ListFilters) {
    const sql = this.sql;
    if (filters.category || filters.tag || filters.status || filters.archived) {
      return sql`select 1 from ${visibleVersions(sql, audience, filters.archived)} ${filterConditions(sql, filters)}`;
    }
    return sql`select 1 from trees t where t.deleted_at is null and ${
      audience === "authors" ? sql`t.latest_version` : sql`t.published_version`
    } is not null`;
  }

  async categories(audience: Audience): Promise<string[]> {
    const sql = this.sql;
    const rows = await sql<{ category: string }[]>`
      select distinct v.category from ${visibleVersions(sql, audience)} order by v.category`;
    return rows.map((row) => row.category);
  }

  /**
   * Ranked full-text search. Every word must match (the last as a prefix); a word that matches
   * nothing is replaced by the nearest known word, so one typo still finds the tree.
   */
  async search(audience: Audience, text: string, limit: number): Promise<TreeSummary[]> {
    const words = await this.correctTypos(queryWords(text));
    if (words.length === 0) return [];
    const sql = this.sql;
    const query = tsquerySource(words);
    // The words as each language the organization's trees are translated into stems them.
    const inOtherLanguages = (await translatedSearchConfigs(sql)).reduce(
      (either, config) => sql`${either} || to_tsquery(${config}::regconfig, ${query})`,
      sql``,
    );
    // Matching starts from the full-text index over everything searchable (materialized, so the
    // plan never walks every tree first); ranking reads only the small `rank_vector` (weights for
    // C description, B category and tags, A title); only the page's versions are read whole.
    const rows = await sql<(SummaryRow & { field: string | null; node_id: string | null; marked: string | null })[]>`
      with matches as materialized (
        -- As the owner, within the caller's organization (migration 0014: under the wall the
        -- planner may not use the full-text index for @@, which is not leakproof).
        select * from tree_versions_matching(to_tsquery('english', ${query}) ${inOtherLanguages},
                                             to_tsquery('english', ${query}))
      ),
      best as materialized (
        select m.tree_id, m.version, m.rank, m.created_at
        from matches m
        join trees t on t.id = m.tree_id and t.deleted_at is null and m.version = ${
          audience === "authors" ? sql`t.latest_version` : sql`t.published_version`
        }
        order by m.rank desc, m.created_at desc
        limit ${limit}
      )
      select ${summaryColumns(sql)}, coalesce(fixed.field, node.field) as field,
        coalesce(fixed.node_id, node.node_id) as node_id,
        ts_headline('english', coalesce(fixed.text, node.text), to_tsquery('english', ${query}), ${HEADLINE_OPTIONS})
          as marked
      from best b
      join trees t on t.id = b.tree_id
      join tree_versions v on v.tree_id = b.tree_id and v.version = b.version
      -- Where it matched: the describing fields first, then the nodes in order, each read only
      -- until one holds every word (a title match reads no node; measured on a 2,000-node tree:
      -- 0.1 ms against 24 ms when every node was read and then sorted).
      left join lateral (
        select field, '' as node_id, text
        from (values (1, 'title', v.title), (2, 'description', v.description), (3, 'category', v.category),
                     (4, 'tags', array_to_string(v.tags, ' '))) as described(place, field, text)
        where to_tsvector('english', text) @@ to_tsquery('english', ${query})
        order by place
        limit 1
      ) fixed on true
      left join lateral (
        select 'node' as field, n.node->>'id' as node_id, concat_ws(' ', n.node->>'title', n.node->>'body') as text
        from jsonb_array_elements(v.nodes) with ordinality as n(node, place)
        where fixed.field is null
          and to_tsvector('english', concat_ws(' ', n.node->>'title', n.node->>'body')) @@ to_tsquery('english', ${query})
        order by n.place
        limit 1
      ) node on true
      order by b.rank desc, b.created_at desc`;
    return rows.map((row) => ({
      ...toSummary(row),
      ...(row.field
        ? { match: { field: row.field, node_id: row.node_id ?? "", ...highlightsOf(row.marked ?? "") } }
        : {}),
    }));
  }

  /**
   * Each word as typed if it is known (or short, or, last, the start of a known word), else the
   * nearest known word by trigrams: one statement, whose cases run only as far as they must.
   */
  private async correctTypos(words: string[]): Promise<string[]> {
    if (words.length === 0) return words;
    // One statement of the owner's, within the caller's organization (migration 0014: under the
    // wall the trigram operators could not use their index). "Starts with" is a range of the
    // prefix index (text_pattern_ops compares bytes): from the word up to the word followed by
    // the last code point, which no letter or digit exceeds.
    const rows = await this.sql<{ word: string }[]>`
      select word from search_words_corrected(${words}::text[], ${words.map((word) => transpositions(word).join(" "))}::text[])`;
    return rows.map((row) => row.word);
  }

  /** One version of a tree as `audience` may see it, or undefined. */
  /** The translations a version carries, by locale and text key. */
  async carriedTranslations(id: string, version: number): Promise<Record<string, Record<string, string>>> {
    const [row] = await this.sql<{ translations: Record<string, Record<string, string>> }[]>`
      select translations from tree_versions where tree_id = ${id} and version = ${version}`;
    return row?.translations ?? {};
  }

  async get(audience: Audience, id: string, version?: number): Promise<Tree | undefined> {
    if (!UUID.test(id)) return undefined;
    const sql = this.sql;
    const [row] = await sql<VersionRow[]>`
      select ${versionColumns(sql)}
      from trees t join tree_versions v on v.tree_id = t.id
      where t.id = ${id} and t.deleted_at is null and v.version = ${
        version !== undefined
          ? sql`${version}`
          : audience === "authors"
            ? sql`t.latest_version`
            : sql`t.published_version`
      }
        ${audience === "technicians" ? sql`and v.status = 'published'` : sql``}`;
    return row ? toTree(row) : undefined;
  }

  /** Of these ids, those that name no live tree (unknown or deleted). */
  async missingTrees(ids: string[]): Promise<string[]> {
    const wanted = [...new Set(ids.filter((id) => UUID.test(id)))];
    if (wanted.length === 0) return [];
    const rows = await this.sql<{ id: string }[]>`
      select id from trees where id = any(${wanted}::uuid[]) and deleted_at is null`;
    const found = new Set(rows.map((row) => row.id));
    return wanted.filter((id) => !found.has(id));
  }

  async versions(id: string): Promise<TreeVersion[] | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows = await this.sql<{ version: number; created_by: string; created_at: Date; change_note: string }[]>`
      select v.version, v.created_by, v.created_at, v.change_note
      from trees t join tree_versions v on v.tree_id = t.id
      where t.id = ${id} and t.deleted_at is null
      order by v.version desc`;
    if (rows.length === 0) return undefined;
    return rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() }));
  }

  /** A new tree at version 1; `how` it came names its first entry of the change log. */
  async create(input: TreeInput, author: string, how: "created" | "imported" = "created"): Promise<Tree> {
    const id = randomUUID();
    const event = await inTransaction(this.sql, async (tx) => {
      await tx`
        insert into trees (id, created_by, latest_version, published_version)
        values (${id}, ${author}, 1, ${input.status === "published" ? 1 : null})`;
      await insertVersion(tx, id, 1, input, author);
      await recordHistory(tx, { treeId: id, actor: author, action: how, version: 1, note: input.change_note });
      return this.announcer.record(tx, id, 1, "created");
    });
    await this.announcer.publish(event);
    return (await this.get("authors", id)) as Tree;
  }

  /** A new version, if `fromVersion` is still the latest: never a silent overwrite. */
  async replace(id: string, fromVersion: number, input: TreeInput, author: string): Promise<Tree> {
    if (!UUID.test(id)) throw new AppError("not_found");
    const event = await inTransaction(this.sql, async (tx) => {
      const [tree] = await tx<{ latest_version: number }[]>`
        select latest_version from trees where id = ${id} and deleted_at is null for update`;
      if (!tree) throw new AppError("not_found");
      if (tree.latest_version !== fromVersion) throw new AppError("version_conflict");
      const version = fromVersion + 1;
      await tx`
        update trees set latest_version = ${version},
          published_version = ${input.status === "published" ? version : tx`published_version`}
        where id = ${id}`;
      await insertVersion(tx, id, version, input, author);
      await recordHistory(tx, { treeId: id, actor: author, action: "updated", version, note: input.change_note });
      return this.announcer.record(tx, id, version, "updated");
    });
    await this.announcer.publish(event);
    return (await this.get("authors", id)) as Tree;
  }

  /** Archives a live tree (DELETE and archive alike: nothing is deleted, restore brings it back). */
  async softDelete(id: string, actor: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const event = await inTransaction(this.sql, async (tx) => {
      const rows = await tx`update trees set deleted_at = now() where id = ${id} and deleted_at is null returning id`;
      if (rows.length !== 1) return undefined;
      await recordHistory(tx, { treeId: id, actor, action: "archived" });
      return this.announcer.record(tx, id, 0, "deleted");
    });
    if (!event) return false;
    await this.announcer.publish(event);
    return true;
  }

  async isEmpty(): Promise<boolean> {
    const [row] = await this.sql`select 1 from trees limit 1`;
    return !row;
  }
}

/** One version of a tree as stored, archived or not (the caller knows the tree). */
export async function readVersion(sql: Sql | TransactionSql, id: string, version: number): Promise<Tree | undefined> {
  const [row] = await sql<VersionRow[]>`
    select ${versionColumns(sql as Sql)}
    from trees t join tree_versions v on v.tree_id = t.id
    where t.id = ${id} and v.version = ${version}`;
  return row ? toTree(row) : undefined;
}

/** Writes a version of a tree and indexes its words for search (the caller's transaction). */
export async function insertVersion(tx: TransactionSql, id: string, version: number, input: TreeInput, author: string) {
  const nodes = normaliseNodes(input.nodes);
  // The translations the version carries are searchable too, each stemmed as its language is.
  const carried = await versionTranslations(tx, id, nodes);
  const translatedText = Object.entries(carried).map(
    ([locale, texts]) => [searchConfigOf(locale), Object.values(texts).join(" ").slice(0, 300_000)] as const,
  );
  const translatedVector = translatedText.reduce(
    (vector, [config, text]) => tx`${vector} || setweight(to_tsvector(${config}::regconfig, ${text}), 'D')`,
    tx``,
  );
  // A tsvector holds at most 1 MB; the first 300,000 characters of node text are searchable.
  const nodeText = nodes
    .map((node) => `${node.title} ${node.body}`)
    .join(" ")
    .slice(0, 300_000);
  // `rank_vector` is what describes the tree, weighted for ranking; `search` adds node text,
  // weighted D, for matching.
  await tx`
    insert into tree_versions (tree_id, version, title, description, category, tags, status, root_node_id,
      change_note, nodes, variables, language, translations, node_count, created_by, rank_vector, search)
    select ${id}, ${version}, ${input.title}, ${input.description}, ${input.category}, ${input.tags},
      ${input.status}, ${input.root_node_id}, ${input.change_note}, ${tx.json(nodes as never)},
      ${tx.json(normaliseVariables(input.variables) as never)}, ${input.language || DEFAULT_LANGUAGE},
      ${tx.json(carried as never)}, ${nodes.length}, ${author}, described.vector,
      described.vector || setweight(to_tsvector('english', ${nodeText}), 'D') ${translatedVector}
    from (select
      setweight(to_tsvector('english', ${input.title}), 'A') ||
      setweight(to_tsvector('english', ${`${input.category} ${input.tags.join(" ")}`}), 'B') ||
      setweight(to_tsvector('english', ${input.description}), 'C') as vector) as described`;
  const words = indexWords([
    input.title,
    input.description,
    input.category,
    ...input.tags,
    nodeText,
    ...translatedText.map(([, text]) => text),
  ]);
  if (words.length > 0) {
    await tx`insert into search_words (word) select unnest(${words}::text[]) on conflict do nothing`;
  }
}
