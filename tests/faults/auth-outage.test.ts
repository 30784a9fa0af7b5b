/**
 * Issue 9: an auth outage does not spread. The gateway, trees and sessions restart while auth is
 * down and still verify tokens with the keys they last had (JWKS_CACHE_DIR), while still refusing
 * a token signed with an unknown key and one whose login session ended before the outage.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimsOf } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceName } from "../../scripts/stack.js";

const BURST = 40;

let running: SystemWithAdmin;
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "tdt-jwks-cache-"));
  running = await startSystemWithAdmin({ JWKS_CACHE_DIR: cacheDir });
}, 90_000);

afterAll(async () => {
  await running?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

async function stop(name: ServiceName): Promise<void> {
  const child = running.system.stack.processes.get(name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

describe("auth down, and the others restarted meanwhile", () => {
  it("keeps serving authenticated reads with the last keys, and still refuses unknown keys and ended sessions", async () => {
    const { client, system } = running;
    const { tokens } = await client.user("outage");
    const ended = await client.user("ended");
    // Every verifier has fetched (and so kept) the keys, and the ended session is announced.
    expect((await client.call("GET", "/api/v1/trees", { token: tokens.access_token })).status).toBe(200);
    expect((await client.call("GET", "/api/v1/sessions", { token: tokens.access_token })).status).toBe(200);
    expect((await client.call("POST", "/api/v1/auth/logout", { token: ended.tokens.access_token })).status).toBe(204);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/trees", { token: ended.tokens.access_token })).status, {
        timeout: 5000,
      })
      .toBe(401);

    await stop("auth");
    await Promise.all((["gateway", "trees", "sessions"] as const).map(stop));
    // Started again while auth is away; /ready says degraded (trees and sessions serve).
    await Promise.all((["trees", "sessions", "gateway"] as const).map((name) => system.stack.restart(name)));

    const outcomes = new Map<string, number>();
    for (let index = 0; index < BURST; index++) {
      for (const path of ["/api/v1/trees", "/api/v1/sessions"]) {
        const response = await client.call("GET", path, { token: tokens.access_token });
        const key = `${path} ${response.status}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    console.log(`auth down, others restarted: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(Object.fromEntries(outcomes)).toEqual({ "/api/v1/trees 200": BURST, "/api/v1/sessions 200": BURST });

    // A token signed with a key auth never published is still refused, as is the ended session's.
    const { privateKey } = await (await import("jose")).generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ ...claimsOf(tokens.access_token) })
      .setProtectedHeader({ alg: "EdDSA", kid: "not-a-key-of-ours", typ: "at+jwt" })
      .sign(privateKey);
    expect((await client.call("GET", "/api/v1/trees", { token: forged })).status).toBe(401);
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/trees", { token: ended.tokens.access_token })).status, {
        timeout: 5000,
      })
      .toBe(401);

    await system.stack.restart("auth");
    await expect
      .poll(async () => (await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).status, {
        timeout: 3000,
      })
      .toBe(200);
  }, 180_000);
});
