/**
 * docker-compose.yml as written, run: every container healthy, two replicas of each backend,
 * three NATS servers keeping every stream on all three, containers non-root with read-only root
 * filesystems, and a user's whole journey through the gateway's published port and through the
 * web container.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEAD_TAG } from "./global-setup.js";
import { journey } from "./journey.js";
import { BACKENDS, docker, type Stack, startStack } from "./stack.js";

let stack: Stack;

beforeAll(async () => {
  const started = Date.now();
  stack = await startStack(HEAD_TAG);
  console.log(`stack ${stack.project} healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await stack?.down();
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

  it("serves the same journey through the web container, and the web app itself", async () => {
    await journey(stack.webUrl);
    const page = await fetch(`${stack.webUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    // Anything that is neither the app nor the API is nginx's 404, never the gateway's.
    expect((await fetch(`${stack.webUrl}/nothing/here`)).status).toBe(404);
  });
});
