import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { AppError } from "../grpc/errors.js";

/**
 * Traces (issue 13): W3C trace context across HTTP, gRPC, Postgres and NATS, exported with OTLP
 * by the OpenTelemetry SDK when `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces-only form) is set,
 * as the standard `OTEL_*` variables say (protocol, headers, sampler, batch delays). Unset,
 * nothing is registered: the API stays a no-op, and every helper here returns at its first line.
 *
 * Spans are made by our own wrappers (the gateway's hooks, the kit's gRPC client and server, the
 * database pool, the outbox and the consumers) rather than by instrumentation libraries, which
 * patch modules through loader hooks that ESM services would need at every start.
 */

let enabled = false;

/** True once `startTracing` registered the SDK: the wrappers do nothing otherwise. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Whether the environment asks for traces (an empty value, as compose passes an unset one, does not). */
export function tracesRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Registers the SDK for traces only (metrics have their own provider, metrics.ts; logs stay
 * pino's): `service.name` is `OTEL_SERVICE_NAME` or `serviceName`.
 */
export function startTracing(serviceName: string): { stop(): Promise<void> } {
  if (!tracesRequested()) return { stop: async () => {} };
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME?.trim() || serviceName,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  enabled = true;
  return {
    stop: async () => {
      enabled = false;
      await sdk.shutdown().catch(() => {});
    },
  };
}

export function tracer() {
  return trace.getTracer("tdt");
}

/** Reads and writes trace context in a carrier of string values (headers, metadata, a stored field). */
export interface TextCarrier {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** The trace context of `parent` (default: the active one) written into `carrier`. */
export function injectContext(carrier: TextCarrier, parent: Context = context.active()): void {
  propagation.inject(parent, carrier, {
    set: (target, key, value) => target.set(key, value),
  });
}

/** The context a carrier brought (or the root, when it brought none). */
export function extractContext(carrier: TextCarrier): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (target, key) => target.get(key),
    keys: () => ["traceparent", "tracestate"],
  });
}

/** The active context's `traceparent`, to store beside what it caused (an outbox row); undefined without tracing. */
export function currentTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const fields: Record<string, string> = {};
  injectContext({
    get: (key) => fields[key],
    set: (key, value) => {
      fields[key] = value;
    },
  });
  return fields.traceparent;
}

/**
 * Runs `work` inside a new span (child of `parent`, default the active context), ending it when
 * `work` settles; a thrown error marks it failed. `outcome` may add attributes from the result.
 */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind, attributes: options.attributes ?? {}, links: options.links ?? [] },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks `span` failed by `error` (its type, never its message's data). */
export function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute(
    "error.type",
    error instanceof AppError ? error.code : error instanceof Error ? error.name : "error",
  );
}

/**
 * Handles messages from NATS (one, or a consumer's batch) inside a CONSUMER span that links to
 * the trace of each change that sent them (their `traceparent` headers, from the outbox): links,
 * not a parent, as one change may be handled by many consumers at any later time.
 */
export function processing<T>(
  messages: ReadonlyArray<{ subject: string; headers?: { get(key: string): string } | undefined }>,
  work: () => Promise<T>,
): Promise<T> {
  const first = messages[0];
  if (!enabled || !first) return work();
  const links = messages.flatMap((message) => {
    const sent = trace.getSpanContext(
      extractContext({ get: (key) => message.headers?.get(key) || undefined, set: () => {} }),
    );
    return sent ? [{ context: sent }] : [];
  });
  return inSpan(
    `process ${first.subject}`,
    {
      kind: SpanKind.CONSUMER,
      parent: ROOT_CONTEXT,
      attributes: {
        "messaging.system": "nats",
        "messaging.destination.name": first.subject,
        "messaging.operation.type": "process",
        ...(messages.length > 1 ? { "messaging.batch.message_count": messages.length } : {}),
      },
      links,
    },
    work,
  );
}

export type { Context };
export { context, SpanKind, SpanStatusCode, trace };
