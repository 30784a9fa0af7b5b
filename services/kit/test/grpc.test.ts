import {
  AppError,
  createServiceClient,
  type GrpcServerHandle,
  GrpcStatus,
  type Handlers,
  implement,
  readServiceError,
  type ServiceClient,
  startGrpcServer,
} from "@tdt/kit";
import { HealthCheckResponse_ServingStatus, HealthService } from "@tdt/proto/grpc/health/v1/health";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { notFoundHandlers } from "@tdt/test-support/grpc-handlers";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { grpcErrorOf } from "@tdt/test-support/thrown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const log = testLogger("kit-grpc-test");
const SERVICE_NAME = "tdt.auth.v1.AuthService";

type Auth = typeof AuthServiceService;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The test service. `getJwks` echoes what the handler saw of the call; `revokeLoginSession`
 * fails or stalls as its `sid` asks.
 */
const handlers: Handlers<Auth> = {
  ...notFoundHandlers(AuthServiceService),
  getJwks: async (_request, ctx) => ({
    jwks_json: JSON.stringify({ requestId: ctx.requestId, token: ctx.accessToken }),
  }),
  revokeLoginSession: async (request) => {
    switch (request.sid) {
      case "conflict":
        throw new AppError("version_conflict");
      case "invalid":
        throw AppError.invalid([{ loc: ["body", "x"], msg: "m", type: "t" }]);
      case "rate_limited":
        throw new AppError("too_many_attempts", { retryAfterSeconds: 7 });
      case "boom":
        throw new Error("boom");
      case "slow":
        await sleep(1_000);
        return {};
      default:
        return {};
    }
  },
};

describe("a gRPC server started with implement()", () => {
  let server: GrpcServerHandle;
  let client: ServiceClient<Auth>;

  beforeAll(async () => {
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(AuthServiceService, handlers, log)],
      serviceNames: [SERVICE_NAME],
      log,
    });
    client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown(2_000);
  });

  it("listens on the port it reports", () => {
    expect(server.port).toBeGreaterThan(0);
  });

  it("hands the caller's request id and bearer token to the handler", async () => {
    const response = await client.getJwks({}, { requestId: "req-123", accessToken: "token.abc.def" });
    expect(JSON.parse(response.jwks_json)).toEqual({ requestId: "req-123", token: "token.abc.def" });
  });

  it("gives the handler no token when the caller sends none", async () => {
    const response = await client.getJwks({}, { requestId: "req-no-token" });
    expect(JSON.parse(response.jwks_json)).toEqual({ requestId: "req-no-token" });
  });

  it.each([
    ["spaces and markup", "not a <sane> id"],
    ["an overlong id", "x".repeat(200)],
  ])("replaces a request id with %s by a fresh UUID", async (_label, junk) => {
    const response = await client.getJwks({}, { requestId: junk });
    const seen = JSON.parse(response.jwks_json) as { requestId: string };
    expect(seen.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("sends AppError not_found as NOT_FOUND", async () => {
    const error = await grpcErrorOf(client.getMe({}, { requestId: "r" }));
    expect(readServiceError(error)).toEqual({ code: GrpcStatus.NOT_FOUND, detail: "not_found" });
  });

  it("sends AppError conflict as ABORTED with its code as details", async () => {
    const error = await grpcErrorOf(client.revokeLoginSession({ sid: "conflict" }, { requestId: "r" }));
    expect(error.code).toBe(GrpcStatus.ABORTED);
    expect(error.details).toBe("version_conflict");
    expect(readServiceError(error)).toEqual({ code: GrpcStatus.ABORTED, detail: "version_conflict" });
  });

  it("sends AppError.invalid as INVALID_ARGUMENT with the problems intact", async () => {
    const error = await grpcErrorOf(client.revokeLoginSession({ sid: "invalid" }, { requestId: "r" }));
    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(readServiceError(error)).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      detail: "validation_error",
      problems: [{ loc: ["body", "x"], msg: "m", type: "t" }],
    });
  });

  it("sends a rate_limited AppError as RESOURCE_EXHAUSTED with retryAfterSeconds", async () => {
    const error = await grpcErrorOf(client.revokeLoginSession({ sid: "rate_limited" }, { requestId: "r" }));
    expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(readServiceError(error)).toEqual({
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      detail: "too_many_attempts",
      retryAfterSeconds: 7,
    });
  });

  it("sends any other thrown error as INTERNAL internal_error without its message", async () => {
    const error = await grpcErrorOf(client.revokeLoginSession({ sid: "boom" }, { requestId: "r" }));
    expect(error.code).toBe(GrpcStatus.INTERNAL);
    expect(error.details).toBe("internal_error");
    expect(error.message).not.toContain("boom");
    expect(JSON.stringify(error.metadata.getMap())).not.toContain("boom");
    expect(readServiceError(error)).toEqual({ code: GrpcStatus.INTERNAL, detail: "internal_error" });
  });

  it("fails with DEADLINE_EXCEEDED when the handler is slower than the call's timeout", async () => {
    const error = await grpcErrorOf(client.revokeLoginSession({ sid: "slow" }, { requestId: "r", timeoutMs: 100 }));
    expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
  });

  it("answers a successful call after errors on the same client", async () => {
    await expect(client.revokeLoginSession({ sid: "ok" }, { requestId: "r" })).resolves.toEqual({});
  });

  it("reports SERVING to isServing", async () => {
    expect(await client.isServing({ requestId: "r" })).toBe(true);
  });

  describe("grpc.health.v1", () => {
    let health: ServiceClient<typeof HealthService>;

    beforeAll(() => {
      health = createServiceClient(HealthService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    });
    afterAll(() => health?.close());

    it("answers SERVING for the whole server and for each named service", async () => {
      expect(await health.check({ service: "" }, { requestId: "r" })).toEqual({
        status: HealthCheckResponse_ServingStatus.SERVING,
      });
      expect(await health.check({ service: SERVICE_NAME }, { requestId: "r" })).toEqual({
        status: HealthCheckResponse_ServingStatus.SERVING,
      });
    });

    it("answers NOT_FOUND for a service it does not know", async () => {
      const error = await grpcErrorOf(health.check({ service: "nope" }, { requestId: "r" }));
      expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    });
  });
});

