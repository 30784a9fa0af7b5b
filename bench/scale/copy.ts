/**
 * Streaming rows into Postgres with COPY (text format), with backpressure: rows are buffered in
 * chunks of about 256 KB and the generator waits whenever the connection's stream is full, so
 * nothing is held beyond a chunk per table.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Sql } from "postgres";

export type Cell = string | number | boolean | null | undefined;

/** A value as COPY's text format reads it: `\N` for null; backslash, tab and line ends escaped. */
export function field(value: Cell): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, escapeChar) : value;
}
const escapeChar = (c: string) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r");

/** A text[] literal: every element double-quoted, `"` and `\` escaped inside. */
export function textArray(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(",")}}`;
}

export const json = (value: unknown) => JSON.stringify(value);

export class CopyStream {
  private chunk: string[] = [];
  private size = 0;
  rows = 0;
  private constructor(
    readonly table: string,
    private readonly stream: Writable,
  ) {}

  static async open(sql: Sql, table: string, columns: readonly string[]): Promise<CopyStream> {
    const stream = await sql.unsafe(`copy ${table} (${columns.join(", ")}) from stdin`).writable();
    return new CopyStream(table, stream);
  }

  /** Adds a row; waits when the connection is behind. */
  async row(values: readonly Cell[]): Promise<void> {
    const line = `${values.map(field).join("\t")}\n`;
    this.chunk.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size >= 256 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const data = this.chunk.join("");
    this.chunk = [];
    this.size = 0;
    if (!this.stream.write(data)) await once(this.stream, "drain");
  }

  async end(): Promise<void> {
    await this.flush();
    const finished = new Promise<void>((resolve, reject) => {
      this.stream.once("finish", () => resolve());
      this.stream.once("error", reject);
    });
    this.stream.end();
    await finished;
  }
}
