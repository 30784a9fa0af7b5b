/**
 * Issue 23: `/metrics` on loopback by default, and behind METRICS_TOKEN when it is set. A real
 * metrics server on a free loopback port, asked over HTTP.
 */
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, readConfig, shared } from "../src/config.js";
import { type MetricsServer, meter, startMetrics } from "../src/observability/metrics.js";

const TOKEN = "a-metrics-token-of-some-length";
let running: MetricsServer | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function serve(token: string | undefined): Promise<string> {
  const port = await freePort();
  running = await startMetrics({ serviceName: "tdt-test", host: "127.0.0.1", port, token, log: testLogger() });
  meter().createCounter("tdt.test.things").add(3);
  return `http://127.0.0.1:${port}`;
}

const get = (url: string, authorization?: string) =>
  fetch(url, { headers: authorization ? { authorization } : {} }).then(async (response) => ({
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    body: await response.text(),
  }));

describe("metrics settings", () => {
  it("listen on loopback unless METRICS_HOST says otherwise, with no token unless METRICS_TOKEN is set", () => {
    const settings = { host: shared.metricsHost, token: shared.metricsToken };
    expect(readConfig(settings, {})).toEqual({ host: "127.0.0.1", token: undefined });
    expect(readConfig(settings, { METRICS_HOST: "0.0.0.0", METRICS_TOKEN: TOKEN })).toEqual({
      host: "0.0.0.0",
      token: TOKEN,
    });
  });

  it("refuse a token that is short or holds whitespace, naming METRICS_TOKEN", () => {
    for (const weak of ["short", "fifteen-chars-x", "sixteen chars ok"]) {
      expect(() => readConfig({ token: shared.metricsToken }, { METRICS_TOKEN: weak })).toThrow(ConfigError);
      expect(() => readConfig({ token: shared.metricsToken }, { METRICS_TOKEN: weak })).toThrow(/^METRICS_TOKEN /);
    }
  });
});

describe("/metrics with METRICS_TOKEN", () => {
  it("answers 401 without the token, with another token or another scheme, and 200 with it", async () => {
    const base = await serve(TOKEN);
    for (const authorization of [
      undefined,
      "Bearer not-the-token",
      `Bearer ${TOKEN}x`,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`,
      TOKEN,
    ]) {
      const answer = await get(`${base}/metrics`, authorization);
      expect(answer.status, String(authorization)).toBe(401);
      expect(answer.challenge).toBe('Bearer realm="metrics"');
      expect(answer.body).toBe("");
    }
    const allowed = await get(`${base}/metrics`, `Bearer ${TOKEN}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('service_name="tdt-test"');
    expect(allowed.body).toMatch(/^tdt_test_things_total\{[^}]*\} 3$/m);
    // The query string does not change the path.
    expect((await get(`${base}/metrics?x=1`, `Bearer ${TOKEN}`)).status).toBe(200);
  });

  it("answers 404 off /metrics, token or not", async () => {
    const base = await serve(TOKEN);
    expect((await get(`${base}/`, `Bearer ${TOKEN}`)).status).toBe(404);
    expect((await get(`${base}/metrics/x`)).status).toBe(404);
  });

  it("without a token, answers anyone, as before", async () => {
    const base = await serve(undefined);
    const answer = await get(`${base}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('service_name="tdt-test"');
    expect((await get(`${base}/elsewhere`)).status).toBe(404);
  });

  it("frees its port on stop", async () => {
    const base = await serve(TOKEN);
    await running?.stop();
    running = undefined;
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });
});
