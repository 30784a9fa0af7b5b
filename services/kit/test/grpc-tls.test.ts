import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AppError,
  createServiceClient,
  type GrpcServerHandle,
  GrpcStatus,
  grpcTlsSetting,
  type Handlers,
  implement,
  readConfig,
  startGrpcServer,
} from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { type Certificates, makeCertificates } from "@tdt/test-support/certificates";
import { testLogger } from "@tdt/test-support/silent-logger";
import { configErrorOf, grpcErrorOf } from "@tdt/test-support/thrown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const log = testLogger("kit-grpc-tls-test");

let certificates: Certificates;
let otherCa: Certificates;

beforeAll(async () => {
  certificates = await makeCertificates(["gateway", "auth", "trees", "intruder"]);
  otherCa = await makeCertificates(["gateway"]);
});

afterAll(async () => {
  await certificates?.dispose();
  await otherCa?.dispose();
});

const readTls = (env: Record<string, string>) => readConfig({ tls: grpcTlsSetting }, env).tls;

describe("the mutual TLS settings", () => {
  it("are plaintext (undefined) when none is set", () => {
    expect(readTls({})).toBeUndefined();
    expect(readTls({ GRPC_TLS_CA: " ", GRPC_TLS_CERT_FILE: "" })).toBeUndefined();
  });

  it("read the three parts from files", () => {
    const tls = readTls(certificates.env("auth"));
    expect(tls).toEqual(certificates.tls("auth"));
  });

  it("read the three parts as PEM text, with newlines written as \\n", () => {
    const pem = certificates.tls("auth");
    const oneLine = (buffer: Buffer) => buffer.toString("utf8").replace(/\n/g, "\\n");
    const tls = readTls({
      GRPC_TLS_CA: oneLine(pem.ca),
      GRPC_TLS_CERT: pem.cert.toString(),
      GRPC_TLS_KEY: oneLine(pem.key),
    });
    expect(tls?.ca.toString()).toBe(pem.ca.toString());
    expect(tls?.cert.toString()).toBe(pem.cert.toString());
    expect(tls?.key.toString()).toBe(pem.key.toString());
  });

  it.each([
    [{ GRPC_TLS_CA_FILE: "ca" }, "GRPC_TLS_CERT"],
    [{ GRPC_TLS_CA_FILE: "ca", GRPC_TLS_CERT_FILE: "cert" }, "GRPC_TLS_KEY"],
    [{ GRPC_TLS_KEY: "key" }, "GRPC_TLS_CA"],
    [{ GRPC_TLS_CERT_FILE: "cert", GRPC_TLS_KEY_FILE: "key" }, "GRPC_TLS_CA"],
  ])("half set (%o) is a ConfigError naming %s", (partial, variable) => {
    const files = certificates.env("auth");
    // Real files where a path is given, so only the missing part is wrong.
    const env = Object.fromEntries(
      Object.entries(partial).map(([name, value]) =>
        name.endsWith("_FILE")
          ? [name, files[name] as string]
          : [name, certificates.tls("auth")[value as "key"].toString()],
      ),
    );
    const error = configErrorOf(() => readTls(env));
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable} \\(or ${variable}_FILE\\) is required for mutual TLS`));
  });

  it("says which variables are set when one is missing", () => {
    const { GRPC_TLS_KEY_FILE: _, ...twoFiles } = certificates.env("auth");
    expect(configErrorOf(() => readTls(twoFiles)).message).toBe(
      "GRPC_TLS_KEY (or GRPC_TLS_KEY_FILE) is required for mutual TLS, since GRPC_TLS_CA_FILE, GRPC_TLS_CERT_FILE are set",
    );
  });

  it("names the _FILE variable of a file that cannot be read", () => {
    const env = { ...certificates.env("auth"), GRPC_TLS_KEY_FILE: join(certificates.dir, "no-such-key.pem") };
    const error = configErrorOf(() => readTls(env));
    expect(error.variable).toBe("GRPC_TLS_KEY_FILE");
    expect(error.message).toBe("GRPC_TLS_KEY_FILE cannot be read: ENOENT");
  });

  it("names the variable whose content is not PEM of the right kind", () => {
    const garbage = join(certificates.dir, "garbage.pem");
    writeFileSync(garbage, "not a certificate");
    const files = certificates.env("auth");
    expect(configErrorOf(() => readTls({ ...files, GRPC_TLS_CA_FILE: garbage })).message).toBe(
      "GRPC_TLS_CA_FILE is not a PEM certificate",
    );
    // A certificate where the key belongs.
    expect(
      configErrorOf(() => readTls({ ...files, GRPC_TLS_KEY_FILE: files.GRPC_TLS_CERT_FILE as string })).message,
    ).toBe("GRPC_TLS_KEY_FILE is not a PEM private key");
    const { GRPC_TLS_CERT_FILE: _, ...rest } = files;
    expect(configErrorOf(() => readTls({ ...rest, GRPC_TLS_CERT: "junk" })).message).toBe(
      "GRPC_TLS_CERT is not a PEM certificate",
    );
  });

  it("refuses a part given both as text and as a file", () => {
    const env = { ...certificates.env("auth"), GRPC_TLS_CA: certificates.tls("auth").ca.toString() };
    expect(configErrorOf(() => readTls(env)).message).toBe("GRPC_TLS_CA and GRPC_TLS_CA_FILE are both set; set one");
  });
});

describe("a gRPC server with mutual TLS", () => {
  let server: GrpcServerHandle;
  let address: string;
  const opened: Array<{ close(): void }> = [];

  /** getJwks echoes who the kit says is calling. */
  const handlers = {
    getJwks: async (_request, ctx) => ({ jwks_json: JSON.stringify({ caller: ctx.caller, peer: ctx.peerAddress }) }),
  } as Handlers<typeof AuthServiceService>;

  beforeAll(async () => {
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(AuthServiceService, handlers, log)],
      serviceNames: ["tdt.auth.v1.AuthService"],
      tls: certificates.tls("auth"),
      allowedCallers: ["gateway", "trees"],
      log,
    });
    address = `127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    for (const client of opened) client.close();
    await server?.shutdown(2_000);
  });

  const as = (identity: string | undefined, from: Certificates = certificates, target = address) => {
    const client = createServiceClient(AuthServiceService, target, {
      timeoutMs: 2_000,
      ...(identity ? { tls: from.tls(identity) } : {}),
    });
    opened.push(client);
    return client;
  };
  const options = { requestId: "tls-test" };

  it("puts the verified identity and the peer address on the request context", async () => {
    for (const identity of ["gateway", "trees"]) {
      const response = await as(identity).getJwks({}, options);
      expect(JSON.parse(response.jwks_json)).toEqual({ caller: identity, peer: "127.0.0.1" });
    }
  });

  it("denies an identity the service does not admit, before the handler", async () => {
    for (const identity of ["intruder", "auth"]) {
      const error = await grpcErrorOf(as(identity).getJwks({}, options));
      expect(error.code).toBe(GrpcStatus.PERMISSION_DENIED);
      expect(error.details).toBe(`caller ${identity} may not call this service`);
    }
  });

  it("answers health checks to any certificate of its CA", async () => {
    await expect(as("intruder").isServing(options)).resolves.toBe(true);
  });

  it("refuses plaintext and certificates of another CA at the connection", async () => {
    expect((await grpcErrorOf(as(undefined).getJwks({}, options))).code).toBe(GrpcStatus.UNAVAILABLE);
    expect((await grpcErrorOf(as("gateway", otherCa).getJwks({}, options))).code).toBe(GrpcStatus.UNAVAILABLE);
  });

  it("is refused by a client when its certificate does not name the address dialled", async () => {
    // The auth certificate covers localhost and 127.0.0.1, not another name for this machine.
    const error = await grpcErrorOf(as("gateway", certificates, `127.0.0.2:${server.port}`).getJwks({}, options));
    expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
  });
});

