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
  it("is one of the contract's solution outcomes; another is refused as it always was", async () => {
    const { OUTCOMES, SOLUTION_OUTCOMES } = await import("@tdt/proto/contracts/outcomes");
    for (const outcome of SOLUTION_OUTCOMES) expect((await problemsWith(outcome)).problems).toEqual([]);
    for (const outcome of [...OUTCOMES.filter((one) => !SOLUTION_OUTCOMES.includes(one)), "escalate", "fixed"]) {
      const { at, problems } = await problemsWith(outcome);
      // "Must be one of: resolved, escalated" with today's contract.
      const msg = `Must be one of: ${SOLUTION_OUTCOMES.join(", ")}`;
      expect(problems).toEqual([{ loc: ["body", "nodes", at, "outcome"], msg, type: "enum" }]);
    }
  });

  it("follows the contract: a new solution outcome is taken, one only a technician gives is not", async () => {
    await withMoreOutcomes();
    expect((await problemsWith("fake_workaround")).problems).toEqual([]);
    expect((await problemsWith("fake_deferred")).problems).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/^Must be one of: .*, fake_workaround$/), type: "enum" }),
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
      session("completed", "fake_deferred"),
      session("abandoned", null),
      session("in_progress", null),
    ])}`;
    // What the consumer adds to the per-tree aggregates as it writes these rows (migration 0015).
    await sql`select analytics_rollup_add(array(select session_id from analytics_sessions), 1)`;
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
    const { OUTCOMES } = await import("@tdt/proto/contracts/outcomes");
    const counted: Record<string, number> = { resolved: 2, escalated: 1 };
    expect(await sessionsNow()).toEqual({
      started: 6,
      completed: 4,
      abandoned: 1,
      outcomes: OUTCOMES.map((outcome) => ({ outcome, count: counted[outcome] ?? 0 })),
      resolved: 2,
      unresolved: 0,
      escalated: 1,
    });
  });

  it("follow the contract: a new outcome is counted", async () => {
    await withMoreOutcomes();
    const outcomes = (await sessionsNow())?.outcomes ?? [];
    expect(outcomes.slice(-2)).toEqual([
      { outcome: "fake_workaround", count: 0 },
      { outcome: "fake_deferred", count: 1 },
    ]);
  });
});
