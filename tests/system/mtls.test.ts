/**
 * The whole system with mutual TLS on gRPC (docs/decisions/service-identity.md): users work
 * through the gateway as before; a direct caller needs a certificate from the system's CA, may
 * call only what its identity allows, and cannot choose the client address auth counts.
 */
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { createServiceClient, GrpcStatus, readServiceError, type ServiceClient } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { HooksServiceService } from "@tdt/proto/tdt/hooks/v1/hooks";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import type { api } from "@tdt/test-support/api";
import { type Certificates, makeCertificates } from "@tdt/test-support/certificates";
import { type System, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { grpcErrorOf } from "@tdt/test-support/thrown";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const LOGIN_LIMIT = 3;

let certificates: Certificates;
let otherCa: Certificates;
let running: SystemWithAdmin;
let system: System;
let client: ReturnType<typeof api>;
let admin: string;
const opened: Array<{ close(): void }> = [];

beforeAll(async () => {
  // "intruder" holds a valid certificate of this CA whose identity no service admits.
  certificates = await makeCertificates(["gateway", "auth", "trees", "sessions", "hooks", "intruder"]);
  otherCa = await makeCertificates(["gateway"]);
  running = await startSystemWithAdmin(
    { LOGIN_RATE_LIMIT_PER_MINUTE: String(LOGIN_LIMIT), TRUST_PROXY: "true" },
    { certificates },
  );
  ({ system, client, admin } = running);
}, 120_000);

afterAll(async () => {
  for (const item of opened) item.close();
  await running?.stop();
  await certificates?.dispose();
  await otherCa?.dispose();
});

/** A client of one service holding `identity`'s certificate (of this system's CA unless given). */
function clientAs<D extends Parameters<typeof createServiceClient>[0]>(
  definition: D,
  address: string,
  identity: string | undefined,
  from: Certificates = certificates,
): ServiceClient<D> {
  const made = createServiceClient(definition, address, {
    timeoutMs: 3000,
    ...(identity ? { tls: from.tls(identity) } : {}),
  }) as ServiceClient<D>;
  opened.push(made);
  return made;
}

const options = { requestId: "mtls-test" };

/** Registers through the gateway as a client at `ip`, so registrations stay clear of the per-address limit. */
async function registerFrom(ip: string) {
  const email = client.uniqueEmail("user");
  const password = "correct-horse-battery";
  const since = Date.now();
  const response = await client.call("POST", "/api/v1/auth/register", {
    json: { email, password, full_name: "Test User" },
    headers: { "x-forwarded-for": ip },
  });
  expect(response.status).toBe(202);
  await client.followVerification(email, since);
  return { email, password };
}

describe("through the gateway, with mutual TLS inside", () => {
  it("logs in, reads trees and starts a session", async () => {
    const engineer = await client.engineer(admin);
    const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: engineer,
      json: printerTree(),
    });
    expect(created.status).toBe(201);
    const read = await client.call<{ id: string; title: string }>("GET", `/api/v1/trees/${created.body.id}`, {
      token: engineer,
    });
    expect(read.status).toBe(200);
    expect(read.body.title).toBe("Printer does not print");
    const started = await client.call<{ tree_id: string; status: string }>("POST", "/api/v1/sessions", {
      token: engineer,
      json: { tree_id: created.body.id },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ tree_id: created.body.id, status: "in_progress" });
  });

  it("still honours the client address the gateway forwards: one limit per address", async () => {
    // More attempts than the per-address limit, each from its own address and email: none is
    // refused, because auth counts them under the addresses the gateway saw.
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMIT * 3; i++) {
      const response = await client.call("POST", "/api/v1/auth/login/json", {
        json: { email: client.uniqueEmail("nobody"), password: "wrong-password-1" },
        headers: { "x-forwarded-for": `203.0.113.${10 + i}` },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual(Array(LOGIN_LIMIT * 3).fill(401));

    const { email, password } = await registerFrom("198.51.100.77");
    const login = await client.call<{ access_token: string }>("POST", "/api/v1/auth/login/json", {
      json: { email, password },
      headers: { "x-forwarded-for": "198.51.100.77", "user-agent": "mtls-test-agent" },
    });
    expect(login.status).toBe(200);
    const sessions = await client.call<Array<{ ip: string; user_agent: string }>>("GET", "/api/v1/auth/sessions", {
      token: login.body.access_token,
    });
    expect(sessions.body).toEqual([expect.objectContaining({ ip: "198.51.100.77", user_agent: "mtls-test-agent" })]);
  });
});

describe("where the services listen", () => {
  it("on loopback only, by default (GRPC_BIND_HOST)", async () => {
    for (const service of ["auth", "trees", "sessions", "hooks"]) {
      const listening = system.logs.find((entry) => entry.service === service && entry.line.msg === "grpc listening");
      expect(listening?.line, service).toMatchObject({ host: "127.0.0.1", tls: true });
    }
    // From this machine's own non-loopback address the port is closed.
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((item) => item && !item.internal && item.family === "IPv4")?.address;
    if (outside === undefined) return;
    const port = Number(system.addresses.auth.split(":")[1]);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: outside, port, timeout: 2000 });
      const settle = (result: string) => {
        socket.destroy();
        resolve(result);
      };
      socket.once("connect", () => settle("connected"));
      socket.once("error", (error: NodeJS.ErrnoException) => settle(error.code ?? "error"));
      socket.once("timeout", () => settle("timeout"));
    });
    expect(outcome).toBe("ECONNREFUSED");
  });
});

