/**
 * One delivery attempt: resolve and check the address (address-guard.ts), POST the signed body to
 * it, and say what came back. No redirect is followed (a 3xx is an answer like any other), at
 * most `maxBodyBytes` of the answer is read, the whole attempt has `timeoutMs`, and nothing of
 * ours but the body and its headers is sent.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type AddressGuard, pinnedLookup, type Refusal } from "./address-guard.js";

export interface AttemptResult {
  /** The receiver's status, when it answered. */
  status?: number;
  latency_ms: number;
  /** The first bytes of the answer, as text, for the delivery log. */
  excerpt: string;
  /** Why no answer came: the guard refused, the time ran out, or the connection failed. */
  error?: Refusal | "timeout" | "connection_failed";
}

export interface AttemptOptions {
  guard: AddressGuard;
  timeoutMs?: number;
  maxBodyBytes?: number;
  excerptBytes?: number;
  /** Resolves names (tests give their own); the system's by default. */
  lookup?: Parameters<AddressGuard["resolve"]>[1];
}

/** A 2xx answered within the attempt's time: the receiver has the event. */
export const delivered = (result: AttemptResult) =>
  result.status !== undefined && result.status >= 200 && result.status < 300;

export async function attemptDelivery(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: AttemptOptions,
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const checked = options.guard.checkUrl(target);
  if ("refused" in checked) return { latency_ms: 0, excerpt: "", error: checked.refused };
  const resolved = await options.guard.resolve(checked.url, options.lookup);
  if ("refused" in resolved) return { latency_ms: elapsed(), excerpt: "", error: resolved.refused };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const excerptBytes = options.excerptBytes ?? 1024;
  const send = checked.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, "latency_ms">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latency_ms: elapsed() });
    };
    const request = send(
      checked.url,
      {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "TDT-Webhooks/1",
        },
        lookup: pinnedLookup(resolved.address, resolved.family),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({
            status: response.statusCode ?? 0,
            excerpt: Buffer.concat(chunks).subarray(0, excerptBytes).toString("utf8"),
          });
        response.on("data", (chunk: Buffer) => {
          const room = maxBody - size;
          size += chunk.length;
          chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, Math.max(room, 0)));
          if (size > maxBody) {
            // Enough of it: the rest is not read.
            done();
            response.destroy();
          }
        });
        response.on("end", done);
        response.on("error", done);
      },
    );
    const timer = setTimeout(() => {
      finish({ excerpt: "", error: "timeout" });
      request.destroy();
    }, timeoutMs);
    request.on("error", () => finish({ excerpt: "", error: "connection_failed" }));
    request.end(body);
  });
}
