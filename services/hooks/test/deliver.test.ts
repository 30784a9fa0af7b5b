import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressGuard } from "../src/address-guard.js";
import { attemptDelivery, delivered } from "../src/deliver.js";

/** A receiver on loopback that answers by path. */
let server: Server;
let base: string;
const received: Array<{ path: string; headers: IncomingMessage["headers"]; body: string }> = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString() });
      if (request.url === "/ok") response.writeHead(204).end();
      else if (request.url === "/redirect") response.writeHead(302, { location: "http://169.254.169.254/" }).end();
      else if (request.url === "/big") {
        response.writeHead(500);
        response.end("x".repeat(1_000_000));
      } else if (request.url === "/slow") setTimeout(() => response.writeHead(200).end(), 2_000);
      else response.writeHead(410).end("gone for good");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const loopback = new AddressGuard(["127.0.0.0/8"]);
const body = '{"specversion":"1.0"}';

describe("one delivery attempt", () => {
  it("posts the body with its headers and counts a 2xx as delivered", async () => {
    const result = await attemptDelivery(`${base}/ok`, { "webhook-id": "evt_1" }, body, { guard: loopback });
    expect(result).toMatchObject({ status: 204, excerpt: "" });
    expect(delivered(result)).toBe(true);
    const last = received.at(-1);
    expect(last).toMatchObject({ path: "/ok", body });
    expect(last?.headers).toMatchObject({ "webhook-id": "evt_1", "content-type": "application/json" });
    expect(last?.headers.cookie).toBeUndefined();
  });

  it("follows no redirect: a 3xx is an answer, not a delivery", async () => {
    const before = received.length;
    const result = await attemptDelivery(`${base}/redirect`, {}, body, { guard: loopback });
    expect(result.status).toBe(302);
    expect(delivered(result)).toBe(false);
    expect(received.length).toBe(before + 1);
  });

  it("reads at most the cap of an answer and keeps a short excerpt", async () => {
    const result = await attemptDelivery(`${base}/big`, {}, body, {
      guard: loopback,
      maxBodyBytes: 4096,
      excerptBytes: 100,
    });
    expect(result.status).toBe(500);
    expect(result.excerpt).toBe("x".repeat(100));
  });

  it("gives up at its time limit", async () => {
    const result = await attemptDelivery(`${base}/slow`, {}, body, { guard: loopback, timeoutMs: 300 });
    expect(result.error).toBe("timeout");
    expect(result.status).toBeUndefined();
    expect(result.latency_ms).toBeLessThan(2_000);
  });

  it("refuses loopback unless listed, and says so without connecting", async () => {
    const before = received.length;
    const result = await attemptDelivery(`${base}/ok`, {}, body, { guard: new AddressGuard() });
    expect(result.error).toBe("address_not_allowed");
    expect(received.length).toBe(before);
  });

  it("connects to the address it checked, whatever the name resolves to afterwards", async () => {
    let lookups = 0;
    // The first answer is the one checked; a resolver that changed its mind later is never asked again.
    const lookup = async () => {
      lookups++;
      return lookups === 1 ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "10.0.0.1", family: 4 }];
    };
    const port = (server.address() as AddressInfo).port;
    const result = await attemptDelivery(`http://hooks.test:${port}/ok`, {}, body, { guard: loopback, lookup });
    expect(result.status).toBe(204);
    expect(lookups).toBe(1);
    expect(received.at(-1)?.headers.host).toBe(`hooks.test:${port}`);
  });

  it("says the connection failed when nothing listens", async () => {
    const result = await attemptDelivery("http://127.0.0.1:9/ok", {}, body, { guard: loopback });
    expect(result.error).toBe("connection_failed");
  });
});
