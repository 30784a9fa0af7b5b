import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, pageAnswer, pageOf, TOTAL_CAP, totalOf } from "../src/database/keyset.js";
import { AppError } from "../src/grpc/errors.js";

const ID = "4aa2ff7c-5236-4757-a779-bf5a98b491ff";
const AT = "2026-12-01T10:00:00.123456Z";

/** The problems of the 422 `work` throws. */
function problemsOf(work: () => unknown) {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("validation_error");
    return (error as AppError).extra.problems;
  }
  throw new Error("no error thrown");
}

describe("keyset pages", () => {
  it("read back the position a cursor was made of, microseconds kept", () => {
    expect(decodeCursor(encodeCursor({ at: AT, id: ID }))).toEqual({ at: AT, id: ID });
    expect(decodeCursor(encodeCursor({ at: AT, id: ID.toUpperCase() })).id).toBe(ID);
  });

  it("refuse anything else at query.cursor, never throwing otherwise", () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const bad = [
      "",
      "x",
      "\u0000",
      "%%%",
      forged([AT]),
      forged([AT, ID, ID]),
      forged([AT, "nope"]),
      forged(["2026-12-01T10:00:00Z", ID]),
      forged(["2026-19-01T10:00:00.000000Z", ID]),
      forged({ 0: AT, 1: ID, length: 2 }),
      forged([1, 2]),
      Buffer.from('["a"').toString("base64url"),
    ];
    for (const cursor of bad) {
      expect(problemsOf(() => decodeCursor(cursor))).toEqual([
        { loc: ["query", "cursor"], msg: expect.any(String), type: "cursor" },
      ]);
    }
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: i % 64 }, () => Math.floor(Math.random() * 256))).toString(
        "base64url",
      );
      expect(() => decodeCursor(junk)).toThrow(AppError);
    }
  });

  it("take a limit within 1..100, and a cursor or a skip but not both", () => {
    expect(pageOf({ limit: 0 })).toEqual({ skip: 0, limit: 50 });
    expect(pageOf({ limit: 0 }, 20)).toEqual({ skip: 0, limit: 20 });
    expect(pageOf({ limit: 500, skip: -3 })).toEqual({ skip: 0, limit: 100 });
    expect(pageOf({ limit: 10, skip: 30 })).toEqual({ skip: 30, limit: 10 });
    expect(pageOf({ limit: 10, cursor: encodeCursor({ at: AT, id: ID }) })).toEqual({
      skip: 0,
      limit: 10,
      after: { at: AT, id: ID },
    });
    expect(problemsOf(() => pageOf({ limit: 10, skip: 1, cursor: encodeCursor({ at: AT, id: ID }) }))).toEqual([
      { loc: ["query", "skip"], msg: expect.any(String), type: "cursor" },
    ]);
  });

  it("give the next cursor only when a row past the page was read", () => {
    const rows = [1, 2, 3].map((n) => ({ sort_at: AT, sort_id: `${ID.slice(0, -1)}${n}` }));
    const full = pageAnswer(rows, 2);
    expect(full.rows).toEqual(rows.slice(0, 2));
    expect(decodeCursor(full.nextCursor)).toEqual({ at: AT, id: rows[1]?.sort_id });
    expect(pageAnswer(rows, 3)).toEqual({ rows, nextCursor: "" });
    expect(pageAnswer([], 3)).toEqual({ rows: [], nextCursor: "" });
  });

  it("count exactly up to the cap, and say when it stopped", () => {
    expect(totalOf(0)).toEqual({ total: 0, total_capped: false });
    expect(totalOf(TOTAL_CAP)).toEqual({ total: TOTAL_CAP, total_capped: false });
    expect(totalOf(TOTAL_CAP + 1)).toEqual({ total: TOTAL_CAP, total_capped: true });
  });
});
