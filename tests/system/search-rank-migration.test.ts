/**
 * Migrations 0003 and 0004 of trees on a database that already holds versions: every stored
 * version gets its ranking vector (title A, category and tags B, description C, no node text),
 * its matching vector is left as it was, and the listing's newest-first index exists.
 */
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, describe, expect, it } from "vitest";

const log = testLogger("search-rank-migration");
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const MIGRATIONS = join(process.cwd(), "services", "trees", "migrations");

/** A trees database migrated up to, not including, `before`; the rest applied by `upgrade`. */
async function migratedUntil(before: string) {
  const database = await createDatabase("trees_rank");
  const sql = connect(database.url);
  cleanups.push(
    () => dropDatabase(database.name),
    () => sql.end(),
  );
  const earlier = await mkdtemp(join(tmpdir(), "earlier-migrations-"));
  cleanups.push(() => rm(earlier, { recursive: true, force: true }));
  for (const name of (await readdir(MIGRATIONS)).filter((name) => name < before)) {
    await copyFile(join(MIGRATIONS, name), join(earlier, name));
  }
  await migrate(sql, earlier, log);
  return { sql, upgrade: () => migrate(sql, MIGRATIONS, log) };
}

describe("the search ranking migration", () => {
  it("backfills every version's ranking vector from its title, category, tags and description", async () => {
    const { sql, upgrade } = await migratedUntil("0003");
    const id = "4b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10";
    await sql`insert into trees (id, created_by, latest_version, published_version) values (${id}, ${id}, 2, 1)`;
    for (const version of [1, 2]) {
      await sql`insert into tree_versions (tree_id, version, title, description, category, tags, status,
          root_node_id, change_note, nodes, node_count, created_by, search)
        values (${id}, ${version}, ${`Zephyrine jams ${version}`}, 'Feeds crooked sheets', 'Scanners',
          '{office,duplex}', 'published', 'q', '', ${sql.json([{ id: "q", title: "Quokka", body: "" }])}, 1, ${id},
          to_tsvector('english', 'everything searchable quokka'))`;
    }

    expect(await upgrade()).toEqual(expect.arrayContaining(["0003_listing_order.sql", "0004_search_rank_vector.sql"]));

    const rows = await sql<{ version: number; rank_vector: string; search: string }[]>`
      select version, rank_vector::text, search::text from tree_versions order by version`;
    expect(rows.map((row) => row.version)).toEqual([1, 2]);
    for (const row of rows) {
      expect(row.rank_vector).toContain("'zephyrin':1A");
      expect(row.rank_vector).toContain(`'${row.version}':3A`);
      expect(row.rank_vector).toMatch(/'scanner':\d+B/);
      expect(row.rank_vector).toMatch(/'duplex':\d+B/);
      expect(row.rank_vector).toMatch(/'crook':\d+C/);
      expect(row.rank_vector).not.toContain("quokka");
      expect(row.search).toBe("'everyth':1 'quokka':3 'searchabl':2");
    }
    const [index] = await sql`select 1 from pg_indexes where indexname = 'tree_versions_newest'`;
    expect(index).toBeDefined();
    await expect(
      sql`insert into tree_versions (tree_id, version, title, description, category, tags, status,
          root_node_id, change_note, nodes, node_count, created_by, search)
        values (${id}, 3, 'T', '', 'C', '{}', 'draft', 'q', '', '[]', 0, ${id}, to_tsvector('simple', 'T'))`,
    ).rejects.toThrow(/rank_vector/);
  });
});
