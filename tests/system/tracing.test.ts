/**
 * Issue 13's traces with real processes exporting OTLP (http/json) to a receiver in this test:
 * one trace from the caller's `traceparent` through the gateway, the gRPC hop and the service to
 * its Postgres statements; a logout's event carrying its trace across NATS to the consumers; and
 * the trace id in the log lines of the request.
 */
import { type ReceivedSpan, startOtlpReceiver } from "@tdt/test-support/otlp-receiver";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

let running: SystemWithAdmin;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

/** A W3C traceparent of a new trace: its trace id and the caller's span id. */
function newTraceparent(): { header: string; traceId: string; parentId: string } {
  const hex = (bytes: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  const traceId = hex(16);
  const parentId = hex(8);
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

const ofTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  running = await startSystemWithAdmin({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
  });
});

afterAll(async () => {
  await running?.stop();
  await receiver?.close();
});

describe("traces", () => {
  it("one trace covers the gateway, the gRPC call, the trees service and its Postgres statements", async () => {
    const { client, admin } = running;
    const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: admin, json: printerTree() });
    expect(tree.status).toBe(201);
    const caller = newTraceparent();
    // The first read of a new version: the gateway's cache misses, the trees service answers.
    const read = await client.call("GET", `/api/v1/trees/${tree.body.id}`, {
      token: admin,
      headers: { traceparent: caller.header },
    });
    expect(read.status).toBe(200);

    const find = (predicate: (span: ReceivedSpan) => boolean) => ofTrace(caller.traceId).find(predicate);
    // Each process exports its spans in its own batches, and one process's spans of the request
    // may span two batches (its statements end before its server span): wait for every span
    // asserted below.
    await expect
      .poll(
        () =>
          find((span) => span.service === "tdt-trees" && span.attributes["db.system.name"] === "postgresql") &&
          find((span) => span.service === "tdt-trees" && span.kind === SERVER) &&
          find((span) => span.service === "tdt-gateway" && span.kind === CLIENT) &&
          find((span) => span.service === "tdt-gateway" && span.kind === SERVER),
        { timeout: 15_000 },
      )
      .toBeDefined();
    const http = find((span) => span.service === "tdt-gateway" && span.kind === SERVER);
    expect(http?.name).toBe("GET /api/v1/trees/:id");
    expect(http?.parentSpanId).toBe(caller.parentId);
    expect(http?.attributes["http.response.status_code"]).toBe(200);
    const call = find((span) => span.service === "tdt-gateway" && span.kind === CLIENT);
    expect(call?.name).toBe("tdt.trees.v1.TreesService/GetTree");
    expect(call?.parentSpanId).toBe(http?.spanId);
    const served = find((span) => span.service === "tdt-trees" && span.kind === SERVER);
    expect(served?.name).toBe("tdt.trees.v1.TreesService/GetTree");
    expect(served?.parentSpanId).toBe(call?.spanId);
    const statements = ofTrace(caller.traceId).filter((span) => span.attributes["db.system.name"] === "postgresql");
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.kind).toBe(CLIENT);
      expect(statement.name).toMatch(/^SELECT tdt_test_trees_/);
      expect(statement.parentSpanId).toBe(served?.spanId);
      // The operation, never the statement's values: the tree's id is in no attribute.
      expect(JSON.stringify(statement.attributes)).not.toContain(tree.body.id);
    }

    // The gateway's health checks of each service (every second) make no traces to wade through.
    expect(receiver.spans.filter((span) => span.name.startsWith("grpc.health."))).toEqual([]);

    // Every log line of the request, in both processes, carries its trace id.
    await expect
      .poll(
        () =>
          running.system.logs.filter(
            ({ service, line }) =>
              line.trace_id === caller.traceId &&
              ((service === "gateway" && line.msg === "request") || (service === "trees" && line.msg === "rpc")),
          ).length,
      )
      .toBe(2);
  });

  it("a refused call ends its spans with its status, not as a server fault", async () => {
    const { client, admin } = running;
    const caller = newTraceparent();
    const missing = await client.call("GET", "/api/v1/trees/00000000-0000-4000-8000-000000000000", {
      token: admin,
      headers: { traceparent: caller.header },
    });
    expect(missing.status).toBe(404);
    const served = () => ofTrace(caller.traceId).find((span) => span.service === "tdt-trees" && span.kind === SERVER);
    const http = () => ofTrace(caller.traceId).find((span) => span.service === "tdt-gateway" && span.kind === SERVER);
    await expect.poll(() => Boolean(served() && http()), { timeout: 15_000 }).toBe(true);
    expect(served()?.attributes["rpc.grpc.status_code"]).toBe(5);
    expect(served()?.attributes["error.type"]).toBeUndefined();
    expect(http()?.attributes["http.response.status_code"]).toBe(404);
  });

  it("a malformed or hostile traceparent starts a new trace instead", async () => {
    const { client, admin } = running;
    for (const header of [
      "garbage",
      `00-${"0".repeat(32)}-${"0".repeat(16)}-01`,
      `00-${"a".repeat(5000)}`,
      "00-zz-yy-01",
    ]) {
      const response = await client.call("GET", "/api/v1/trees?limit=1", {
        token: admin,
        headers: { traceparent: header },
      });
      expect(response.status).toBe(200);
    }
    const marker = newTraceparent();
    // A valid one after them still joins its trace: nothing was left broken.
    expect(
      (await client.call("GET", "/api/v1/trees?limit=2", { token: admin, headers: { traceparent: marker.header } }))
        .status,
    ).toBe(200);
    await expect
      .poll(
        () =>
          ofTrace(marker.traceId).some(
            (span) => span.service === "tdt-gateway" && span.parentSpanId === marker.parentId,
          ),
        {
          timeout: 15_000,
        },
      )
      .toBe(true);
    const roots = receiver.spans.filter(
      (span) => span.service === "tdt-gateway" && span.name === "GET /api/v1/trees" && span.parentSpanId === "",
    );
    expect(roots.length).toBeGreaterThanOrEqual(4);
  });

  it("a logout's event carries its trace to the consumers, whose spans link to it", async () => {
    const { client } = running;
    const user = await client.user("traced");
    const caller = newTraceparent();
    const logout = await client.call("POST", "/api/v1/auth/logout", {
      token: user.tokens.access_token,
      headers: { traceparent: caller.header },
    });
    expect(logout.status).toBe(204);
    // Auth's span of the logout is in the caller's trace...
    await expect
      .poll(() => ofTrace(caller.traceId).some((span) => span.service === "tdt-auth" && span.kind === SERVER), {
        timeout: 15_000,
      })
      .toBe(true);
    // ...and every process that follows the auth events handled it in a span linked to that trace.
    const linked = () =>
      new Set(
        receiver.spans
          .filter((span) => span.kind === CONSUMER && span.links.some((link) => link.traceId === caller.traceId))
          .map((span) => span.service),
      );
    await expect
      .poll(() => [...linked()].sort(), { timeout: 15_000 })
      .toEqual(["tdt-gateway", "tdt-hooks", "tdt-sessions", "tdt-trees"]);
    const consumed = receiver.spans.find(
      (span) => span.kind === CONSUMER && span.links.some((link) => link.traceId === caller.traceId),
    );
    expect(consumed?.name).toBe("process auth.session.revoked");
    expect(consumed?.attributes["messaging.system"]).toBe("nats");
  });
});
