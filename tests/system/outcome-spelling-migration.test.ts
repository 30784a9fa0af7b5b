/**
 * Migrations 0002 of trees and sessions: stored trees and the sessions' copies of them spell a
 * solution's outcome `escalated` afterwards, every other node and field as it was.
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, describe, expect, it } from "vitest";

const log = testLogger("outcome-spelling-migration");
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const NODES = [
  { id: "q", type: "question", title: "Q?", body: "", options: [{ id: "a", label: "A", next: "e" }] },
  { id: "e", type: "solution", title: "Repair", body: "", outcome: "escalate" },
  { id: "r", type: "solution", title: "Fixed", body: "", outcome: "resolved" },
];
const MIGRATED = NODES.map((node) => (node.outcome === "escalate" ? { ...node, outcome: "escalated" } : node));

/** A database with the service's first migration only, the full set applied by `upgrade`. */
async function atFirstMigration(service: "trees" | "sessions", first: string) {
  const database = await createDatabase(`${service}_spelling`);
  const sql = connect(database.url);
  cleanups.push(
    () => dropDatabase(database.name),
    () => sql.end(),
  );
  const all = join(process.cwd(), "services", service, "migrations");
  const onlyFirst = await mkdtemp(join(tmpdir(), "first-migration-"));
  cleanups.push(() => rm(onlyFirst, { recursive: true, force: true }));
  await copyFile(join(all, first), join(onlyFirst, first));
  await migrate(sql, onlyFirst, log);
  return { sql, upgrade: () => migrate(sql, all, log) };
}

describe("the outcome spelling migrations", () => {
  it("trees: rewrites `escalate` in every stored version, in node order, and leaves other versions alone", async () => {
    const { sql, upgrade } = await atFirstMigration("trees", "0001_trees.sql");
    const id = "4b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10";
    const other = "5b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10";
    await sql`insert into trees (id, created_by, latest_version) values (${id}, ${id}, 1), (${other}, ${id}, 1)`;
    const untouched = [NODES[0], NODES[2]];
    for (const [treeId, nodes] of [
      [id, NODES],
      [other, untouched],
    ] as const) {
      await sql`insert into tree_versions (tree_id, version, title, description, category, tags, status,
          root_node_id, change_note, nodes, node_count, created_by, search)
        values (${treeId}, 1, 'T', '', 'C', '{}', 'published', 'q', '', ${sql.json(nodes)}, ${nodes.length},
          ${id}, to_tsvector('simple', 'T'))`;
    }
    expect(await upgrade()).toContain("0002_outcome_spelling.sql");
    const rows = await sql<{ tree_id: string; nodes: unknown }[]>`select tree_id, nodes from tree_versions`;
    expect(rows.find((row) => row.tree_id === id)?.nodes).toEqual(MIGRATED);
    expect(rows.find((row) => row.tree_id === other)?.nodes).toEqual(untouched);
  });

  it("sessions: rewrites `escalate` in the tree copies sessions run on, the rest of each document kept", async () => {
    const { sql, upgrade } = await atFirstMigration("sessions", "0001_sessions.sql");
    const document = { id: "t", version: 1, title: "T", root_node_id: "q", nodes: NODES };
    await sql`insert into tree_snapshots (tree_id, version, document)
      values ('4b0c8c1e-6f1e-4f61-9a43-2a3c1f7e9b10', 1, ${sql.json(document)})`;
    expect(await upgrade()).toContain("0002_outcome_spelling.sql");
    const [row] = await sql<{ document: unknown }[]>`select document from tree_snapshots`;
    expect(row?.document).toEqual({ ...document, nodes: MIGRATED });
  });
});
