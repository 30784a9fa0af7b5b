/**
 * A tree's translations (docs/decisions/logic-forms-media-languages.md): per locale and text of
 * the latest version, each stored with the SHA-256 of the primary text it translates, so that a
 * change of that text marks it outdated; and what a version carries of them when it is written.
 */
import { createHash } from "node:crypto";
import { AppError, type Problem, type Sql, type TransactionSql } from "@tdt/kit";
import { LOCALE, type TextField, textKey, textsOf } from "@tdt/proto/contracts/tree-languages";
import type {
  Node,
  TranslatedText,
  TranslationSummary,
  TreeTranslation,
  VersionTranslation,
} from "@tdt/proto/tdt/trees/v1/trees";
import { UUID } from "./tree-store.js";

/** `items` by `key`, in their order (Map.groupBy, which Node 20 lacks). */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

interface StoredText {
  locale: string;
  node_id: string;
  field: TextField;
  item_id: string;
  text: string;
  source_sha256: string;
}

interface LatestRow {
  version: number;
  language: string;
  nodes: Node[];
}

const notFound = () => new AppError("not_found");

/** The locale in a path: a language tag other than the tree's own (a 422 at `path.locale` else). */
function checkLocale(locale: string, language: string): void {
  if (!LOCALE.test(locale)) {
    const msg = "A language tag such as de, fr-CA or pt-BR";
    throw AppError.invalid([{ loc: ["path", "locale"], msg, type: "locale_pattern" }]);
  }
  if (locale === language) {
    const msg = `The tree is written in ${language}: its own texts need no translation`;
    throw AppError.invalid([{ loc: ["path", "locale"], msg, type: "primary_language" }]);
  }
}

/** Each of `stored` that still translates the text it was made for, by key. */
function upToDate(stored: readonly StoredText[], nodes: readonly Node[]): Map<string, StoredText> {
  const current = new Map(textsOf(nodes).map((text) => [textKey(text), sha256(text.primary)]));
  return new Map(
    stored.filter((row) => current.get(textKey(row)) === row.source_sha256).map((row) => [textKey(row), row]),
  );
}

/** The translations of one organization's trees (the caller's transaction walls it off). */
export class TranslationStore {
  constructor(private readonly sql: Sql | TransactionSql) {}

  /** How far each locale covers the latest version's texts. */
  async list(treeId: string): Promise<TranslationSummary[]> {
    const latest = await this.latest(treeId);
    const stored = await this.sql<StoredText[]>`
      select locale, node_id, field, item_id, text, source_sha256 from tree_translations
      where tree_id = ${treeId} order by locale`;
    const texts = textsOf(latest.nodes);
    const byLocale = groupBy(stored, (row) => row.locale);
    return [...byLocale].map(([locale, rows]) => {
      const fresh = upToDate(rows, latest.nodes);
      const known = new Set(texts.map(textKey));
      return {
        locale,
        translated: fresh.size,
        outdated: rows.filter((row) => known.has(textKey(row)) && !fresh.has(textKey(row))).length,
        total: texts.length,
      };
    });
  }

  /** Every text of the latest version with its translation into `locale`. */
  async get(treeId: string, locale: string): Promise<TreeTranslation> {
    const latest = await this.latest(treeId);
    checkLocale(locale, latest.language);
    return this.translationOf(treeId, locale, latest);
  }

  /**
   * Sets the texts sent (an empty one removes its translation), each against the primary text it
   * translates now; a text the latest version lacks is a 422 at its place in the body.
   */
  async set(treeId: string, locale: string, sent: readonly TranslatedText[], author: string): Promise<TreeTranslation> {
    const latest = await this.latest(treeId, true);
    checkLocale(locale, latest.language);
    const primary = new Map(textsOf(latest.nodes).map((text) => [textKey(text), text.primary]));
    const problems: Problem[] = [];
    const seen = new Set<string>();
    sent.forEach((text, k) => {
      const key = textKey(text);
      if (!primary.has(key)) {
        const msg = `The latest version has no ${text.field} ${text.item_id ? `of ${text.item_id} ` : ""}on node ${JSON.stringify(text.node_id.slice(0, 64))}`;
        problems.push({ loc: ["body", "texts", k], msg, type: "unknown_text" });
      } else if (seen.has(key)) {
        problems.push({ loc: ["body", "texts", k], msg: "This text is named twice", type: "duplicate_text" });
      }
      seen.add(key);
    });
    if (problems.length > 0) throw AppError.invalid(problems);
    for (const text of sent) {
      const at = { tree_id: treeId, locale, node_id: text.node_id, field: text.field, item_id: text.item_id };
      if (text.text === "") {
        await this.sql`
          delete from tree_translations where tree_id = ${at.tree_id} and locale = ${locale}
            and node_id = ${at.node_id} and field = ${at.field} and item_id = ${at.item_id}`;
        continue;
      }
      const source = sha256(primary.get(textKey(text)) as string);
      await this.sql`
        insert into tree_translations (tree_id, locale, node_id, field, item_id, text, source_sha256, updated_by)
        values (${treeId}, ${locale}, ${at.node_id}, ${at.field}, ${at.item_id}, ${text.text}, ${source}, ${author})
        on conflict (org_id, tree_id, locale, node_id, field, item_id) do update set text = excluded.text,
          source_sha256 = excluded.source_sha256, updated_by = excluded.updated_by, updated_at = now()`;
    }
    return this.translationOf(treeId, locale, latest);
  }

