import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, type Setting } from "@tdt/kit";

/** The gateway's own certificate and key: with them it listens on https instead of http. */
export interface HttpsFiles {
  cert: Buffer;
  key: Buffer;
}

const CERT = "GATEWAY_TLS_CERT_FILE";
const KEY = "GATEWAY_TLS_KEY_FILE";

function readPem(variable: string, path: string, kind: "certificate" | "private key"): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  // Parsed now, so a wrong file stops the start instead of failing every handshake.
  try {
    if (kind === "private key") createPrivateKey(pem);
    else new X509Certificate(pem);
  } catch {
    throw new ConfigError(variable, `is not a PEM ${kind}`);
  }
  return pem;
}

/**
 * GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE, both or neither (plain HTTP, e.g. behind a
 * proxy that ends TLS). infra/tls/make-certs.sh makes a pair: DIR/gateway/cert.pem and key.pem.
 */
export const httpsSetting: Setting<HttpsFiles | undefined> = {
  read(env) {
    const cert = env[CERT]?.trim() || undefined;
    const key = env[KEY]?.trim() || undefined;
    if (cert === undefined && key === undefined) return undefined;
    if (cert === undefined) throw new ConfigError(CERT, `is required since ${KEY} is set`);
    if (key === undefined) throw new ConfigError(KEY, `is required since ${CERT} is set`);
    return { cert: readPem(CERT, cert, "certificate"), key: readPem(KEY, key, "private key") };
  },
};
