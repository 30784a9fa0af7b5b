import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ErrorCode } from "@tdt/proto/contracts/error-codes";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * What the gateway answers before a route runs, in the shape of every other error
 * (`{"detail": code}`): fastify's own answers to these carry `error`/`message` instead.
 */

const FRAMEWORK_ERRORS: Record<string, { status: number; detail: ErrorCode }> = {
  FST_ERR_BAD_URL: { status: 400, detail: "malformed_url" },
  // A path parameter longer than the router keeps (100 characters): no id is that long.
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, detail: "uri_too_long" },
};

/** fastify's `frameworkErrors`: a URL the router cannot read. */
export function frameworkErrorHandler(error: { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const known = FRAMEWORK_ERRORS[error.code ?? ""] ?? { status: 400, detail: "bad_request" };
  void reply.code(known.status).send({ detail: known.detail });
}

/**
 * fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers or URL past
 * its 16 KB limit, a malformed request line), so there is no request to reply to, only a socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, detail]: [number, ErrorCode] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "request_header_too_large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "request_timeout"]
        : [400, "bad_request"];
  const body = JSON.stringify({ detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
