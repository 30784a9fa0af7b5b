/**
 * Which operations of the OpenAPI document a program called: an openapi-fetch middleware
 * records the method and path template (`GET /api/v1/trees/{id}`) of each call that was
 * answered, and `operationsOf` lists the operations a document has, to compare with.
 */
import type { Middleware } from "@tdt/api-client";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** `GET /api/v1/trees/{id}`: how an operation is named here. */
export type OperationName = `${Uppercase<(typeof METHODS)[number]>} ${string}`;

export interface OperationCoverage {
  /** Add to every client: `client.use(coverage.middleware)`. */
  middleware: Middleware;
  called(): ReadonlySet<OperationName>;
}

export function operationCoverage(): OperationCoverage {
  const called = new Set<OperationName>();
  return {
    middleware: {
      onResponse({ request, schemaPath }) {
        called.add(`${request.method.toUpperCase()} ${schemaPath}` as OperationName);
      },
    },
    called: () => called,
  };
}

/** Every operation an OpenAPI document (as read from the network) lists, in its order. */
export function operationsOf(document: unknown): OperationName[] {
  const paths = (document as { paths?: Record<string, Record<string, unknown>> } | null)?.paths ?? {};
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map(
      (method) => `${method.toUpperCase()} ${path}` as OperationName,
    ),
  );
}
