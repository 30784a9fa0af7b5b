/**
 * Mutual TLS between every gRPC caller and service, configured in one place for both sides.
 * Three settings, each as PEM text or a file: the CA that signs every TDT certificate, this
 * process's certificate (its CN names the service: gateway, auth, trees, sessions) and its key.
 * All unset means plaintext; a half-set or unreadable trio is a ConfigError naming the variable.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials, ServerCredentials } from "@grpc/grpc-js";
import { ConfigError, type Setting } from "./config.js";

export interface GrpcTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

type Env = Record<string, string | undefined>;

const PARTS = [
  { field: "ca", variable: "GRPC_TLS_CA" },
  { field: "cert", variable: "GRPC_TLS_CERT" },
  { field: "key", variable: "GRPC_TLS_KEY" },
] as const;

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** One part as PEM bytes, from `<VAR>` (PEM text) or `<VAR>_FILE` (a path); undefined when neither is set. */
function readPart(env: Env, variable: string): Buffer | undefined {
  const text = present(env, variable);
  const file = present(env, `${variable}_FILE`)?.trim();
  if (text !== undefined && file !== undefined) {
    throw new ConfigError(variable, `and ${variable}_FILE are both set; set one`);
  }
  if (file !== undefined) {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${variable}_FILE`, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  // A .env file cannot hold newlines: accept them written as "\n".
  return text === undefined ? undefined : Buffer.from(text.replace(/\\n/g, "\n"));
}

/** Parses the PEM now, so a wrong file stops the start instead of every handshake. */
function checkPem(part: (typeof PARTS)[number], pem: Buffer, source: Env): void {
  const name = present(source, part.variable) === undefined ? `${part.variable}_FILE` : part.variable;
  try {
    if (part.field === "key") createPrivateKey(pem);
    else new X509Certificate(pem);
  } catch {
    throw new ConfigError(name, `is not a PEM ${part.field === "key" ? "private key" : "certificate"}`);
  }
}

/** The mTLS material, or undefined for plaintext. */
export const grpcTlsSetting: Setting<GrpcTls | undefined> = {
  read(source) {
    const parts = PARTS.map((part) => ({ part, pem: readPart(source, part.variable) }));
    const set = parts.filter((item) => item.pem !== undefined);
    if (set.length === 0) return undefined;
    const missing = parts.find((item) => item.pem === undefined);
    if (missing) {
      const given = set.map((item) => item.part.variable).join(", ");
      throw new ConfigError(
        missing.part.variable,
        `(or ${missing.part.variable}_FILE) is required for mutual TLS, since ${given} is set`,
      );
    }
    for (const { part, pem } of parts) checkPem(part, pem as Buffer, source);
    const [ca, cert, key] = parts.map((item) => item.pem as Buffer) as [Buffer, Buffer, Buffer];
    return { ca, cert, key };
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
