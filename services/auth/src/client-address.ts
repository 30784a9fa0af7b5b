import { isLoopback, type RequestContext } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";

/**
 * The client a login or registration is counted and recorded against. Only the gateway sees
 * the end user's connection, so only the gateway's word on it is believed: under mutual TLS
 * the caller whose certificate names "gateway"; in plaintext (no identities) a caller on the
 * loopback interface, which is where the gateway is under `npm start`. Any other caller is
 * itself the client: its connection's address, whatever `client` it sends, so that a direct
 * caller cannot spread password guesses over invented addresses.
 */
export function trustedClient(
  forwarded: ClientInfo | undefined,
  ctx: Pick<RequestContext, "caller" | "peerAddress">,
): ClientInfo {
  const believed = ctx.caller === undefined ? isLoopback(ctx.peerAddress) : ctx.caller === "gateway";
  if (believed) return { ip: forwarded?.ip ?? "", user_agent: forwarded?.user_agent ?? "" };
  return { ip: ctx.peerAddress, user_agent: "" };
}
