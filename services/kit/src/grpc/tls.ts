/**
 * Mutual TLS between every gRPC caller and service, configured in one place for both sides.
 * Three settings, each as PEM text or a file: the CA that signs every TDT certificate, this
 * process's certificate (its CN names the service: gateway, auth, trees, sessions) and its key.
 * All unset means plaintext; a half-set or unreadable trio is a ConfigError naming the variable.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials, ServerCredentials } from "@grpc/grpc-js";
import { ConfigError, type Setting } from "../config.js";

export interface GrpcTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

type Env = Record<string, string | undefined>;

type GrpcTlsPart = keyof GrpcTls;

const PARTS: ReadonlyArray<{ field: GrpcTlsPart; variable: string }> = [
  { field: "ca", variable: "GRPC_TLS_CA" },
  { field: "cert", variable: "GRPC_TLS_CERT" },
  { field: "key", variable: "GRPC_TLS_KEY" },
];

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** One part as PEM bytes and the variable it came from: `<VAR>` (PEM text) or `<VAR>_FILE` (a path). */
function readPart(env: Env, variable: string): { pem: Buffer; from: string } | undefined {
  const text = present(env, variable);
  const file = present(env, `${variable}_FILE`)?.trim();
  if (text !== undefined && file !== undefined) {
    throw new ConfigError(variable, `and ${variable}_FILE are both set; set one`);
  }
  if (file !== undefined) {
    try {
      return { pem: readFileSync(file), from: `${variable}_FILE` };
    } catch (error) {
      throw new ConfigError(`${variable}_FILE`, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  // A .env file cannot hold newlines: accept them written as "\n".
  return text === undefined ? undefined : { pem: Buffer.from(text.replace(/\\n/g, "\n")), from: variable };
}

/** Parses the PEM now, so a wrong file stops the start instead of every handshake. */
function checkPem(field: GrpcTlsPart, part: { pem: Buffer; from: string }): void {
  try {
    if (field === "key") createPrivateKey(part.pem);
    else new X509Certificate(part.pem);
  } catch {
    throw new ConfigError(part.from, `is not a PEM ${field === "key" ? "private key" : "certificate"}`);
  }
}

/** The mTLS material, or undefined for plaintext. */
export const grpcTlsSetting: Setting<GrpcTls | undefined> = {
  read(source) {
    const parts = PARTS.map(({ field, variable }) => ({ field, variable, read: readPart(source, variable) }));
    const given = parts.flatMap((part) => (part.read ? [part.read.from] : []));
    if (given.length === 0) return undefined;
    const missing = parts.find((part) => part.read === undefined);
    if (missing) {
      throw new ConfigError(
        missing.variable,
        `(or ${missing.variable}_FILE) is required for mutual TLS, since ${given.join(", ")} ${given.length === 1 ? "is" : "are"} set`,
      );
    }
    const tls: Partial<GrpcTls> = {};
    for (const { field, read } of parts) {
      checkPem(field, read as { pem: Buffer; from: string });
      tls[field] = (read as { pem: Buffer }).pem;
    }
    return tls as GrpcTls;
  },
};

/** With TLS the server asks every caller for a certificate signed by the CA and refuses the handshake without one. */
export function serverCredentials(tls: GrpcTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** With TLS the client presents its certificate and checks the server's against the CA and the address's host name. */
export function channelCredentials(tls: GrpcTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}
