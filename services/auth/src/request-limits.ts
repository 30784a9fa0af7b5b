import { checks, type RequestChecks } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";

/**
 * The auth service's own bounds on what a caller sends, so that a gRPC caller that skips the
 * gateway meets the same limits (the gateway's schemas hold the same numbers, copied until
 * issue 10 moves them into the protos). Bounded before any work: a megabyte password would
 * otherwise be hashed, a megabyte email keyed into the rate limiter.
 */
export const REQUEST_LIMITS = {
  emailMax: 320,
  /** Login takes any stored password; the 8–128 rule is for choosing one (users.ts). */
  loginPasswordMax: 1024,
  refreshTokenMax: 8192,
  /** An Idempotency-Key: 1–128 visible ASCII characters. */
  idempotencyKeyMax: 128,
  userAgentMax: 512,
  /** An IPv6 address with a zone is at most 45 characters. */
  ipMax: 64,
} as const;

function withClient(check: RequestChecks, client: ClientInfo | undefined): RequestChecks {
  return check
    .maxLength(["header", "user-agent"], client?.user_agent, REQUEST_LIMITS.userAgentMax)
    .maxLength(["header", "x-forwarded-for"], client?.ip, REQUEST_LIMITS.ipMax);
}

export function checkLogin(request: { email: string; password: string; client?: ClientInfo | undefined }): void {
  withClient(checks(), request.client)
    .maxLength(["body", "email"], request.email, REQUEST_LIMITS.emailMax)
    .maxLength(["body", "password"], request.password, REQUEST_LIMITS.loginPasswordMax)
    .done();
}

/** Before the rate limiter keys on the email; the full rules of a registration are in users.ts. */
export function checkRegisterBounds(request: { email: string; client?: ClientInfo | undefined }): void {
  withClient(checks(), request.client).maxLength(["body", "email"], request.email, REQUEST_LIMITS.emailMax).done();
}

export function checkRefresh(request: {
  refresh_token: string;
  client?: ClientInfo | undefined;
  idempotency_key?: string | undefined;
}): void {
  withClient(checks(), request.client)
    .maxLength(["body", "refresh_token"], request.refresh_token, REQUEST_LIMITS.refreshTokenMax)
    .maxLength(["header", "idempotency-key"], request.idempotency_key, REQUEST_LIMITS.idempotencyKeyMax)
    .done();
}