  private async translationOf(treeId: string, locale: string, latest: LatestRow): Promise<TreeTranslation> {
    const stored = await this.sql<StoredText[]>`
      select locale, node_id, field, item_id, text, source_sha256 from tree_translations
      where tree_id = ${treeId} and locale = ${locale}`;
    const byKey = new Map(stored.map((row) => [textKey(row), row]));
    const fresh = upToDate(stored, latest.nodes);
    return {
      tree_id: treeId,
      locale,
      language: latest.language,
      version: latest.version,
      texts: textsOf(latest.nodes).map((text) => {
        const key = textKey(text);
        const translation = byKey.get(key);
        return { ...text, text: translation?.text ?? "", outdated: translation !== undefined && !fresh.has(key) };
      }),
    };
  }

  /** The tree's latest version's language and nodes; `lock` holds the tree against a new version meanwhile. */
  private async latest(treeId: string, lock = false): Promise<LatestRow> {
    if (!UUID.test(treeId)) throw notFound();
    const [row] = await this.sql<LatestRow[]>`
      select v.version, v.language, v.nodes from trees t
      join tree_versions v on v.tree_id = t.id and v.version = t.latest_version
      where t.id = ${treeId} and t.deleted_at is null ${lock ? this.sql`for update of t` : this.sql``}`;
    if (!row) throw notFound();
    return row;
  }
}

/**
 * What a version written now carries: the tree's translations up to date with its `nodes`, by
 * locale and text key (`textKey`), in the caller's transaction.
 */
export async function versionTranslations(
  tx: Sql | TransactionSql,
  treeId: string,
  nodes: readonly Node[],
): Promise<Record<string, Record<string, string>>> {
  const stored = await tx<StoredText[]>`
    select locale, node_id, field, item_id, text, source_sha256 from tree_translations where tree_id = ${treeId}`;
  const carried: Record<string, Record<string, string>> = {};
  for (const [locale, rows] of groupBy(stored, (row) => row.locale)) {
    const fresh = upToDate(rows, nodes);
    if (fresh.size > 0) carried[locale] = Object.fromEntries([...fresh].map(([key, row]) => [key, row.text]));
  }
  return carried;
}

/** PostgreSQL's text search configurations, by the language they stem. */
const TEXT_SEARCH: Record<string, string> = {
  ar: "arabic",
  hy: "armenian",
  eu: "basque",
  ca: "catalan",
  da: "danish",
  nl: "dutch",
  en: "english",
  fi: "finnish",
  fr: "french",
  de: "german",
  el: "greek",
  hi: "hindi",
  hu: "hungarian",
  id: "indonesian",
  ga: "irish",
  it: "italian",
  lt: "lithuanian",
  ne: "nepali",
  no: "norwegian",
  nb: "norwegian",
  nn: "norwegian",
  pt: "portuguese",
  ro: "romanian",
  ru: "russian",
  sr: "serbian",
  es: "spanish",
  sv: "swedish",
  ta: "tamil",
  tr: "turkish",
  yi: "yiddish",
};

/** The text search configuration that stems a locale's words (`simple`, not stemming, where Postgres has none). */
export function searchConfigOf(locale: string): string {
  return TEXT_SEARCH[locale.split("-")[0] ?? ""] ?? "simple";
}

/** The search configurations of the locales an organization's trees are translated into, besides English. */
export async function translatedSearchConfigs(sql: Sql | TransactionSql): Promise<string[]> {
  const [row] = await sql<
    { locales: string[] | null }[]
  >`select array_agg(distinct locale) as locales from tree_translations`;
  const configs = new Set((row?.locales ?? []).map(searchConfigOf));
  configs.delete("english");
  return [...configs].sort();
}

/** A version's carried translations as the sessions service reads them. */
export function asVersionTranslations(carried: Record<string, Record<string, string>>): VersionTranslation[] {
  return Object.entries(carried).map(([locale, texts]) => ({
    locale,
    texts: Object.entries(texts).map(([key, text]) => {
      const [node_id = "", field = "", item_id = ""] = key.split(":");
      return { node_id, field, item_id, text, primary: "", outdated: false };
    }),
  }));
}
