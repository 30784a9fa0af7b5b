/**
 * The golden corpus's form of recorded exchanges (tests/support/recorder.ts): everything that
 * goes over the wire, with only what differs from run to run replaced — ids, tokens and keys by
 * the order they first appear (so "the id the create answered is the one the read asks for"
 * still shows), times, durations, request ids, the header lines a transport adds, PDF bytes
 * (their dates and ids vary; their type and magic number stay), a multipart form's boundary (the
 * client draws one each time) and an image's bytes (as their SHA-256, which its ETag names too).
 */
import { createHash } from "node:crypto";
import type { Exchange } from "@tdt/test-support/recorder";

export interface GoldenExchange {
  request: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

/** Added by the transport or different every run, with nothing of the contract in them. */
const DROPPED_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding", "host"]);
/** Request headers that say what the client sent and how; the rest is the client's own business. */
const REQUEST_HEADERS = new Set([
  "content-type",
  "authorization",
  "cookie",
  "origin",
  "accept",
  "x-request-id",
  "range",
  "if-range",
  "if-none-match",
]);
/** JSON fields whose numbers are measured time. */
const TIMED = /(_ms|_at|duration|median|p50|p90|p95|iat|exp|expires_in_seconds)$/;

/** `origins`: the run's own addresses (its ports differ every run), as `<origin>`. */
export function normalizer(origins: string[] = []) {
  const spelled = origins.flatMap((origin) => [origin, encodeURIComponent(origin)]);
  const seen = new Map<string, string>();
  const counters = new Map<string, number>();
  const placeholder = (kind: string, value: string) => {
    const key = `${kind}:${value}`;
    let name = seen.get(key);
    if (!name) {
      const next = (counters.get(kind) ?? 0) + 1;
      counters.set(kind, next);
      name = `<${kind}:${next}>`;
      seen.set(key, name);
    }
    return name;
  };

  const text = (value: string): string =>
    spelled
      .reduce((result, origin) => result.split(origin).join("<origin>"), value)
      .replace(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g, (jwt) => placeholder("jwt", jwt))
      // A webhook's signing secret: base64, so not a token's alphabet.
      .replace(/whsec_[A-Za-z0-9+/=]+/g, (secret) => placeholder("secret", secret))
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (id) =>
        placeholder("id", id.toLowerCase()),
      )
      .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g, "<time>")
      .replace(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])/g, (token) => placeholder("token", token))
      // An API key's quota: the seconds until UTC midnight (RateLimit's `t`).
      .replace(/("daily";r=\d+;t=)\d+/g, "$1<n>")
      // A CSV report's step rows: entered, left, then the milliseconds spent there.
      .replace(/(<time>,<time>,)\d+/g, "$1<n>");

  const json = (value: unknown, key = ""): unknown => {
    if (typeof value === "string") return text(value);
    if (typeof value === "number") return TIMED.test(key) ? "<n>" : value;
    if (Array.isArray(value)) return value.map((item) => json(item, key));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, json(item, name)]));
    }
    return value;
  };

  const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

  const body = (bytes: Buffer, contentType = ""): unknown => {
    if (bytes.length === 0) return "";
    if (contentType.startsWith("application/pdf")) {
      return bytes.subarray(0, 5).toString("latin1") === "%PDF-" ? "<pdf>" : `<not a pdf: ${bytes.length} bytes>`;
    }
    if (contentType.startsWith("image/"))
      return text(`<${contentType}: ${bytes.length} bytes, sha256 ${sha256(bytes)}>`);
    const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
    if (contentType.startsWith("multipart/form-data") && boundary) {
      const form = Buffer.from(bytes.toString("latin1").split(boundary).join("<boundary>"), "latin1");
      return `<multipart/form-data: ${form.length} bytes, sha256 ${sha256(form)}>`;
    }
    const string = bytes.toString("utf8");
    if (contentType.includes("json")) {
      try {
        return json(JSON.parse(string));
      } catch {
        // Not JSON after all: compared as text.
      }
    }
    // The API docs' pages and bundles are the libraries' own files: their size says enough.
    if (contentType.startsWith("text/html") || contentType.includes("javascript")) return `<${contentType}>`;
    return text(string);
  };

  const headers = (all: Record<string, string>, keep?: Set<string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(all)
        .filter(([name]) => !DROPPED_HEADERS.has(name) && (!keep || keep.has(name)))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => {
          if (name === "x-request-id") return [name, "<request-id>"];
          if (name === "content-type") return [name, text(value.replace(/boundary=[^;]+/, "boundary=<boundary>"))];
          if (name === "retry-after" || name.startsWith("ratelimit-") || name.startsWith("x-ratelimit-reset")) {
            return [name, value.replace(/\d+/g, "<n>")];
          }
          return [name, text(value)];
        }),
    );

  return (exchange: Exchange): GoldenExchange => ({
    request: `${exchange.method} ${text(exchange.path)}`,
    requestHeaders: headers(exchange.requestHeaders, REQUEST_HEADERS),
    requestBody: body(exchange.requestBody, exchange.requestHeaders["content-type"]),
    status: exchange.status,
    responseHeaders: headers(exchange.responseHeaders),
    responseBody:
      exchange.path === "/api/openapi.json" && exchange.status === 200
        ? // The document itself is clients/api/openapi.json (CI keeps it current): here, its digest.
          `<openapi.json sha256 ${createHash("sha256")
            .update(JSON.stringify(body(exchange.responseBody, "application/json")))
            .digest("hex")}>`
        : body(exchange.responseBody, exchange.responseHeaders["content-type"]),
  });
}
