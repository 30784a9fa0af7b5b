import { checks, type RequestChecks } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";

/**
 * The auth service's own bounds on what a caller sends, so that a gRPC caller that skips the
 * gateway meets the same limits: the contract's (`(tdt.contract.v1.field)` options in
 * auth.proto), which the gateway's schemas read too. Bounded before any work: a megabyte
 * password would otherwise be hashed, a megabyte email keyed into the rate limiter.
 */

/** Where the gateway takes the client's fields from. */
const CLIENT_LOCS = { user_agent: ["header", "user-agent"], ip: ["header", "x-forwarded-for"] };

function withClient(check: RequestChecks, client: ClientInfo | undefined): RequestChecks {
  return check.contract("tdt.auth.v1.ClientInfo", client, [], CLIENT_LOCS);
}

export function checkLogin(request: { email: string; password: string; client?: ClientInfo | undefined }): void {
  withClient(checks(), request.client).contract("tdt.auth.v1.LoginRequest", request).done();
}

/** Before the rate limiter keys on the email; the full rules of a registration are in users.ts. */
export function checkRegisterBounds(request: { email: string; client?: ClientInfo | undefined }): void {
  withClient(checks(), request.client).contract("tdt.auth.v1.RegisterRequest", { email: request.email }).done();
}

export function checkRefresh(request: {
  refresh_token: string;
  client?: ClientInfo | undefined;
  idempotency_key?: string | undefined;
}): void {
  withClient(checks(), request.client)
    .contract("tdt.auth.v1.RefreshRequest", request, ["body"], { idempotency_key: ["header", "idempotency-key"] })
    .done();
}
