/**
 * The trees service's outcomes are the contract's (tdt.trees.v1.Outcome and its `solution`
 * subset): a solution's outcome is checked as it always was, the analytics count each outcome
 * with a `group by`, and a contract with two outcomes more changes both with no other edit.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createLogger, migrate, type Sql } from "@tdt/kit";
import { undoContract, withMoreOutcomes } from "@tdt/test-support/contract";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

afterEach(undoContract);

/** The problems of the printer tree whose solution `toner` concludes `outcome`. */
async function problemsWith(outcome: string) {
  const { validateTree } = await import("../src/validation.js");
  const tree = printerTree();
  const at = tree.nodes.findIndex((node) => node.id === "toner");
  tree.nodes[at] = { ...tree.nodes[at], outcome } as (typeof tree.nodes)[number];
  return { at, problems: validateTree(tree as never) };
}

describe("a solution's outcome", () => {
  it("is one of the contract's solution outcomes, refused as it always was", async () => {
    for (const outcome of ["resolved", "escalated"]) expect((await problemsWith(outcome)).problems).toEqual([]);
    for (const outcome of ["unresolved", "escalate", "fixed"]) {
      const { at, problems } = await problemsWith(outcome);
      expect(problems).toEqual([
        { loc: ["body", "nodes", at, "outcome"], msg: "Must be one of: resolved, escalated", type: "enum" },
      ]);
    }
  });

  it("follows the contract: a new solution outcome is taken, one only a technician gives is not", async () => {
    await withMoreOutcomes();
    expect((await problemsWith("workaround")).problems).toEqual([]);
    expect((await problemsWith("deferred")).problems).toEqual([
      expect.objectContaining({ msg: "Must be one of: resolved, escalated, workaround", type: "enum" }),
    ]);
  });
});

describe("the analytics' counts by outcome", () => {
  let database: { name: string; url: string };
  let sql: Sql;
  const treeId = randomUUID();

  beforeAll(async () => {
    database = await createDatabase("outcomes");
    sql = connect(database.url);
    await migrate(sql, fileURLToPath(new URL("../migrations", import.meta.url)), createLogger("trees", "silent"));
    const session = (status: string, outcome: string | null) => ({
      session_id: randomUUID(),
      tree_id: treeId,
      tree_version: 1,
      started_at: new Date(),
      status,
      outcome,
    });
    await sql`insert into analytics_sessions ${sql([
      session("completed", "resolved"),
      session("completed", "resolved"),
      session("completed", "escalated"),
      session("completed", "deferred"),
      session("abandoned", null),
      session("in_progress", null),
    ])}`;
  });

  afterAll(async () => {
    await sql?.end();
    if (database) await dropDatabase(database.name);
  });

  const sessionsNow = async () => {
    const { readAnalytics } = await import("../src/analytics.js");
    return (await readAnalytics(sql, { treeId })).sessions;
  };

  it("count every outcome of the contract in its order, and still fill the deprecated fields", async () => {
    expect(await sessionsNow()).toEqual({
      started: 6,
      completed: 4,
      abandoned: 1,
      outcomes: [
        { outcome: "resolved", count: 2 },
        { outcome: "unresolved", count: 0 },
        { outcome: "escalated", count: 1 },
      ],
      resolved: 2,
      unresolved: 0,
      escalated: 1,
    });
  });

  it("follow the contract: a new outcome is counted", async () => {
    await withMoreOutcomes();
    expect((await sessionsNow())?.outcomes).toEqual([
      { outcome: "resolved", count: 2 },
      { outcome: "unresolved", count: 0 },
      { outcome: "escalated", count: 1 },
      { outcome: "workaround", count: 0 },
      { outcome: "deferred", count: 1 },
    ]);
  });
});
