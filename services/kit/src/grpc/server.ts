import {
  status as GrpcStatus,
  Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import {
  type HealthCheckRequest,
  HealthCheckResponse_ServingStatus,
  HealthService,
} from "@tdt/proto/grpc/health/v1/health";
import type { Logger } from "../observability/logger.js";
import { rpcAttributes, rpcDuration } from "../observability/metrics.js";
import { context, extractContext, failed, SpanKind, trace, tracer, tracingEnabled } from "../observability/tracing.js";
import { servingCall } from "./call-deadline.js";
import { callerIdentityOf, restrictCallers } from "./caller-identity.js";
import { AppError, type Problem, toServiceError } from "./errors.js";
import { bearerToken, REQUEST_ID_KEY, type RequestContext, requestIdFrom } from "./request-context.js";
import { inputProblems } from "./text-guard.js";
import { type GrpcTls, serverCredentials } from "./tls.js";

type UnaryMethod = {
  path: string;
  requestStream: false;
  responseStream: false;
  requestDeserialize: (value: Buffer) => unknown;
  responseSerialize: (value: never) => Buffer;
};
/** What a request that could not be decoded becomes, so that its caller hears why (see `decodingOrMark`). */
const UNDECODABLE = Symbol("undecodable");
type Undecodable = { [UNDECODABLE]: Problem };

/**
 * The method's decoder, made total: grpc-js answers a decoder that throws with INTERNAL, yet
 * bytes a client sent are the client's fault. A message nested past what the recursive decoder
 * walks (a `Struct` inside a `Struct`, 34 levels or 20,000) and any other malformed message
 * become a mark that the handler wrapper refuses as INVALID_ARGUMENT.
 */
function decodingOrMark(decode: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      // The generated decoders stop at 100 nested messages; a hand-written one might overflow instead.
      const tooDeep = error instanceof Error && /recursion limit|call stack/i.test(error.message);
      const problem: Problem = tooDeep
        ? { loc: ["body"], msg: "Nested too deeply to decode", type: "too_deep" }
        : { loc: ["body"], msg: "Not a valid protobuf message", type: "undecodable" };
      return { [UNDECODABLE]: problem } satisfies Undecodable;
    }
  };
}

function isUndecodable(request: unknown): request is Undecodable {
  return typeof request === "object" && request !== null && UNDECODABLE in request;
}

type RequestOf<M> = M extends { requestDeserialize: (value: Buffer) => infer R } ? R : never;
type ResponseOf<M> = M extends { responseSerialize: (value: infer R) => Buffer } ? R : never;

/** A service's handlers as plain async functions of (request, context). */
export type Handlers<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>, ctx: RequestContext) => Promise<ResponseOf<D[K]>>;
};

