/** The gateway serves the built web app at `/` (WEB_ROOT): the page and its assets, nothing else. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfig } from "@tdt/kit";
import { freePort } from "@tdt/test-support/ports";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayConfig } from "../src/config.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

let root: string;
const gateways: TestGateway[] = [];

async function gateway(webRoot: string | undefined): Promise<FastifyInstance> {
  const started = await startTestGateway(await freePort(), { webRoot });
  gateways.push(started);
  return started.app;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tdt-web-"));
  await writeFile(join(root, "index.html"), '<!doctype html><script type="module" src="app.js"></script>');
  await writeFile(join(root, "app.js"), "console.log('app');");
  await writeFile(join(root, "app.css"), "body { margin: 0 }");
});

afterAll(async () => {
  for (const started of gateways) await started.close();
  await rm(root, { recursive: true, force: true });
});

describe("the web app at /", () => {
  it("serves the page at / with a policy that allows scripts and styles from this origin only", async () => {
    const app = await gateway(root);
    const page = await app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain('src="app.js"');
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers["cache-control"]).toBe("no-cache");
  });

  it("serves its assets with their types", async () => {
    const app = await gateway(root);
    const script = await app.inject({ method: "GET", url: "/app.js" });
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.body).toBe("console.log('app');");
    const style = await app.inject({ method: "GET", url: "/app.css" });
    expect(style.headers["content-type"]).toBe("text/css; charset=utf-8");
  });

  it("serves nothing else: routes live in the hash, other paths are the API's 404", async () => {
    const app = await gateway(root);
    for (const url of ["/trees", "/other.js", "/../package.json", "/index.html/x"]) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toEqual({ detail: "not_found" });
    }
    const api = await app.inject({ method: "GET", url: "/health" });
    expect(api.statusCode).toBe(200);
  });

  it("leaves / a 404 without a web root", async () => {
    const app = await gateway(undefined);
    const response = await app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: "not_found" });
  });
});

describe("WEB_ROOT", () => {
  it("names the folder; empty serves none; a missing folder is a configuration error", () => {
    expect(readConfig(gatewayConfig, { WEB_ROOT: root }).webRoot).toBe(root);
    expect(readConfig(gatewayConfig, { WEB_ROOT: "" }).webRoot).toBeUndefined();
    expect(() => readConfig(gatewayConfig, { WEB_ROOT: join(root, "missing") })).toThrow(/WEB_ROOT/);
  });
});
