import { queryDatabase, type System, startSystem } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let system: System;

beforeAll(async () => {
  system = await startSystem();
});

afterAll(async () => {
  await system?.stop();
});

describe("the platform, as real processes", () => {
  it("is ready with every service SERVING over grpc.health.v1", async () => {
    const response = await fetch(`${system.url}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ready",
      services: { auth: "SERVING", trees: "SERVING", sessions: "SERVING", hooks: "SERVING" },
    });
  });

  it("gives each service its own migrated database", async () => {
    for (const db of Object.values(system.databases)) {
      const [row] = await queryDatabase(db.url, (sql) => sql`select to_regclass('schema_migrations') as table`);
      expect(row?.table).toBe("schema_migrations");
    }
  });

  it("logs one JSON line per request with the caller's request id", async () => {
    const response = await fetch(`${system.url}/health`, { headers: { "x-request-id": "system-test-42" } });
    expect(response.headers.get("x-request-id")).toBe("system-test-42");
    await expect
      .poll(() => system.logs.find((entry) => entry.line.request_id === "system-test-42"))
      .toMatchObject({ service: "gateway", line: { url: "/health", status: 200 } });
    expect(system.logs.filter((entry) => entry.line.unparsed)).toEqual([]);
  });

  it("answers bad input as JSON with the right codes", async () => {
    const malformed = await fetch(`${system.url}/api/v1/auth/login/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{oops",
    });
    expect([400, 404]).toContain(malformed.status);
    expect(await malformed.json()).toHaveProperty("detail");
    const unknown = await fetch(`${system.url}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "not_found" });
  });

  it("stays ready, degraded, when a service stops, and that service exits cleanly on SIGTERM", async () => {
    const trees = system.stack.processes.get("trees");
    const exited = new Promise<number | null>((resolve) => trees?.once("exit", (code) => resolve(code)));
    trees?.kill("SIGTERM");
    expect(await exited).toBe(0);
    const response = await fetch(`${system.url}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "degraded",
      services: { trees: "NOT_SERVING", auth: "SERVING" },
    });
  });
});
