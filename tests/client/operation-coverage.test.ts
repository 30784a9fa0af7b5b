import { createApiClient } from "@tdt/api-client";
import { describe, expect, it } from "vitest";
import { operationCoverage, operationsOf } from "./operation-coverage.js";

/** Answers every request with this status and no network: what the middleware sees is the point. */
function answering(status: number) {
  return async () =>
    new Response(status === 204 ? null : "{}", { status, headers: { "content-type": "application/json" } });
}

describe("operation coverage", () => {
  it("records the method and path template of each answered call, whatever its status", async () => {
    const coverage = operationCoverage();
    const client = createApiClient({ baseUrl: "http://gateway.invalid", fetch: answering(404) });
    client.use(coverage.middleware);
    await client.GET("/api/v1/trees/{id}", { params: { path: { id: "7c9e6679-7425-40de-944b-e07fc1f90ae7" } } });
    await client.DELETE("/api/v1/auth/sessions/{sid}", { params: { path: { sid: "s" } } });
    await client.GET("/api/v1/trees/{id}", { params: { path: { id: "another" } } });
    expect([...coverage.called()]).toEqual(["GET /api/v1/trees/{id}", "DELETE /api/v1/auth/sessions/{sid}"]);
  });

  it("does not count a call that was never answered", async () => {
    const coverage = operationCoverage();
    const unreachable = async (): Promise<Response> => {
      throw new TypeError("fetch failed");
    };
    const client = createApiClient({ baseUrl: "http://gateway.invalid", fetch: unreachable });
    client.use(coverage.middleware);
    await expect(client.GET("/health")).rejects.toThrow("fetch failed");
    expect(coverage.called().size).toBe(0);
  });

  it("lists every operation of a document, and nothing from a document without paths", () => {
    const document = {
      openapi: "3.1.0",
      paths: {
        "/api/v1/trees/{id}": { parameters: [], get: {}, put: {}, delete: {}, summary: "A tree" },
        "/health": { get: {} },
      },
    };
    expect(operationsOf(document)).toEqual([
      "GET /api/v1/trees/{id}",
      "PUT /api/v1/trees/{id}",
      "DELETE /api/v1/trees/{id}",
      "GET /health",
    ]);
    expect(operationsOf({ openapi: "3.1.0" })).toEqual([]);
    expect(operationsOf(null)).toEqual([]);
  });
});
