import {
  type ChannelOptions,
  Client,
  connectivityState,
  status as GrpcStatus,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthService } from "@tdt/proto/grpc/health/v1/health";
import { rpcAttributes, rpcDuration } from "../observability/metrics.js";
import { context, failed, injectContext, SpanKind, trace, tracer, tracingEnabled } from "../observability/tracing.js";
import { READ_ONLY_CALLS } from "./read-only-calls.js";
import { REQUEST_ID_KEY } from "./request-context.js";
import { channelCredentials, type GrpcTls } from "./tls.js";

type UnaryMethod = {
  path: string;
  requestSerialize: (value: never) => Buffer;
  responseDeserialize: (value: Buffer) => unknown;
};
type RequestOf<M> = M extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
type ResponseOf<M> = M extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;

/** What travels with every downstream call. */
export interface CallOptions {
  requestId: string;
  /** The caller's access token, passed on as `authorization: Bearer ...`. */
  accessToken?: string | undefined;
  /** Overrides the client's default deadline. */
  timeoutMs?: number;
}

export type DownstreamHealthAnswer = "SERVING" | "NOT_SERVING" | "UNREACHABLE";

/** A downstream service as awaitable methods, one per RPC of its definition. */
export type ServiceClient<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>, options: CallOptions) => Promise<ResponseOf<D[K]>>;
} & {
  /** True when the service's `grpc.health.v1` check answers SERVING. */
  isServing(options: CallOptions): Promise<boolean>;
  /**
   * What one `grpc.health.v1` check found: SERVING; NOT_SERVING from a replica that is draining
   * or not ready, or a check that failed while a replica is connected or being connected to;
   * UNREACHABLE when connecting to the service has failed.
   */
  health(options: CallOptions): Promise<DownstreamHealthAnswer>;
  close(): void;
};

/**
 * How long a call waits for a connection before it fails as UNAVAILABLE; at most half its
 * deadline, so that a service that stays down answers UNAVAILABLE, not DEADLINE_EXCEEDED.
 */
const READY_WAIT_MS = 1000;

/**
 * Channel settings for every client. Reconnect backoff is capped at a quarter second (grpc-js
 * grows it ×1.6 up to 120 s by default, so a service back after a minute stayed unreachable for
 * seconds more); with its ±20 % jitter a new attempt comes within 0.3 s of the port opening,
 * which leaves most of the one second we promise for the call itself even on a busy machine (a
 * 500 ms cap measured 1.1–1.5 s there). An attempt is one TCP connect, so trying four times a
 * second is cheap. Keepalive pings find a dead or frozen peer (a pod gone without a FIN, a
 * paused container) within 4 s instead of the kernel's minutes: inside a call's 5 s deadline, so
 * the calls caught on it fail as UNAVAILABLE (503, reads retried on another replica) rather than
 * waiting out the deadline as 504. With pings every 10 s and 5 s to answer, a replica paused for
 * 10 s cost 16 calls 504 in the deploy test (docs/resilience.md). DNS answers are re-read at most once a second, so new pods are seen soon.
 * Channelz (grpc-js's per-call bookkeeping for its debugging service, which nothing here serves)
 * is off on clients: it was 3–4 % of a hop's CPU in the issue 12 profiles. Servers keep it: with
 * it off, grpc-js's forceShutdown no longer cancels the calls still running.
 */
export const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.enable_channelz": 0,
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 250,
  "grpc.keepalive_time_ms": 2_000,
  "grpc.keepalive_timeout_ms": 2_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.dns_min_time_between_resolutions_ms": 1_000,
  "grpc.enable_retries": 1,
  "grpc.max_receive_message_length": 8 * 1024 * 1024,
};

/**
 * The service config of a client of the RPCs at `paths`: round_robin over every address its target
 * resolves to, and a retry on UNAVAILABLE for the read-only methods alone (READ_ONLY_CALLS).
 * Retries stay within the call's deadline.
 */
export function serviceConfig(paths: string[]): string {
  const reads = paths.filter((path) => READ_ONLY_CALLS.has(path));
  // The methods the retry policy applies to, as the service config's `name` list wants them.
  const readMethods = reads.map((path) => {
    const [, service, method] = path.split("/");
    return { service, method };
  });
  return JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig:
      readMethods.length === 0
        ? []
        : [
            {
              name: readMethods,
              retryPolicy: {
                maxAttempts: 4,
                initialBackoff: "0.05s",
                maxBackoff: "0.5s",
                backoffMultiplier: 2,
                retryableStatusCodes: ["UNAVAILABLE"],
              },
            },
          ],
  });
}

