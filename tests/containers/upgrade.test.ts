/**
 * Releases side by side (the method of Dapr's and Vitess's upgrade tests): the previous release
 * (CHANGELOG.md, built from its commit) and HEAD in one compose stack.
 * 1. On the previous release, each service in turn at HEAD: a user's journey (the previous
 *    release's API, and its event consumers: analytics, revocations) works.
 * 2. A rolling upgrade to HEAD under load, one replica at a time: no failed request while the
 *    backends are replaced; the gateway and the web container, single in compose, are swapped
 *    after and their gap is measured.
 * 3. On HEAD, each service in turn back at the previous release: the journey works.
 * Throughout: the events of every acknowledged write arrive, once each, in order.
 * A service the previous release does not have (hooks) runs HEAD's image throughout: the previous
 * release's auth, trees and sessions beside it show that it deploys without them changing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSessionEvents } from "./events.js";
import { HEAD_TAG } from "./global-setup.js";
import { client, journey } from "./journey.js";
import { type LoadResult, startLoad, tally } from "./load.js";
import { previousRelease } from "./releases.js";
import { BACKENDS, buildImages, releaseHas, type Stack, startStack } from "./stack.js";

const PREVIOUS_TAG = "test-previous";
const previous = previousRelease();
/** The backends the previous release has: those are moved between the releases. */
const RELEASED = BACKENDS.filter((service) => releaseHas(previous, service));
/** The rest are newer: always at HEAD, their tag pinned there. */
const HEAD_ONLY = Object.fromEntries(
  BACKENDS.filter((service) => !RELEASED.includes(service)).map((service) => [
    `${service.toUpperCase()}_TAG`,
    HEAD_TAG,
  ]),
);
const SERVICES = [...RELEASED, "gateway"];
let stack: Stack;

beforeAll(async () => {
  const started = Date.now();
  await buildImages(PREVIOUS_TAG, previous);
  console.log(`${previous.version} images built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // v0.1.0's services take one NATS URL: every service uses the cluster's first server.
  console.log(`at HEAD throughout: ${Object.keys(HEAD_ONLY).join(", ") || "(none)"}`);
  stack = await startStack(PREVIOUS_TAG, { files: ["tests/containers/compose.one-nats-url.yml"], env: HEAD_ONLY });
}, 900_000);

afterAll(async () => {
  await stack?.down();
});

const versionOf = async () =>
  (await client(stack.gatewayUrl)<{ version?: string }>("GET", "/health")).body.version ?? "(none)";

describe(`${previous.version} and HEAD side by side`, () => {
  it(`serves the journey on ${previous.version} with each service in turn at HEAD`, async () => {
    await journey(stack.gatewayUrl);
    for (const service of SERVICES) {
      await stack.retag(service, HEAD_TAG);
      // Through the gateway: v0.1.0's web container answers /health with nginx's 404 (fixed since).
      await journey(stack.gatewayUrl);
      console.log(`${service} at HEAD, the rest at ${previous.version}: journey ok (gateway ${await versionOf()})`);
      await stack.retag(service, PREVIOUS_TAG);
    }
  });

  let load: Awaited<ReturnType<typeof startLoad>>;
  let result: LoadResult;
  let sessionsUpgradingAt = 0;
  let sessionsUpgradedAt = 0;

  it("upgrades to HEAD one replica at a time under load without a failed request", async () => {
    load = await startLoad(stack.gatewayUrl, 6);
    await new Promise((wake) => setTimeout(wake, 3000));
    const started = Date.now();
    for (const service of RELEASED) {
      if (service === "sessions") sessionsUpgradingAt = Date.now();
      const before = load.result.failures.length;
      const from = Date.now();
      await stack.retag(service, HEAD_TAG, { rolling: true });
      if (service === "sessions") sessionsUpgradedAt = Date.now();
      console.log(
        `${service}: both replicas replaced in ${Date.now() - from} ms; failures ${JSON.stringify(tally(load.result.failures.slice(before)))}`,
      );
    }
    const backendsDone = Date.now();
    const backendFailures = load.result.failures.filter((failure) => failure.at <= backendsDone);
    // The gateway and the web container: one each in compose (the gateway publishes the port),
    // so replacing them is a gap, measured here; Kubernetes runs two gateways behind a Service.
    const beforeGateway = load.result.failures.length;
    const swapFrom = Date.now();
    await stack.retag("gateway", HEAD_TAG);
    await stack.retag("web", HEAD_TAG);
    const swapMs = Date.now() - swapFrom;
    await new Promise((wake) => setTimeout(wake, 3000));
    result = await load.stop();
    const gap = result.failures.slice(beforeGateway);
    const gapMs = gap.length > 0 ? (gap.at(-1)?.at ?? 0) - (gap[0]?.at ?? 0) : 0;
    console.log(
      `rolling upgrade of the backends: ${backendsDone - started} ms, ${result.requests} requests in all, ` +
        `${backendFailures.length} failed during it; gateway and web replaced in ${swapMs} ms, requests ` +
        `failing for ${gapMs} ms of it: ${JSON.stringify(tally(gap))}`,
    );
    expect(await versionOf()).not.toBe(previous.version);
    expect(result.ok).toBeGreaterThan(100);
    expect(backendFailures, JSON.stringify(backendFailures.slice(0, 10))).toEqual([]);
  });

  it("delivers the event of every acknowledged write across the upgrade, once each and in order", async () => {
    // Order is asked of sessions started once both sessions replicas ran HEAD: the relays of
    // earlier releases published side by side (CHANGELOG: Unreleased), which is what the
    // sessions started before show.
    const ordered = (session: string) => (result.startedAt.get(session) ?? 0) > sessionsUpgradedAt;
    const everything = await checkSessionEvents(stack.natsUrls, stack.natsPasswords.trees, result.acks);
    const events = await checkSessionEvents(stack.natsUrls, stack.natsPasswords.trees, result.acks, {
      orderOf: ordered,
      settleMs: 0,
    });
    console.log(
      `events across the upgrade: ${JSON.stringify(everything)}; sessions out of order among those started ` +
        `before sessions was upgraded (from ${sessionsUpgradingAt}): ${everything.outOfOrder - events.outOfOrder}`,
    );
    console.log(`events across the upgrade: ${JSON.stringify(events)}`);
    expect(events.lost).toBe(0);
    expect(events.duplicates).toBe(0);
    expect(events.outOfOrder).toBe(0);
  });

  it(`serves the journey on HEAD with each service in turn back at ${previous.version}`, async () => {
    await journey(stack.gatewayUrl);
    for (const service of SERVICES) {
      await stack.retag(service, PREVIOUS_TAG);
      await journey(stack.gatewayUrl);
      console.log(`${service} at ${previous.version}, the rest at HEAD: journey ok`);
      await stack.retag(service, HEAD_TAG);
    }
  });
});