export interface ServiceBinding {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/**
 * Binds plain async handlers to a generated service definition. Every call gets a request id
 * (from `x-request-id` metadata or new), a child logger, one log line with its outcome and
 * duration, and thrown errors mapped to gRPC status in one place.
 */
export function implement<D extends Record<string, UnaryMethod>>(
  definition: D,
  handlers: Handlers<D>,
  log: Logger,
): ServiceBinding {
  const implementation: UntypedServiceImplementation = {};
  const guarded: Record<string, UnaryMethod> = {};
  const durations = rpcDuration("server");
  for (const [name, method] of Object.entries(definition)) {
    guarded[name] = { ...method, requestDeserialize: decodingOrMark(method.requestDeserialize) };
    const handler = handlers[name as keyof D] as (request: unknown, ctx: RequestContext) => Promise<unknown>;
    const attributesOf = rpcAttributes(method.path);
    implementation[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const started = performance.now();
      const requestId = requestIdFrom(call.metadata.get(REQUEST_ID_KEY)[0]);
      const ctx: RequestContext = {
        requestId,
        log: log.child({ request_id: requestId, rpc: method.path }),
        accessToken: bearerToken(call.metadata.get("authorization")[0]),
        metadata: call.metadata,
        ...callerIdentityOf(call),
      };
      // A SERVER span continuing the caller's trace (`traceparent` metadata), when tracing is on.
      const span = tracingEnabled()
        ? tracer().startSpan(
            method.path.slice(1),
            { kind: SpanKind.SERVER, attributes: attributesOf(GrpcStatus.OK) },
            extractContext({ get: (key) => call.metadata.get(key)[0]?.toString(), set: () => {} }),
          )
        : undefined;
      const finish = (code: GrpcStatus, error?: unknown) => {
        durations.record(performance.now() - started, attributesOf(code));
        if (!span) return;
        span.setAttribute("rpc.grpc.status_code", code);
        if (error !== undefined && SERVER_FAULTS.has(code)) failed(span, error);
        span.end();
      };
      // Through a promise, so a handler that throws before returning one is mapped the same way.
      const run = () =>
        Promise.resolve()
          .then(() => {
            if (isUndecodable(call.request)) throw AppError.invalid([call.request[UNDECODABLE]]);
            // Callers that skip the gateway get the same guard: no NUL, no nesting past the limit.
            const problems = inputProblems(call.request);
            if (problems.length > 0) throw AppError.invalid(problems);
            // Its statements stop at the call's deadline, and it may ask for the call's signal (call-deadline.ts).
            return servingCall(call, () => handler(call.request, ctx));
          })
          .then(
            (response) => {
              ctx.log.info({ code: "OK", duration_ms: elapsed(started) }, "rpc");
              finish(GrpcStatus.OK);
              callback(null, response);
            },
            (error: unknown) => {
              const mapped = toServiceError(error, { deadline: call.getDeadline() });
              finish(mapped.code ?? GrpcStatus.UNKNOWN, error);
              if (mapped.code === GrpcStatus.INTERNAL) {
                ctx.log.error({ err: error, duration_ms: elapsed(started) }, "rpc failed");
              } else if (mapped.code === GrpcStatus.DEADLINE_EXCEEDED) {
                // Its caller gave up (a statement stopped at the deadline, or a call downstream did).
                ctx.log.warn({ code: "DEADLINE_EXCEEDED", duration_ms: elapsed(started) }, "rpc past its deadline");
              } else if (mapped.details === "database_unavailable") {
                // The cause (a reset, a refused connection) is for the operator; the client sees 503.
                ctx.log.warn({ err: error, code: "UNAVAILABLE", duration_ms: elapsed(started) }, "rpc failed");
              } else {
                ctx.log.info(
                  { code: GrpcStatus[mapped.code ?? 0], detail: mapped.details, duration_ms: elapsed(started) },
                  "rpc",
                );
              }
              callback(mapped);
            },
          );
      if (span) context.with(trace.setSpan(context.active(), span), run);
      else run();
    };
  }
  return { definition: guarded as unknown as ServiceDefinition, implementation };
}

/** The statuses that are the server's fault, as the conventions mark a SERVER span failed; refusals are the caller's. */
const SERVER_FAULTS = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/**
 * `grpc.health.v1` answering from a function, so readiness follows the service's real state.
 * The empty service name means the whole server.
 */
function healthBinding(serviceNames: string[], isServing: () => boolean): ServiceBinding {
  const known = new Set(["", ...serviceNames]);
  const statusOf = () =>
    isServing() ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
  return {
    definition: HealthService as unknown as ServiceDefinition,
    implementation: {
      check: (call: ServerUnaryCall<HealthCheckRequest, unknown>, callback: sendUnaryData<unknown>) => {
        if (!known.has(call.request.service)) {
          callback({ code: GrpcStatus.NOT_FOUND, details: "unknown service" });
          return;
        }
        callback(null, { status: statusOf() });
      },
      // Watch sends the current status once; callers that follow changes poll Check.
      watch: (call: ServerWritableStream<HealthCheckRequest, unknown>) => {
        call.write({
          status: known.has(call.request.service) ? statusOf() : HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
        });
        call.end();
      },
    },
  };
}

export interface GrpcServerHandle {
  port: number;
  /**
   * Marks the server NOT_SERVING and keeps answering for `delayMs` (so that callers and
   * Kubernetes stop sending here first), then stops accepting calls and waits for in-flight
   * ones (up to graceMs).
   */
  shutdown(graceMs?: number, delayMs?: number): Promise<void>;
}

/**
 * Keepalive on the server side: it pings idle callers to find dead ones, and accepts the
 * callers' own pings (every 2 s, even without calls: see CHANNEL_OPTIONS in client.ts).
 * grpc-js servers never refuse pings; the ping policy is stated for servers that do (C core,
 * Go, proxies), which answer pings more frequent than 5 min with GOAWAY "too_many_pings"; the
 * allowed interval is below the callers' 2 s.
 */
const SERVER_CONNECTION_OPTIONS = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 1_000,
  "grpc.http2.max_ping_strikes": 0,
};

export async function startGrpcServer(options: {
  host?: string;
  port: number;
  bindings: ServiceBinding[];
  /** Fully qualified names reported by health checks, e.g. "tdt.auth.v1.AuthService". */
  serviceNames: string[];
  isServing?: () => boolean;
  /** Mutual TLS; plaintext when absent. */
  tls?: GrpcTls | undefined;
  /** With TLS, the certificate identities that may call the bindings (health stays open). */
  allowedCallers?: readonly string[];
  log: Logger;
}): Promise<GrpcServerHandle> {
  let draining = false;
  const server = new Server({ ...SERVER_CONNECTION_OPTIONS, "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  const health = healthBinding(options.serviceNames, () => !draining && (options.isServing?.() ?? true));
  server.addService(health.definition, health.implementation);
  for (const binding of options.bindings) {
    const guarded = options.tls && options.allowedCallers ? restrictCallers(binding, options.allowedCallers) : binding;
    server.addService(guarded.definition, guarded.implementation);
  }

  const host = options.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port}`, serverCredentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  options.log.info({ host, port, tls: options.tls !== undefined }, "grpc listening");

  return {
    port,
    shutdown: async (graceMs = 10_000, delayMs = 0) => {
      draining = true;
      if (delayMs > 0) {
        options.log.info({ delay_ms: delayMs }, "draining: NOT_SERVING, still answering");
        await new Promise((wake) => setTimeout(wake, delayMs));
      }
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          options.log.warn("grpc grace period over; cancelling in-flight calls");
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
