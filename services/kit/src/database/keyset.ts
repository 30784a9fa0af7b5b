/**
 * Pages of a list at any depth (docs/decisions/scale.md, "Lists at any depth"): a page starts
 * after the last row of the one before, named by its sort key (a time and an id), so the
 * thousandth page costs what the first does. An offset (`skip`) still works, and reads every row
 * it skips.
 *
 * The cursor is opaque to clients: base64url of `[time, id]`, the time as the database keeps it
 * (microseconds, UTC). It is not signed: it only says where to start within what the caller may
 * see anyway (the organization's wall and the audience's filters apply to every page), so a
 * forged one can position a page, never widen it.
 */

import type { PendingQuery, Row as SqlRow } from "postgres";
import { AppError } from "../grpc/errors.js";
import { UUID_PATTERN } from "../grpc/request-checks.js";
import type { Sql, TransactionSql } from "./connection.js";

/** Either a pool or a transaction: both build fragments alike. */
type Query = Sql | TransactionSql;

/** Counting stops here: past it a list's `total` is this and `total_capped` says so. */
export const TOTAL_CAP = 10_000;

/** Where a page starts: after the row with this sort key. */
export interface Position {
  /** A UTC timestamp with microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  at: string;
  id: string;
}

export interface Page {
  skip: number;
  limit: number;
  after?: Position | undefined;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString("base64url");
}

/** The position a cursor names, or a 422 at `query.cursor`. */
export function decodeCursor(cursor: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === "string" &&
    typeof parsed[1] === "string" &&
    TIMESTAMP.test(parsed[0]) &&
    !Number.isNaN(Date.parse(parsed[0])) &&
    UUID_PATTERN.test(parsed[1])
  ) {
    return { at: parsed[0], id: parsed[1].toLowerCase() };
  }
  throw AppError.invalid([
    { loc: ["query", "cursor"], msg: "Not a cursor this list gave: start again without one", type: "cursor" },
  ]);
}

/**
 * The page a list request asks for: `limit` within 1..100 (0 is `defaultLimit`), and either
 * `skip` or `cursor` (both at once is a 422: they say two different places to start).
 */
export function pageOf(request: { skip?: number; limit: number; cursor?: string }, defaultLimit = 50): Page {
  const limit = Math.min(Math.max(request.limit || defaultLimit, 1), 100);
  const skip = Math.max(0, request.skip || 0);
  if (!request.cursor) return { skip, limit };
  if (skip > 0) {
    throw AppError.invalid([
      { loc: ["query", "skip"], msg: "A page starts at its cursor or after skip rows, not both", type: "cursor" },
    ]);
  }
  return { skip: 0, limit, after: decodeCursor(request.cursor) };
}

/** A row's sort time as a position keeps it: microseconds, UTC. */
export const sortTime = (sql: Query, column: string) =>
  sql`to_char(${sql.unsafe(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The rows after `position` in the order `time desc, id` (newest first, ties by id), as a
 * condition that leaves the time's index a bound to start from.
 */
export function after(sql: Query, timeColumn: string, idColumn: string, position: Position | undefined) {
  if (!position) return sql``;
  const time = sql.unsafe(timeColumn);
  const id = sql.unsafe(idColumn);
  // Sent as text: postgres.js would send a timestamptz parameter through a Date, dropping the
  // microseconds a position keeps.
  const at = sql`${position.at}::text::timestamptz`;
  return sql`and ${time} <= ${at} and (${time} < ${at} or ${id} > ${position.id}::uuid)`;
}

/**
 * A list's answer from rows fetched one past the page (`limit + 1`): the page, and the cursor of
 * the next one when there is more.
 */
export function pageAnswer<Row extends { sort_at: string; sort_id: string }>(
  rows: Row[],
  limit: number,
): { rows: Row[]; nextCursor: string } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.sort_at, id: last.sort_id }) : "",
  };
}

/** `select count(*)` of a list's rows, stopping at TOTAL_CAP + 1. */
export function cappedCount(sql: Query, rows: PendingQuery<SqlRow[]>) {
  return sql`select count(*)::int as n from (${rows} limit ${TOTAL_CAP + 1}) counted`;
}

/** A counted total as a list answers it. */
export function totalOf(counted: number): { total: number; total_capped: boolean } {
  return counted > TOTAL_CAP ? { total: TOTAL_CAP, total_capped: true } : { total: counted, total_capped: false };
}