describe("a direct gRPC caller", () => {
  it("without a certificate reaches no service", async () => {
    // Plaintext: the servers speak only TLS.
    const plaintext = [
      () => clientAs(AuthServiceService, system.addresses.auth, undefined).getJwks({}, options),
      () => clientAs(TreesServiceService, system.addresses.trees, undefined).listCategories({}, options),
      () => clientAs(SessionsServiceService, system.addresses.sessions, undefined).getSession({ id: "x" }, options),
    ];
    for (const call of plaintext) expect((await grpcErrorOf(call())).code).toBe(GrpcStatus.UNAVAILABLE);
    // TLS that trusts the CA but presents no certificate: the handshake is refused.
    for (const address of Object.values(system.addresses)) {
      const anonymous = new Client(address, credentials.createSsl(certificates.tls("trees").ca));
      opened.push(anonymous);
      const error = await new Promise<ServiceError | null>((resolve) =>
        anonymous.makeUnaryRequest(
          "/grpc.health.v1.Health/Check",
          () => Buffer.alloc(0),
          (bytes: Buffer) => bytes,
          Buffer.alloc(0),
          { deadline: Date.now() + 3000 },
          (failure) => resolve(failure),
        ),
      );
      expect(error?.code, address).toBe(GrpcStatus.UNAVAILABLE);
    }
  });

  it("with a certificate from another CA is refused, even one naming the gateway", async () => {
    for (const address of Object.values(system.addresses)) {
      const impostor = clientAs(AuthServiceService, address, "gateway", otherCa);
      expect((await grpcErrorOf(impostor.getJwks({}, options))).code).toBe(GrpcStatus.UNAVAILABLE);
    }
  });

  it("with a valid certificate may call only what its identity allows; health is open to all", async () => {
    const denied = [
      () => clientAs(AuthServiceService, system.addresses.auth, "intruder").getJwks({}, options),
      () => clientAs(TreesServiceService, system.addresses.trees, "intruder").listCategories({}, options),
      () => clientAs(SessionsServiceService, system.addresses.sessions, "intruder").getSession({ id: "x" }, options),
      // Real identities outside the callers a service declares.
      () => clientAs(SessionsServiceService, system.addresses.sessions, "trees").getSession({ id: "x" }, options),
      () => clientAs(TreesServiceService, system.addresses.trees, "auth").listCategories({}, options),
      () => clientAs(AuthServiceService, system.addresses.auth, "auth").getJwks({}, options),
      // Hooks answers the gateway alone.
      () => clientAs(HooksServiceService, system.addresses.hooks, "intruder").listWebhooks({}, options),
      () => clientAs(HooksServiceService, system.addresses.hooks, "sessions").listWebhooks({}, options),
    ];
    for (const call of denied) expect((await grpcErrorOf(call())).code).toBe(GrpcStatus.PERMISSION_DENIED);

    // Allowed identities reach the handlers.
    const jwks = await clientAs(AuthServiceService, system.addresses.auth, "trees").getJwks({}, options);
    expect(JSON.parse(jwks.jwks_json).keys.length).toBeGreaterThan(0);
    // Hooks fetches the signing keys too (it verifies its callers' tokens).
    const keys = await clientAs(AuthServiceService, system.addresses.auth, "hooks").getJwks({}, options);
    expect(JSON.parse(keys.jwks_json).keys.length).toBeGreaterThan(0);
    const fromSessions = clientAs(TreesServiceService, system.addresses.trees, "sessions");
    expect(readServiceError(await grpcErrorOf(fromSessions.listCategories({}, options))).detail).not.toBe("");
    expect((await grpcErrorOf(fromSessions.listCategories({}, options))).code).toBe(GrpcStatus.UNAUTHENTICATED);

    for (const address of Object.values(system.addresses)) {
      await expect(clientAs(AuthServiceService, address, "intruder").isServing(options)).resolves.toBe(true);
    }
  });

  it("holding a non-gateway certificate cannot forge client addresses past the login limit", async () => {
    // trees may call auth, but auth does not believe trees about the end user's address: every
    // attempt counts against the connection's own address, whatever `client.ip` says.
    const auth = clientAs(AuthServiceService, system.addresses.auth, "trees");
    const attempts = 20;
    const outcomes: string[] = [];
    for (let i = 0; i < attempts; i++) {
      const error = await grpcErrorOf(
        auth.login(
          {
            email: client.uniqueEmail("spray"),
            password: "guess-number-one",
            client: { ip: `192.0.2.${i + 1}`, user_agent: "sprayer" },
          },
          options,
        ),
      );
      outcomes.push(`${GrpcStatus[error.code]}:${readServiceError(error).detail}`);
    }
    const refused = outcomes.filter((outcome) => outcome === "RESOURCE_EXHAUSTED:too_many_attempts").length;
    const unauthenticated = outcomes.filter((outcome) => outcome === "UNAUTHENTICATED:invalid_credentials").length;
    expect(refused + unauthenticated).toBe(attempts);
    // At most the limit per one-minute window, and the run may straddle two windows.
    expect(unauthenticated).toBeLessThanOrEqual(2 * LOGIN_LIMIT);
    expect(refused).toBeGreaterThanOrEqual(attempts - 2 * LOGIN_LIMIT);
    expect(outcomes.at(-1)).toBe("RESOURCE_EXHAUSTED:too_many_attempts");

    // And through the gateway (the one identity auth believes) a fresh address still logs in.
    const { email, password } = await registerFrom("198.51.100.200");
    const login = await client.call("POST", "/api/v1/auth/login/json", {
      json: { email, password },
      headers: { "x-forwarded-for": "198.51.100.200" },
    });
    expect(login.status).toBe(200);
  });
});
