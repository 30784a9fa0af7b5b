/**
 * The gateway's API is the contract's route table (`HTTP_ROUTES`, generated from each RPC's
 * `google.api.http` and `(tdt.contract.v1.http_route)` options): every entry is served as it
 * says, and nothing else is, but for the few hand routes.
 */
import { isErrorCode } from "@tdt/proto/contracts/error-codes";
import { HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/api/openapi-document.js";

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  responses: Record<string, unknown>;
}
/** The routes written by hand: health (no RPC) and the OAuth2 password form (a second face of Login). */
const HAND_ROUTES = ["getLiveness", "getReadiness", "loginWithForm", "getTreeFormatSchema"];

let operations: Map<string, Operation & { method: string; path: string }>;

beforeAll(async () => {
  const document = (await openApiDocument()) as { paths: Record<string, Record<string, Operation>> };
  operations = new Map(
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => [
        operation.operationId,
        { ...operation, method: method.toUpperCase(), path },
      ]),
    ),
  );
});

describe("the route table", () => {
  it("is served whole: each entry at its method and path, as documented there", () => {
    for (const route of HTTP_ROUTES) {
      const operation = operations.get(route.operationId ?? route.rpc);
      expect(operation, `${route.client}.${route.rpc}`).toBeDefined();
      expect({ method: operation?.method, path: operation?.path, summary: operation?.summary }).toEqual({
        method: route.method,
        path: route.path,
        summary: route.summary,
      });
      expect(operation?.description).toBe(route.description);
      expect(Object.keys(operation?.responses ?? {})).toContain(String(route.status ?? 200));
    }
  });

  it("and nothing else is, but the hand routes", () => {
    const fromTable = HTTP_ROUTES.map((route) => route.operationId ?? route.rpc);
    expect([...operations.keys()].sort()).toEqual([...fromTable, ...HAND_ROUTES].sort());
  });

  it("names only codes of the error catalogue", () => {
    const unknown = HTTP_ROUTES.flatMap((route) => (route.errors ?? []).filter((code) => !isErrorCode(code)));
    expect(unknown).toEqual([]);
  });
});
