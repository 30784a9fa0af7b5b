import { type AccessTable, hasRole, roleOf } from "@tdt/proto/contracts/access";
import { AppError } from "../grpc/errors.js";
import type { AccessClaims, AccessTokenVerifier } from "./access-tokens.js";

/**
 * The one check a handler makes of its caller, read from the contracts' access table: for the
 * RPC `rpc`, verify the caller's token (401 when it is missing or bad) and, when the table names a
 * role, refuse a lower one (403). Public RPCs have no caller to check and must not ask.
 */
export function authorizer<D>(verifier: Pick<AccessTokenVerifier, "verify">, table: AccessTable<D>) {
  return async (rpc: keyof D & string, ctx: { accessToken: string | undefined }): Promise<AccessClaims> => {
    const guard = table[rpc];
    if (guard === "public") throw new Error(`${rpc} is public: it has no caller to authorize`);
    const claims = await verifier.verify(ctx.accessToken);
    const role = roleOf(guard);
    if (role && !hasRole(claims, role)) throw new AppError("forbidden");
    return claims;
  };
}
