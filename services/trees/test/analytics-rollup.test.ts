/**
 * The per-tree aggregates of the analytics (issue 31, migration 0015), on a real PostgreSQL as the
 * service's role behind the wall: whatever order the events come in, twice or not, in batches of
 * any size and from writers racing each other, the analytics read from the aggregates equal those
 * counted from the projection's rows (a time range that holds everything), percentiles within
 * their buckets' 2.5 %.
 */
import { inOrganization, inTransaction } from "@tdt/kit";
import type { GetTreeAnalyticsResponse } from "@tdt/proto/tdt/trees/v1/trees";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyBatch, percentiles, readAnalytics } from "../src/analytics.js";
import { type GeneratedStream, generateSessions, type TreesDatabase, treesDatabase } from "./support/session-stream.js";

let database: TreesDatabase;

beforeAll(async () => {
  database = await treesDatabase("analytics_rollup");
});

afterAll(async () => {
  await database?.drop();
});

/** A deterministic shuffle within windows of `window` events: late and early events, as redeliveries make them. */
function disorder<T>(items: T[], window: number, seed: number): T[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const out = [...items];
  for (let index = 0; index < out.length; index++) {
    const other = Math.min(out.length - 1, index + Math.floor(next() * window));
    [out[index], out[other]] = [out[other] as T, out[index] as T];
  }
  return out;
}

/** Applies `events` by `writers` racing writers, each taking the next batch (1 to 40 events) as it is free. */
async function applyRacing(events: GeneratedStream["events"], writers: number): Promise<void> {
  const batches: Array<GeneratedStream["events"]> = [];
  for (let index = 0, size = 1; index < events.length; index += size, size = 1 + ((size * 7) % 40)) {
    batches.push(events.slice(index, index + size));
  }
  let taken = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (taken < batches.length) {
        const batch = batches[taken++] as GeneratedStream["events"];
        await inTransaction(database.app, (tx) =>
          applyBatch(
            tx,
            batch.map(({ item, organization }) => [item, { organization }]),
          ),
        );
      }
    }),
  );
}

/** The answer with its percentiles set apart, to compare the rest exactly. */
function split(answer: GetTreeAnalyticsResponse) {
  const times = answer.nodes.map((node) => [node.node_id, node.time_ms?.median ?? 0, node.time_ms?.p90 ?? 0] as const);
  return {
    exact: {
      ...answer,
      duration_ms: undefined,
      nodes: answer.nodes.map((node) => ({ ...node, time_ms: undefined })),
    },
    percentiles: [["duration", answer.duration_ms?.median ?? 0, answer.duration_ms?.p90 ?? 0] as const, ...times],
  };
}

function expectSameAnalytics(fromAggregates: GetTreeAnalyticsResponse, counted: GetTreeAnalyticsResponse) {
  const ours = split(fromAggregates);
  const theirs = split(counted);
  expect(ours.exact).toEqual(theirs.exact);
  expect(ours.percentiles.map(([what]) => what)).toEqual(theirs.percentiles.map(([what]) => what));
  for (const [index, [what, median, p90]] of ours.percentiles.entries()) {
    const [, exactMedian, exactP90] = theirs.percentiles[index] as readonly [string, number, number];
    // Within the bucket's half width (2.5 %), and a millisecond of rounding.
    expect(Math.abs(median - exactMedian), `${what} median`).toBeLessThanOrEqual(exactMedian * 0.025 + 1);
    expect(Math.abs(p90 - exactP90), `${what} p90`).toBeLessThanOrEqual(exactP90 * 0.025 + 1);
  }
}

describe("the per-tree aggregates", () => {
  it("answer what the projection's rows say: events disordered, twice, across midnight, by 3 racing writers", async () => {
    // Sessions a second apart from 23:50 UTC: some start one day and walk into the next, and a step
    // that comes before its session's start moves the session's day when the start comes.
    const { trees, events } = generateSessions(6_000, 15, Date.UTC(2026, 10, 1, 23, 50));
    const shuffled = disorder(events, 30, 7);
    // A tenth of them again, later (a redelivery under another message id).
    const again = shuffled.filter((_, index) => index % 10 === 3);
    await applyRacing([...shuffled, ...again], 3);
    let compared = 0;
    for (const tree of trees) {
      await inOrganization(database.app, tree.organization, async (inOrg) => {
        // As the service hands its stores a transaction of the caller's organization.
        const tx = inOrg as unknown as Sql;
        for (const version of [undefined, 1, 2, 3]) {
          const fromAggregates = await readAnalytics(tx, { treeId: tree.id, version });
          const counted = await readAnalytics(tx, { treeId: tree.id, version, from: new Date(0) });
          expectSameAnalytics(fromAggregates, counted);
          if ((counted.sessions?.started ?? 0) > 0) compared += 1;
        }
      });
    }
    expect(compared).toBeGreaterThan(24);
    // Across midnight: the sessions of a busy tree are counted on two days.
    const days = await inOrganization(database.app, trees[0]?.organization as string, (tx) =>
      readAnalytics(tx as unknown as Sql, { treeId: trees[0]?.id as string }),
    );
    expect(days.days.map(({ day }) => day)).toEqual(["2026-11-01", "2026-11-02"]);
  }, 120_000);
});

describe("percentiles of a histogram", () => {
  const histogram = (values: number[]): Array<[number, number]> => {
    const counts = new Map<number, number>();
    for (const value of values) {
      const bucket = Math.floor(Math.log(value + 1) / Math.log(1.05));
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
    return [...counts];
  };

  it("are exact for small whole numbers, interpolated as percentile_cont does", () => {
    expect(percentiles(histogram([1, 2, 3, 4]), [0.5, 0.9])).toEqual([2.5, 3.7]);
    expect(percentiles(histogram([0, 0, 7]), [0.5])).toEqual([0]);
  });

  it("are within 2.5 % of the values' above that, and undefined for none", () => {
    const values = Array.from({ length: 1000 }, (_, index) => 1000 + index * 997);
    const [median, p90] = percentiles(histogram(values), [0.5, 0.9]) as [number, number];
    const exact = (p: number) => {
      const rank = p * (values.length - 1);
      const low = values[Math.floor(rank)] as number;
      return low + (rank - Math.floor(rank)) * ((values[Math.ceil(rank)] as number) - low);
    };
    expect(Math.abs(median - exact(0.5)) / exact(0.5)).toBeLessThan(0.025);
    expect(Math.abs(p90 - exact(0.9)) / exact(0.9)).toBeLessThan(0.025);
    expect(percentiles([], [0.5])).toEqual([undefined]);
  });
});
