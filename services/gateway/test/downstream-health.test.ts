/**
 * The gateway's health gate with replicas: calls and checks go round_robin over a service's
 * replicas, so one replica draining (NOT_SERVING while it finishes its calls) must not close
 * the service's routes; only a service that no replica answers for is down. Real gRPC servers
 * on 127.0.0.1 and 127.0.0.2, the gateway's real client and watch.
 */
import { createServiceClient, type GrpcServerHandle, startGrpcServer } from "@tdt/kit";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Downstream } from "../src/api/downstream.js";
import { watchDownstream } from "../src/api/downstream-health.js";

const log = testLogger("gateway-health-test");
const draining = { "127.0.0.1": false, "127.0.0.2": false };
let port: number;
const servers: GrpcServerHandle[] = [];

beforeAll(async () => {
  port = await freePort();
  for (const host of ["127.0.0.1", "127.0.0.2"] as const) {
    servers.push(
      await startGrpcServer({
        host,
        port,
        bindings: [],
        serviceNames: ["tdt.trees.v1.TreesService"],
        isServing: () => !draining[host],
        log,
      }),
    );
  }
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.shutdown(1000)));
});

describe("the health gate over two replicas", () => {
  it("keeps a service open while one replica drains, and while all drain; closes it when none answers", async () => {
    const trees = createServiceClient(TreesServiceService, `ipv4:127.0.0.1:${port},127.0.0.2:${port}`, {
      timeoutMs: 2000,
    });
    // Only trees is watched here: the gate treats each downstream on its own.
    const health = watchDownstream({ trees } as unknown as Downstream, { intervalMs: 60_000 });
    try {
      draining["127.0.0.2"] = true;
      const looks = [];
      for (let look = 0; look < 20; look++) {
        const states = await health.check();
        looks.push([states.trees, health.isDown("trees")]);
      }
      // Every look found the replica that serves, whichever replica the first check met.
      expect(looks).toEqual(Array.from({ length: 20 }, () => ["SERVING", false]));

      // Both draining: /ready says NOT_SERVING, but calls still go through while they finish.
      draining["127.0.0.1"] = true;
      expect((await health.check()).trees).toBe("NOT_SERVING");
      expect(health.isDown("trees")).toBe(false);

      // Nothing answers: the routes close, and answer 503 at once.
      await Promise.all(servers.splice(0).map((server) => server.shutdown(1000)));
      // Once reconnecting has failed (a moment after the shutdown).
      await expect
        .poll(async () => [(await health.check()).trees, health.isDown("trees")], { timeout: 5000, interval: 50 })
        .toEqual(["NOT_SERVING", true]);
    } finally {
      health.stop();
      trees.close();
    }
  });
});
