/**
 * Who is calling: the service named by the verified client certificate (mutual TLS), and the
 * address the connection comes from. Each service declares which identities may call it;
 * `grpc.health.v1` stays open to any verified certificate, so probes need no identity of their own.
 */
import { status as GrpcStatus, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import type { ServiceBinding } from "./server.js";

/** The identities of TDT's processes, as their certificates' CN spells them. */
export const SERVICE_IDENTITIES = ["gateway", "auth", "trees", "sessions", "hooks"] as const;

export interface CallerIdentity {
  /** The CN of the verified client certificate; undefined in plaintext. */
  caller: string | undefined;
  /** The host the connection comes from, without the port ("127.0.0.1", "::1"). */
  peerAddress: string;
}

type Call = Pick<ServerUnaryCall<unknown, unknown>, "getPeer" | "getAuthContext">;

export function callerIdentityOf(call: Call): CallerIdentity {
  const certificate = call.getAuthContext()?.sslPeerCertificate;
  const cn = certificate?.subject?.CN;
  return { caller: typeof cn === "string" && cn !== "" ? cn : undefined, peerAddress: peerHost(call.getPeer()) };
}

/** grpc-js gives "host:port" with IPv6 hosts unbracketed ("::1:50123"): the port is after the last colon. */
export function peerHost(peer: string): string {
  const host = peer.replace(/:\d+$/, "");
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice("::ffff:".length) : host;
}

export function isLoopback(address: string): boolean {
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * Wraps every method of a binding so that a caller whose certificate names an identity outside
 * `allowed` gets PERMISSION_DENIED before the handler runs.
 */
export function restrictCallers(binding: ServiceBinding, allowed: readonly string[]): ServiceBinding {
  const permitted = new Set(allowed);
  const implementation: ServiceBinding["implementation"] = {};
  for (const [name, method] of Object.entries(binding.implementation)) {
    implementation[name] = ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { caller } = callerIdentityOf(call);
      if (caller === undefined || !permitted.has(caller)) {
        callback({
          code: GrpcStatus.PERMISSION_DENIED,
          details: `caller ${caller ?? "(none)"} may not call this service`,
        });
        return;
      }
      (method as (call: unknown, callback: unknown) => void)(call, callback);
    }) as (typeof implementation)[string];
  }
  return { definition: binding.definition, implementation };
}