/**
 * One long-lived client per downstream service. Every call carries a deadline and the
 * request id; the access token goes as `authorization` metadata. With `tls` (mutual TLS) it
 * presents this process's certificate and accepts only a server certificate from the same CA.
 * `address` is a gRPC target: `host:port`, `dns:///name:port` (every address of the name) or
 * `ipv4:a:port,b:port`; calls spread over all of them.
 */
export function createServiceClient<D extends Record<string, UnaryMethod>>(
  definition: D,
  address: string,
  defaults: { timeoutMs: number; tls?: GrpcTls | undefined },
): ServiceClient<D> {
  const paths = [...new Set([...Object.values(definition).map((method) => method.path), HealthService.check.path])];
  const client = new Client(address, channelCredentials(defaults.tls), {
    ...CHANNEL_OPTIONS,
    "grpc.service_config": serviceConfig(paths),
  });

  /**
   * While no address is connected, waits up to READY_WAIT_MS for one: a call that waits has not
   * been sent, so this is safe for writes as well as reads, and a service that is just coming
   * back answers instead of failing. Past that the call goes on and fails fast as UNAVAILABLE,
   * so a service that stays down costs a caller a second, not its whole deadline.
   */
  const untilConnected = (timeoutMs: number): Promise<void> => {
    const channel = client.getChannel();
    if (channel.getConnectivityState(true) === connectivityState.READY) return Promise.resolve();
    const wait = Date.now() + Math.min(READY_WAIT_MS, timeoutMs / 2);
    return new Promise((settled) => client.waitForReady(wait, () => settled()));
  };

  const durations = rpcDuration("client");
  const attributesByPath = new Map(paths.map((path) => [path, rpcAttributes(path)]));
  // async: a metadata value gRPC refuses becomes a rejection, never a synchronous throw.
  const call = async <Req, Res>(method: UnaryMethod, request: Req, options: CallOptions): Promise<Res> => {
    const started = performance.now();
    const attributesOf = attributesByPath.get(method.path) ?? rpcAttributes(method.path);
    const metadata = new Metadata();
    metadata.set(REQUEST_ID_KEY, options.requestId);
    if (options.accessToken) metadata.set("authorization", `Bearer ${options.accessToken}`);
    const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
    const deadline = new Date(Date.now() + timeoutMs);
    await untilConnected(timeoutMs);
    // A CLIENT span, its context sent along as `traceparent` metadata (observability/tracing.ts); none for the
    // health checks, which every caller makes each second and would bury the traces of requests.
    const span =
      tracingEnabled() && method.path !== HealthService.check.path
        ? tracer().startSpan(method.path.slice(1), {
            kind: SpanKind.CLIENT,
            attributes: attributesOf(GrpcStatus.OK),
          })
        : undefined;
    if (span) {
      injectContext(
        { get: (key) => metadata.get(key)[0]?.toString(), set: (key, value) => metadata.set(key, value) },
        trace.setSpan(context.active(), span),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize as (value: Req) => Buffer,
        method.responseDeserialize as (value: Buffer) => Res,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, response?: Res) => {
          // As the caller saw it: the wait for a connection included.
          durations.record(performance.now() - started, attributesOf(error?.code ?? GrpcStatus.OK));
          if (span) {
            span.setAttribute("rpc.grpc.status_code", error?.code ?? GrpcStatus.OK);
            if (error) failed(span, error);
            span.end();
          }
          if (error) reject(error);
          else resolve(response as Res);
        },
      );
    });
  };

  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = (request: unknown, options: CallOptions) => call(method, request, options);
  }
  const health = async (options: CallOptions): Promise<DownstreamHealthAnswer> => {
    try {
      const response = await call<{ service: string }, { status: HealthCheckResponse_ServingStatus }>(
        HealthService.check,
        { service: "" },
        options,
      );
      return response.status === HealthCheckResponse_ServingStatus.SERVING ? "SERVING" : "NOT_SERVING";
    } catch (error) {
      const code = (error as ServiceError).code;
      if (code === undefined) throw error;
      // Unreachable only when connecting has failed (TRANSIENT_FAILURE). A check that failed while
      // a replica is connected (a deadline on a busy machine), or while a connection is still
      // being made (a process just started), is no proof that the service is gone.
      const state = client.getChannel().getConnectivityState(false);
      const failed = state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN;
      return failed ? "UNREACHABLE" : "NOT_SERVING";
    }
  };
  methods.health = health;
  methods.isServing = async (options: CallOptions) => (await health(options)) === "SERVING";
  methods.close = () => client.close();
  return methods as ServiceClient<D>;
}

export { GrpcStatus };
