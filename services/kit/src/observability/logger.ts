import { trace } from "@opentelemetry/api";
import { type Logger, pino } from "pino";

export type { Logger };

/** Fields never written to a log, wherever they appear in a logged object. */
const SECRETS = [
  "password",
  "*.password",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
];

/** The one logger setup: JSON, one line per event, `service` on every line. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRETS, censor: "[redacted]" },
    formatters: { level: (label) => ({ level: label }) },
    // The trace a line belongs to, while a span is active (tracing.ts): nothing without tracing.
    mixin: traceFields,
  });
}

function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