describe("readiness", () => {
  it("follows the isServing function given to startGrpcServer", async () => {
    let ready = false;
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: await freePort(),
      bindings: [implement(AuthServiceService, handlers, log)],
      serviceNames: [SERVICE_NAME],
      isServing: () => ready,
      log,
    });
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    const health = createServiceClient(HealthService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    try {
      expect(await client.isServing({ requestId: "r" })).toBe(false);
      expect(await health.check({ service: SERVICE_NAME }, { requestId: "r" })).toEqual({
        status: HealthCheckResponse_ServingStatus.NOT_SERVING,
      });

      ready = true;
      expect(await client.isServing({ requestId: "r" })).toBe(true);
    } finally {
      client.close();
      health.close();
      await server.shutdown(2_000);
    }
  });

  it("isServing is false for an address where nothing listens", async () => {
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${await freePort()}`, { timeoutMs: 1_000 });
    try {
      expect(await client.isServing({ requestId: "r" })).toBe(false);
      const error = await grpcErrorOf(client.getJwks({}, { requestId: "r" }));
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});

describe("shutdown", () => {
  it("lets an in-flight call finish, then stops serving", async () => {
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    let handlerFinished = false;
    const slowHandlers: Handlers<Auth> = {
      ...handlers,
      getJwks: async (_request, ctx) => {
        handlerStarted();
        await sleep(300);
        handlerFinished = true;
        return { jwks_json: JSON.stringify({ requestId: ctx.requestId }) };
      },
    };
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(AuthServiceService, slowHandlers, log)],
      serviceNames: [SERVICE_NAME],
      log,
    });
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 5_000 });
    try {
      expect(await client.isServing({ requestId: "r" })).toBe(true);

      const inFlight = client.getJwks({}, { requestId: "in-flight" });
      await started;
      await server.shutdown(5_000);

      // shutdown() waited for the handler rather than cutting it off...
      expect(handlerFinished).toBe(true);
      // ...and its answer reached the caller.
      expect(JSON.parse((await inFlight).jwks_json)).toEqual({ requestId: "in-flight" });

      // Nothing is served any more.
      expect(await client.isServing({ requestId: "r" })).toBe(false);
      const error = await grpcErrorOf(client.getJwks({}, { requestId: "after" }));
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it("keeps answering for the delay, reporting NOT_SERVING, before it stops accepting", async () => {
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(AuthServiceService, handlers, log)],
      serviceNames: [SERVICE_NAME],
      log,
    });
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    try {
      const stopped = server.shutdown(2_000, 600);
      await sleep(100);
      // Draining: health says so, calls are still answered.
      expect(await client.isServing({ requestId: "r" })).toBe(false);
      expect(JSON.parse((await client.getJwks({}, { requestId: "draining" })).jwks_json)).toMatchObject({
        requestId: "draining",
      });
      await stopped;
      const error = await grpcErrorOf(client.getJwks({}, { requestId: "after" }));
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it("cancels calls still running when the grace period is over", async () => {
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [
        implement(
          AuthServiceService,
          {
            ...handlers,
            getJwks: async () => {
              handlerStarted();
              await sleep(2_000);
              return { jwks_json: "{}" };
            },
          },
          log,
        ),
      ],
      serviceNames: [SERVICE_NAME],
      log,
    });
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 10_000 });
    try {
      const inFlight = grpcErrorOf(client.getJwks({}, { requestId: "stuck" }));
      await started;
      await server.shutdown(50);

      const error = await inFlight;
      expect(error.code).not.toBe(GrpcStatus.OK);
      expect(error.code).not.toBe(GrpcStatus.DEADLINE_EXCEEDED);
    } finally {
      client.close();
    }
  });
});
