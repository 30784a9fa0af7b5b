/**
 * A call's signal (grpc/call-deadline.ts) through a real gRPC server and client: it aborts when
 * the caller's deadline passes (the reason a DEADLINE_EXCEEDED error), and never for a call
 * answered in time; a call that never asks for it costs no timer.
 */
import {
  callSignal,
  createServiceClient,
  type GrpcServerHandle,
  GrpcStatus,
  type Handlers,
  implement,
  type ServiceClient,
  startGrpcServer,
} from "@tdt/kit";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { notFoundHandlers } from "@tdt/test-support/grpc-handlers";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const log = testLogger("call-signal-test");
type Sessions = typeof SessionsServiceService;

/** What the handler saw of its signal, per call (by session id): when it aborted, and why. */
const seen = new Map<string, { aborted: boolean; at?: number; reason?: unknown }>();

const handlers: Handlers<Sessions> = {
  ...notFoundHandlers(SessionsServiceService),
  // Waits for its signal ("slow"), or answers at once and looks at it a little later ("quick").
  exportSession: async (request) => {
    const signal = callSignal();
    const entry: { aborted: boolean; at?: number; reason?: unknown } = { aborted: false };
    seen.set(request.id, entry);
    signal?.addEventListener("abort", () => {
      entry.aborted = true;
      entry.at = performance.now();
      entry.reason = signal.reason;
    });
    if (request.id === "slow") await new Promise((resolve) => signal?.addEventListener("abort", resolve));
    return { content: Buffer.from("ok"), content_type: "text/plain", filename: "x.txt" };
  },
};

let server: GrpcServerHandle;
let client: ServiceClient<Sessions>;

beforeAll(async () => {
  server = await startGrpcServer({
    port: 0,
    bindings: [implement(SessionsServiceService, handlers, log)],
    serviceNames: ["tdt.sessions.v1.SessionsService"],
    log,
  });
  client = createServiceClient(SessionsServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1_000);
});

describe("a call's signal", () => {
  it("aborts when the caller's deadline passes, with a DEADLINE_EXCEEDED reason", async () => {
    const called = performance.now();
    await expect(
      client.exportSession({ id: "slow", format: "pdf" }, { requestId: "r", timeoutMs: 300 }),
    ).rejects.toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED });
    await expect.poll(() => seen.get("slow")?.aborted).toBe(true);
    const slow = seen.get("slow");
    // The deadline is the caller's: 300 ms from the call, whenever the handler began.
    expect((slow?.at ?? 0) - called).toBeGreaterThan(250);
    expect((slow?.at ?? 0) - called).toBeLessThan(5_000);
    expect(slow?.reason).toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED, details: "deadline_exceeded" });
  });

  it("stays quiet for a call answered in time", async () => {
    const answer = await client.exportSession({ id: "quick", format: "pdf" }, { requestId: "r", timeoutMs: 1_000 });
    expect(answer.filename).toBe("x.txt");
    // Past the deadline: its timer was cleared with the answer.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(seen.get("quick")).toEqual({ aborted: false });
  });

  it("is absent outside a call", () => {
    expect(callSignal()).toBeUndefined();
  });
});
