import { type GrpcServerHandle, type Handlers, implement, startGrpcServer } from "@tdt/kit";
import { testLogger } from "@tdt/test-support/silent-logger";

type Definition = Parameters<typeof implement>[0];

/** One call as a fake service saw it. */
export interface RecordedCall<M = string> {
  method: M;
  request: unknown;
  requestId: string;
  accessToken: string | undefined;
}

/**
 * A stand-in for a downstream service on a real gRPC server: plausible answers by default
 * (`defaults`), any method replaceable by a test (`answer`), every call recorded with its metadata.
 */
export abstract class FakeService<D extends Definition> {
  readonly calls: RecordedCall<keyof D>[] = [];
  private overrides: Partial<Handlers<D>> = {};
  private server: GrpcServerHandle | undefined;
  protected abstract readonly defaults: Handlers<D>;

  protected constructor(
    private readonly definition: D,
    /** The fully qualified name its health check reports, e.g. "tdt.trees.v1.TreesService". */
    private readonly serviceName: string,
  ) {}

  /** Starts serving on a free port; a subclass's `start` calls it once constructed. */
  protected async listen(): Promise<void> {
    const log = testLogger(`fake-${this.serviceName}`);
    const recording = Object.fromEntries(
      (Object.keys(this.definition) as (keyof D & string)[]).map((method) => [
        method,
        async (request: unknown, ctx: { requestId: string; accessToken: string | undefined }) => {
          this.calls.push({ method, request, requestId: ctx.requestId, accessToken: ctx.accessToken });
          const handler = (this.overrides[method] ?? this.defaults[method]) as (
            request: unknown,
            ctx: unknown,
          ) => Promise<unknown>;
          return handler(request, ctx);
        },
      ]),
    ) as unknown as Handlers<D>;
    this.server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(this.definition, recording, log)],
      serviceNames: [this.serviceName],
      log,
    });
  }

  get port(): number {
    return (this.server as GrpcServerHandle).port;
  }

  /** Makes `method` answer with `handler` until `reset`. */
  answer<M extends keyof D>(method: M, handler: Handlers<D>[M]): void {
    this.overrides[method] = handler;
  }

  reset(): void {
    this.overrides = {};
    this.calls.length = 0;
  }

  /** The calls of `method`, oldest first. */
  callsOf(method: keyof D): RecordedCall<keyof D>[] {
    return this.calls.filter((call) => call.method === method);
  }

  async stop(): Promise<void> {
    await this.server?.shutdown(1_000);
  }
}
