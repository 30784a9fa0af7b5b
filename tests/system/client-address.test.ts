/**
 * Plaintext gRPC (no identities): auth believes the forwarded client address only from a
 * loopback caller (docs/decisions/service-identity.md). Here the services listen on every
 * interface, and a caller reaching auth through this machine's non-loopback address is counted
 * under that address, whatever `client.ip` it sends.
 */
import { networkInterfaces } from "node:os";
import { createServiceClient, GrpcStatus, readServiceError } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import type { api } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { grpcErrorOf } from "@tdt/test-support/thrown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const LOGIN_LIMIT = 3;
const outside = Object.values(networkInterfaces())
  .flat()
  .find((item) => item && !item.internal && item.family === "IPv4")?.address;

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  if (outside === undefined) return;
  running = await startSystemWithAdmin({ LOGIN_RATE_LIMIT_PER_MINUTE: String(LOGIN_LIMIT), GRPC_BIND_HOST: "0.0.0.0" });
  ({ client } = running);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

/** Login attempts straight to auth at `host`, each with a new email and a new forged address. */
async function spray(host: string, attempts: number): Promise<string[]> {
  const port = running.system.addresses.auth.split(":")[1];
  const auth = createServiceClient(AuthServiceService, `${host}:${port}`, { timeoutMs: 3000 });
  const outcomes: string[] = [];
  try {
    for (let i = 0; i < attempts; i++) {
      const error = await grpcErrorOf(
        auth.login(
          {
            email: client.uniqueEmail(`spray-${host}`),
            password: "guess-number-one",
            client: { ip: `192.0.2.${100 + i}`, user_agent: "sprayer" },
          },
          { requestId: "plaintext-spray" },
        ),
      );
      outcomes.push(`${GrpcStatus[error.code]}:${readServiceError(error).detail}`);
    }
  } finally {
    auth.close();
  }
  return outcomes;
}

describe.skipIf(outside === undefined)("in plaintext, the forwarded client address", () => {
  it("is ignored from a caller off loopback: it is counted under its own address", async () => {
    const attempts = 20;
    const outcomes = await spray(outside as string, attempts);
    const refused = outcomes.filter((outcome) => outcome === "RESOURCE_EXHAUSTED:too_many_attempts").length;
    const unauthenticated = outcomes.filter((outcome) => outcome === "UNAUTHENTICATED:invalid_credentials").length;
    expect(refused + unauthenticated).toBe(attempts);
    // At most the limit per one-minute window, and the run may straddle two windows.
    expect(unauthenticated).toBeLessThanOrEqual(2 * LOGIN_LIMIT);
    expect(outcomes.at(-1)).toBe("RESOURCE_EXHAUSTED:too_many_attempts");
  });

  it("is believed from a loopback caller (the local gateway)", async () => {
    // Each attempt under its own forwarded address and email: none reaches a limit.
    const outcomes = await spray("127.0.0.1", LOGIN_LIMIT * 3);
    expect(outcomes).toEqual(Array(LOGIN_LIMIT * 3).fill("UNAUTHENTICATED:invalid_credentials"));
  });
});
