/**
 * The observability setup agrees with itself and with the services: each service's metrics
 * port is the same in compose, Prometheus's scrape config and the Kubernetes manifests, and
 * every query of the Grafana dashboard asks for metrics the services publish.
 * No Docker engine here: these read the files.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_METRICS_PORTS } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";
import { SERVICES } from "../../scripts/stack.js";

const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

/** Each process's metrics port (issue 13): never the gateway's public port. */
const METRICS_PORTS = DEFAULT_METRICS_PORTS;

/** The metric families the services publish, as Prometheus names them (issue 13). */
const HISTOGRAMS = ["http_server_request_duration", "rpc_server_duration", "rpc_client_duration"];
const METRICS = new Set([
  ...HISTOGRAMS.flatMap((name) => ["_bucket", "_sum", "_count"].map((suffix) => name + suffix)),
  "tdt_outbox_waiting",
  "tdt_outbox_oldest_age",
  "tdt_outbox_relayed_total",
  "tdt_consumer_lag",
  "tdt_consumer_redeliveries_total",
  "tdt_revocations_size",
  "tdt_auth_logins_total",
  "tdt_auth_refreshes_total",
  "tdt_rate_limit_refusals_total",
  "db_client_connection_count",
  "db_client_connection_pending_requests",
  "tdt_cache_lookups_total",
]);

/** The PromQL words a dashboard query may use besides metric names. */
const PROMQL_WORDS = new Set([
  "sum",
  "max",
  "min",
  "avg",
  "count",
  "topk",
  "by",
  "without",
  "rate",
  "increase",
  "histogram_quantile",
  "and",
  "or",
  "unless",
]);

/** The metric names a PromQL expression reads: what is left without label matchers, grouping, ranges and functions. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(by|without)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((word) => !PROMQL_WORDS.has(word));
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

describe("the metrics ports", () => {
  it("are set in compose, and never published to the host", () => {
    const compose = read("docker-compose.yml");
    expect(compose).toContain("METRICS_HOST: 0.0.0.0\n");
    for (const service of SERVICES) {
      const port = METRICS_PORTS[service];
      expect(compose).toContain(`${service.toUpperCase()}_METRICS_PORT: "${port}"\n`);
      expect(compose).not.toMatch(new RegExp(`- "[^"]*${port}:`));
    }
  });

  it("are the ones Prometheus scrapes in compose", () => {
    const prometheus = read("infra/observability/prometheus.yml");
    for (const service of SERVICES) {
      expect(prometheus).toContain(
        `- job_name: ${service}\n    dns_sd_configs:\n      - names: [${service}]\n        type: A\n        port: ${METRICS_PORTS[service]}\n`,
      );
    }
  });

  it("are set, named and annotated for scraping in Kubernetes", () => {
    const config = read("infra/k8s/config.yaml");
    expect(config).toContain('METRICS_HOST: "0.0.0.0"\n');
    for (const service of SERVICES) {
      const port = METRICS_PORTS[service];
      expect(config).toContain(`${service.toUpperCase()}_METRICS_PORT: "${port}"\n`);
      const deployment = read(`infra/k8s/${service}.yaml`);
      expect(deployment).toContain(
        `prometheus.io/scrape: "true"\n        prometheus.io/port: "${port}"\n        prometheus.io/path: /metrics\n`,
      );
      expect(deployment).toContain(`- name: metrics\n              containerPort: ${port}\n`);
    }
  });
});

describe("the Grafana dashboard", () => {
  const dashboard = JSON.parse(read("infra/observability/grafana/dashboards/tdt.json")) as { panels: Panel[] };
  const graphs = dashboard.panels.filter((panel) => panel.type !== "row");

  it("queries the provisioned Prometheus data source in every panel", () => {
    const uid = /^\s+uid: (\S+)$/m.exec(
      read("infra/observability/grafana/provisioning/datasources/prometheus.yaml"),
    )?.[1];
    expect(uid).toBeDefined();
    expect(graphs.length).toBeGreaterThan(0);
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(uid);
    }
  });

  it("asks only for metrics the services publish", () => {
    const used = new Set<string>();
    for (const panel of graphs) {
      for (const { expr } of panel.targets ?? []) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(METRICS.has(name), `${panel.title}: ${name}`).toBe(true);
          used.add(name);
        }
      }
    }
    // Every family is on the dashboard (a histogram through its buckets or its count).
    for (const name of METRICS) {
      const family = HISTOGRAMS.find((histogram) => name.startsWith(histogram));
      if (family)
        expect(
          [...used].some((usedName) => usedName.startsWith(family)),
          family,
        ).toBe(true);
      else expect(used.has(name), name).toBe(true);
    }
  });
});
