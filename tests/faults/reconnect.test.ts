/**
 * A service that comes back is reached again within a second of its port opening, after a
 * 10 s outage (trees, auth) and a 60 s one (sessions): real processes, the gateway's own
 * channels, timed from the first accepted TCP connection to the first 200 through the gateway.
 */

import { untilPortOpen } from "@tdt/test-support/port-open";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceName } from "../../scripts/stack.js";

let running: SystemWithAdmin;

beforeAll(async () => {
  running = await startSystemWithAdmin();
});

afterAll(async () => {
  await running?.stop();
});

const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

/** Stops `service`, keeps it down `outageMs`, starts it again; ms from port open to the first 200 of `route`. */
async function portOpenToFirst200(service: Exclude<ServiceName, "gateway">, route: string, outageMs: number) {
  const { system, admin } = running;
  const child = system.stack.processes.get(service);
  const exited = new Promise((resolve) => child?.once("exit", resolve));
  child?.kill("SIGTERM");
  await exited;
  // Calls during the outage keep the gateway's channel failing, as under real traffic.
  const outage = await fetch(`${system.url}${route}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(outage.status).toBe(503);
  await sleep(outageMs);

  const port = Number(system.addresses[service].split(":")[1]);
  const opened = untilPortOpen("127.0.0.1", port, 60_000);
  const restarted = system.stack.restart(service);
  const open = await opened;
  let attempts = 0;
  for (;;) {
    attempts++;
    const response = await fetch(`${system.url}${route}`, { headers: { authorization: `Bearer ${admin}` } });
    await response.arrayBuffer();
    if (response.status === 200) break;
    await sleep(10);
  }
  const elapsed = Math.round(performance.now() - open);
  await restarted;
  console.info(
    `${service} after ${outageMs / 1000} s down: port open -> first 200 in ${elapsed} ms (${attempts} requests)`,
  );
  return elapsed;
}

describe("reconnecting after an outage", () => {
  it("reaches trees again within 1 s of its port opening after 10 s down", async () => {
    expect(await portOpenToFirst200("trees", "/api/v1/trees", 10_000)).toBeLessThanOrEqual(1000);
  }, 60_000);

  it("reaches auth again within 1 s of its port opening after 10 s down", async () => {
    expect(await portOpenToFirst200("auth", "/api/v1/auth/me", 10_000)).toBeLessThanOrEqual(1000);
  }, 60_000);

  it("reaches sessions again within 1 s of its port opening after 60 s down", async () => {
    expect(await portOpenToFirst200("sessions", "/api/v1/sessions", 60_000)).toBeLessThanOrEqual(1000);
  }, 120_000);
});
