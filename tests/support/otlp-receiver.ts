/**
 * An OTLP/HTTP receiver of traces in JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), in process:
 * what a collector would receive, for tests to look at. Spans are kept flat, each with the
 * `service.name` of the process that sent it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

function attributesOf(list: OtlpAttributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue ?? Number.NaN);
  }
  return out;
}

/** `keep: false` counts the spans and keeps none (a benchmark's sink). */
export async function startOtlpReceiver(options: { keep?: boolean } = {}): Promise<{
  url: string;
  spans: ReceivedSpan[];
  received: () => number;
  close(): Promise<void>;
}> {
  let received = 0;
  const spans: ReceivedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method === "POST" && request.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans?: Array<{
            resource?: { attributes?: OtlpAttributes };
            scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
          }>;
        };
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              received++;
              if (options.keep === false) continue;
              spans.push({
                service,
                traceId: String(span.traceId),
                spanId: String(span.spanId),
                parentSpanId: String(span.parentSpanId ?? ""),
                name: String(span.name),
                kind: Number(span.kind),
                attributes: attributesOf(span.attributes as OtlpAttributes),
                links: ((span.links as Array<{ traceId: string; spanId: string }> | undefined) ?? []).map((link) => ({
                  traceId: link.traceId,
                  spanId: link.spanId,
                })),
              });
            }
          }
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
