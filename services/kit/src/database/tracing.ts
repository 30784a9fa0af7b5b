import type { Sql } from "postgres";
import { context, failed, SpanKind, trace, tracer } from "../observability/tracing.js";

type Thenable = { then: (...callbacks: unknown[]) => Promise<unknown> };

/**
 * The pool with a CLIENT span per statement, named by its operation and database
 * ("SELECT tdt_trees"), never with its parameters or text. postgres.js has no hooks: a query is
 * a lazy thenable that runs when first awaited, and a fragment (a query inside another) is never
 * awaited, so the span starts at the first `then` and ends when the statement settles. Queries in
 * transactions (`begin`) are traced the same way; cursors and `forEach` are not.
 */
export function tracedSql(sql: Sql, database: string): Sql {
  const traced = <F extends object>(target: F): F =>
    new Proxy(target, {
      apply: (fn, self, args) => traceQuery(Reflect.apply(fn as never, self, args), operationOf(args[0]), database),
      get: (fn, property) => {
        const value = Reflect.get(fn, property);
        if (property === "unsafe") {
          return (text: string, ...rest: unknown[]) =>
            traceQuery((value as (...a: unknown[]) => unknown)(text, ...rest), operationOf([text]), database);
        }
        if (property === "begin") {
          return (...args: unknown[]) => {
            const work = args.at(-1) as (tx: object) => unknown;
            return (value as (...a: unknown[]) => unknown)(...args.slice(0, -1), (tx: object) => work(traced(tx)));
          };
        }
        return typeof value === "function" ? value.bind(fn) : value;
      },
    });
  return traced(sql);
}

/** The statement's first keyword: SELECT, INSERT, UPDATE, DELETE, WITH, ... */
function operationOf(first: unknown): string {
  const text = Array.isArray(first) ? String(first[0] ?? "") : "";
  return /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? "QUERY";
}

function traceQuery(query: unknown, operation: string, database: string): unknown {
  if (typeof (query as Thenable | undefined)?.then !== "function") return query;
  const thenable = query as Thenable;
  const run = thenable.then;
  let settled: Promise<unknown> | undefined;
  // A query's `then` is what runs it (see above): this one runs it once, inside its span.
  // biome-ignore lint/suspicious/noThenProperty: wrapping postgres.js's own thenable on purpose
  thenable.then = function (this: Thenable, ...callbacks: unknown[]) {
    settled ??= (() => {
      const span = tracer().startSpan(
        `${operation} ${database}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { "db.system.name": "postgresql", "db.operation.name": operation, "db.namespace": database },
        },
        context.active(),
      );
      return context.with(trace.setSpan(context.active(), span), () =>
        run.call(
          this,
          (rows: unknown) => {
            span.end();
            return rows;
          },
          (error: unknown) => {
            failed(span, error);
            span.end();
            throw error;
          },
        ),
      );
    })();
    return settled.then(...(callbacks as [never, never]));
  };
  return query;
}
