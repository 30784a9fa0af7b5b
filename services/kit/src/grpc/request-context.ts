import { randomUUID } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "../observability/logger.js";

/** What every handler knows about the call it serves. */
export interface RequestContext {
  requestId: string;
  log: Logger;
  /** The caller's bearer token from `authorization` metadata, without the scheme. */
  accessToken: string | undefined;
  metadata: Metadata;
  /** The service named by the caller's verified certificate; undefined in plaintext. */
  caller: string | undefined;
  /** The host the call's connection comes from, without the port. */
  peerAddress: string;
}

export const REQUEST_ID_KEY = "x-request-id";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** An incoming request id if it is sane, else a new one. */
export function requestIdFrom(value: unknown): string {
  return typeof value === "string" && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}

export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
