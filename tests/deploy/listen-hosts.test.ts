/**
 * Issue 23: outside a container every port listens on loopback by default; every container
 * listens on all its interfaces because its image or manifest says so, not by a default.
 * No Docker engine here: these read the files and the configuration defaults.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { readConfig, shared } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";
import { gatewayConfig } from "../../services/gateway/src/config.js";

const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

describe("where the processes listen", () => {
  it("is loopback by default: the gateway, the metrics servers and gRPC", () => {
    const { host, metricsHost } = readConfig({ host: gatewayConfig.host, metricsHost: gatewayConfig.metricsHost }, {});
    expect({ host, metricsHost, grpc: readConfig({ grpc: shared.grpcBindHost }, {}).grpc }).toEqual({
      host: "127.0.0.1",
      metricsHost: "127.0.0.1",
      grpc: "127.0.0.1",
    });
  });

  it("is every interface in the image, for all three", () => {
    const dockerfile = read("Dockerfile");
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(final).toMatch(/^ENV GRPC_BIND_HOST=0\.0\.0\.0 GATEWAY_HOST=0\.0\.0\.0 METRICS_HOST=0\.0\.0\.0$/m);
  });

  it("is every interface in compose and in Kubernetes, said there too", () => {
    const compose = read("docker-compose.yml");
    expect(compose).toContain("  GRPC_BIND_HOST: 0.0.0.0\n");
    expect(compose).toContain("  METRICS_HOST: 0.0.0.0\n");
    const config = read("infra/k8s/config.yaml");
    for (const variable of ["GATEWAY_HOST", "METRICS_HOST", "GRPC_BIND_HOST"]) {
      expect(config).toContain(`  ${variable}: "0.0.0.0"\n`);
    }
  });
});
