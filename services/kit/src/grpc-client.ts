import { Client, status as GrpcStatus, Metadata, type ServiceError } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthService } from "@tdt/proto/grpc/health/v1/health";
import { channelCredentials, type GrpcTls } from "./grpc-tls.js";
import { REQUEST_ID_KEY } from "./request-context.js";

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

/** A downstream service as awaitable methods, one per RPC of its definition. */
export type ServiceClient<D> = {
  [K in keyof D]: (request: RequestOf<D[K]>, options: CallOptions) => Promise<ResponseOf<D[K]>>;
} & {
  /** True when the service's `grpc.health.v1` check answers SERVING. */
  isServing(options: CallOptions): Promise<boolean>;
  close(): void;
};

/**
 * One long-lived client per downstream service. Every call carries a deadline and the
 * request id; the access token goes as `authorization` metadata. With `tls` (mutual TLS) it
 * presents this process's certificate and accepts only a server certificate from the same CA.
 */
export function createServiceClient<D extends Record<string, UnaryMethod>>(
  definition: D,
  address: string,
  defaults: { timeoutMs: number; tls?: GrpcTls | undefined },
): ServiceClient<D> {
  const client = new Client(address, channelCredentials(defaults.tls), {
    "grpc.keepalive_time_ms": 30_000,
    "grpc.max_receive_message_length": 8 * 1024 * 1024,
  });

  // async: a metadata value gRPC refuses becomes a rejection, never a synchronous throw.
  const call = async <Req, Res>(method: UnaryMethod, request: Req, options: CallOptions): Promise<Res> => {
    const metadata = new Metadata();
    metadata.set(REQUEST_ID_KEY, options.requestId);
    if (options.accessToken) metadata.set("authorization", `Bearer ${options.accessToken}`);
    const deadline = new Date(Date.now() + (options.timeoutMs ?? defaults.timeoutMs));
    return new Promise<Res>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize as (value: Req) => Buffer,
        method.responseDeserialize as (value: Buffer) => Res,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, response?: Res) => (error ? reject(error) : resolve(response as Res)),
      );
    });
  };

  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = (request: unknown, options: CallOptions) => call(method, request, options);
  }
  methods.isServing = async (options: CallOptions) => {
    try {
      const response = await call<{ service: string }, { status: HealthCheckResponse_ServingStatus }>(
        HealthService.check,
        { service: "" },
        options,
      );
      return response.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch (error) {
      if ((error as ServiceError).code === undefined) throw error;
      return false;
    }
  };
  methods.close = () => client.close();
  return methods as ServiceClient<D>;
}

export { GrpcStatus };
