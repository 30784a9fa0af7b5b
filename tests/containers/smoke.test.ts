/**
 * docker-compose.yml as written, run: every container healthy, two replicas of each backend,
 * three NATS servers keeping every stream on all three, containers non-root with read-only root
 * filesystems, a user's whole journey through the gateway's published port and through the
 * web container, the gateway reaching hooks, and a single sign-on against oidc-provider on its defaults (on the host, at
 * an address of the host the containers reach: Docker's bridge gateway).
 */

import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort } from "@tdt/test-support/ports";
import { ssoJourney } from "@tdt/test-support/sso-journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevIssuer, startDevIssuer } from "../../scripts/oidc-dev-issuer.js";
import { HEAD_TAG } from "./global-setup.js";
import { client, journey, login } from "./journey.js";
import { BACKENDS, docker, type Stack, startStack } from "./stack.js";

let stack: Stack;
let issuer: DevIssuer;
let caDir: string;

beforeAll(async () => {
  const started = Date.now();
  const gatewayPort = await freePort();
  const publicUrl = `http://127.0.0.1:${gatewayPort}`;
  // The host as the containers see it: the default bridge's gateway, one of the host's own addresses.
  const hostAddress =
    (await docker("network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}")).trim() ||
    "172.17.0.1";
  // https (auth takes plain http only from loopback): a CA for the run and the issuer's
  // certificate for that address; auth trusts the CA (compose.sso.yml).
  caDir = mkdtempSync(join(tmpdir(), "tdt-sso-ca-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: caDir, stdio: "pipe" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=tdt-test-ca",
  );
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "issuer.csr", "-subj", "/CN=issuer");
  writeFileSync(join(caDir, "san.ext"), `subjectAltName=IP:${hostAddress}\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    "issuer.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "san.ext",
  );
  // Readable by the containers' node user: the folder (mkdtemp makes it 0700) and the CA.
  chmodSync(caDir, 0o755);
  chmodSync(join(caDir, "ca.pem"), 0o644);
  issuer = await startDevIssuer({
    host: hostAddress,
    port: await freePort(),
    tls: { cert: readFileSync(join(caDir, "cert.pem")), key: readFileSync(join(caDir, "key.pem")) },
    clients: [
      {
        client_id: "tdt",
        client_secret: "compose-client-secret",
        redirect_uris: [`${publicUrl}/api/v1/auth/oidc/dev/callback`],
      },
    ],
  });
  stack = await startStack(HEAD_TAG, {
    files: ["tests/containers/compose.sso.yml"],
    env: {
      TEST_OIDC_CA_DIR: caDir,
      GATEWAY_PORT: String(gatewayPort),
      PUBLIC_URL: publicUrl,
      OIDC_PROVIDERS: JSON.stringify([
        { id: "dev", issuer: issuer.issuer, client_id: "tdt", client_secret: "compose-client-secret" },
      ]),
    },
  });
  console.log(`stack ${stack.project} healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await stack?.down();
  await issuer?.stop();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe("the compose stack", () => {
  it("runs two replicas of each backend and three NATS servers, all healthy", async () => {
    for (const backend of BACKENDS) expect(await stack.containers(backend), backend).toHaveLength(2);
    for (const server of ["nats-1", "nats-2", "nats-3"]) expect(await stack.containers(server), server).toHaveLength(1);
    expect(await stack.containers("gateway")).toHaveLength(1);
    expect(await stack.containers("web")).toHaveLength(1);
  });

  it("runs the services as the non-root node user on a read-only root filesystem, labelled with their version", async () => {
    for (const service of [...BACKENDS, "gateway"]) {
      for (const container of await stack.containers(service)) {
        const [user, readOnly, version] = (
          await docker(
            "inspect",
            "--format",
            '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{index .Config.Labels "org.opencontainers.image.version"}}',
            container,
          )
        )
          .trim()
          .split(" ");
        expect(user, container).toBe("node");
        expect(readOnly, container).toBe("true");
        expect(version, container).toMatch(/\S/);
        // Nothing may be written outside /tmp and the state volume: a write to the image fails.
        await expect(docker("exec", container, "sh", "-c", "touch /app/written")).rejects.toThrow(
          /Read-only file system/,
        );
      }
    }
  });

  it("keeps every stream on the three NATS servers", async () => {
    const nc = await connect({ servers: stack.natsUrls, user: "trees", pass: stack.natsPasswords.trees });
    try {
      const jsm = await jetstreamManager(nc);
      for (const stream of ["AUTH_EVENTS", "TREE_EVENTS", "SESSION_EVENTS"]) {
        const info = await jsm.streams.info(stream);
        expect(info.config.num_replicas, stream).toBe(3);
        expect(info.cluster?.replicas ?? [], stream).toHaveLength(2);
      }
    } finally {
      await nc.close();
    }
  });

  it("serves a user's whole journey through the gateway's published port", async () => {
    const done = await journey(stack.gatewayUrl);
    expect(done.version).toMatch(/\S/);
  });

  it("reaches hooks through the gateway, over mutual TLS: an admin's webhook endpoints", async () => {
    const call = client(stack.gatewayUrl);
    const ready = await call<{ services: Record<string, string> }>("GET", "/ready");
    expect(ready.body.services.hooks, JSON.stringify(ready.body)).toBe("SERVING");
    const endpoints = await call("GET", "/api/v1/webhooks", await login(stack.gatewayUrl));
    expect(endpoints.status, JSON.stringify(endpoints.body)).toBe(200);
  });

  it("serves the same journey through the web container, and the web app itself", async () => {
    await journey(stack.webUrl);
    const page = await fetch(`${stack.webUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    // Anything that is neither the app nor the API is nginx's 404, never the gateway's.
    expect((await fetch(`${stack.webUrl}/nothing/here`)).status).toBe(404);
  });

  it("signs a person in with the provider: discovery, the code flow and the exchange, from the containers", async () => {
    const sso = ssoJourney(stack.gatewayUrl);
    // This test's fetch plays the browser, which would have the run's CA installed; what is
    // under test is auth's trust (it has the CA, nothing else), so the browser checks none.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const { tokens } = await sso.signIn("carol@example.com", "dev").finally(() => {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    });
    const me = await client(stack.gatewayUrl)<{ email: string }>("GET", "/api/v1/auth/me", tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe("carol@example.com");
  });
});
