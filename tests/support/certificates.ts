/** Certificates for mutual TLS tests, made by the same script operators use (infra/tls/make-certs.sh). */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "../../scripts/root.js";

export interface Certificates {
  dir: string;
  /** The GRPC_TLS_*_FILE variables of one identity. */
  env(identity: string): Record<string, string>;
  /** One identity's CA, certificate and key, as the kit's GrpcTls. */
  tls(identity: string): { ca: Buffer; cert: Buffer; key: Buffer };
  dispose(): Promise<void>;
}

/** A fresh CA in a temporary directory and one certificate per identity. */
export async function makeCertificates(
  identities: string[] = ["gateway", "auth", "trees", "sessions", "hooks"],
): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), "tdt-certs-"));
  execFileSync("sh", [resolve(ROOT, "infra/tls/make-certs.sh"), dir, ...identities], { stdio: "pipe" });
  const file = (identity: string, name: string) => join(dir, identity, name);
  return {
    dir,
    env: (identity) => ({
      GRPC_TLS_CA_FILE: file(identity, "ca.pem"),
      GRPC_TLS_CERT_FILE: file(identity, "cert.pem"),
      GRPC_TLS_KEY_FILE: file(identity, "key.pem"),
    }),
    tls: (identity) => ({
      ca: readFileSync(file(identity, "ca.pem")),
      cert: readFileSync(file(identity, "cert.pem")),
      key: readFileSync(file(identity, "key.pem")),
    }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