describe("replicas behind one target, with mutual TLS", () => {
  it("reaches every replica of an ipv4: list, each checked against the target's name", async () => {
    const replicas: GrpcServerHandle[] = [];
    const served = new Map<string, number>();
    const as = (replica: string) =>
      ({
        getJwks: async (_request, _ctx) => {
          served.set(replica, (served.get(replica) ?? 0) + 1);
          return { jwks_json: replica };
        },
      }) as Handlers<typeof AuthServiceService>;
    const first = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      bindings: [implement(AuthServiceService, as("first"), log)],
      serviceNames: [],
      tls: certificates.tls("auth"),
      log,
    });
    replicas.push(first);
    replicas.push(
      await startGrpcServer({
        host: "127.0.0.2",
        port: first.port,
        bindings: [implement(AuthServiceService, as("second"), log)],
        serviceNames: [],
        tls: certificates.tls("auth"),
        log,
      }),
    );
    const client = createServiceClient(AuthServiceService, `ipv4:127.0.0.1:${first.port},127.0.0.2:${first.port}`, {
      timeoutMs: 2_000,
      tls: certificates.tls("gateway"),
    });
    try {
      for (let i = 0; i < 20; i++) await client.getJwks({}, { requestId: `replica-${i}` });
      expect(served.get("first")).toBeGreaterThanOrEqual(5);
      expect(served.get("second")).toBeGreaterThanOrEqual(5);
    } finally {
      client.close();
      await Promise.all(replicas.map((replica) => replica.shutdown(2_000)));
    }
  });
});

describe("a gRPC server without TLS", () => {
  it("gives handlers no caller identity, only the peer address", async () => {
    const handlers = {
      getJwks: async (_request, ctx) => {
        if (ctx.caller !== undefined) throw new AppError("forbidden");
        return { jwks_json: ctx.peerAddress };
      },
    } as Handlers<typeof AuthServiceService>;
    const server = await startGrpcServer({
      port: 0,
      bindings: [implement(AuthServiceService, handlers, log)],
      serviceNames: [],
      allowedCallers: ["gateway"],
      log,
    });
    const client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });
    try {
      expect((await client.getJwks({}, { requestId: "plain" })).jwks_json).toBe("127.0.0.1");
    } finally {
      client.close();
      await server.shutdown(2_000);
    }
  });
});
