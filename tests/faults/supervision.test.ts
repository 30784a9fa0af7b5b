import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { type PrivateNats, startPrivateNats } from "@tdt/test-support/nats";
import { markedProcesses } from "@tdt/test-support/processes";
import { runCommandEnvironment, spawnRunCommand } from "@tdt/test-support/run-command";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const _START = fileURLToPath(new URL("../../scripts/dist/start.js", import.meta.url));
const TREES_FILE = "services/trees/dist/main.js";
const ADMIN_PASSWORD = "supervision-admin-password";

let nats: PrivateNats;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  nats = await startPrivateNats();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await nats?.dispose();
});

/** The real run command on free ports and fresh databases, in its own process group as in a terminal. */
async function startRunner() {
  // Its own admin password: without one, `npm start` makes a random one for its data folder.
  const { env, marker, ports } = await runCommandEnvironment(nats, cleanups, {
    label: "sup",
    logLevel: "warn",
    extra: { ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  const { child, exited, output } = spawnRunCommand(env, cleanups);
  await expect.poll(output, { timeout: 90_000, interval: 200 }).toContain("[start] TDT is up.");
  const api = `http://127.0.0.1:${ports.gateway}/api/v1`;
  const login = await fetch(`${api}/auth/login/json`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "admin@example.com", password: ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  const { access_token: token } = (await login.json()) as { access_token: string };
  const get = async (path: string) => {
    try {
      const response = await fetch(`${api}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  };
  const treesPid = async () =>
    (await markedProcesses(marker)).find((process) => process.command.endsWith(TREES_FILE))?.pid;
  const ctrlC = async () => {
    process.kill(-(child.pid as number), "SIGINT");
    return exited;
  };
  const demoTreeId = async () => {
    const response = await fetch(`${api}/trees?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    const [tree] = (await response.json()) as Array<{ id: string }>;
    return tree?.id ?? "none";
  };
  return { output, marker, ports: { trees: ports.trees }, get, treesPid, ctrlC, demoTreeId };
}

/** Calls `path` in a loop until `stop`, counting answers by status. */
function steadily(get: (path: string) => Promise<number>, path: string, stop: AbortSignal) {
  const counts = new Map<number, number>();
  const done = (async () => {
    while (!stop.aborted) {
      const status = await get(path);
      counts.set(status, (counts.get(status) ?? 0) + 1);
      await new Promise((wake) => setTimeout(wake, 20));
    }
    return counts;
  })();
  return done;
}

describe("npm start supervises its services", () => {
  // In 2 of 3 full `.ci/run`s of an earlier session the restarted trees found its port held
  // (EADDRINUSE for 15 s and more) by something never identified; it has passed in every run
  // since. Should it fail again, it prints who holds the port (see docs/resilience.md).
  it("restarts trees after kill -9: a [start] line, trees answers again, the other routes kept working", async () => {
    const runner = await startRunner();
    expect(await runner.get("/trees")).toBe(200);
    // What trees itself answers: a demo tree's versions, which the gateway keeps no copy of (a
    // kept list answered 200 all through the restart, so the test never saw trees go down).
    const treePath = `/trees/${await runner.demoTreeId()}/versions`;
    expect(await runner.get(treePath)).toBe(200);
    const killed = (await runner.treesPid()) as number;
    expect(killed).toBeGreaterThan(0);

    const stopLoad = new AbortController();
    const others = steadily(runner.get, "/auth/me", stopLoad.signal);
    const killedAt = Date.now();
    process.kill(killed, "SIGKILL");
    let backAt = 0;
    let sawDown = false;
    while (Date.now() - killedAt < 30_000) {
      const status = await runner.get(treePath);
      if (status !== 200) sawDown = true;
      if (status === 200 && sawDown) {
        backAt = Date.now();
        break;
      }
      await new Promise((wake) => setTimeout(wake, 20));
    }
    stopLoad.abort();
    const otherCounts = await others;
    if (!backAt) {
      // Who holds the port, for the failure message.
      const holders = execFileSync(
        "ss",
        ["-tanpe", `( sport = :${runner.ports.trees} or dport = :${runner.ports.trees} )`],
        {
          encoding: "utf8",
        },
      );
      console.log(`port ${runner.ports.trees} after the failed restart:\n${holders}\n${runner.output().slice(-4000)}`);
    }
    const recovery = backAt - killedAt;
    console.log(`kill -9 trees -> first 200: ${recovery} ms; /auth/me meanwhile: ${JSON.stringify([...otherCounts])}`);

    expect(backAt).toBeGreaterThan(0);
    expect(recovery).toBeLessThan(10_000);
    expect(runner.output()).toMatch(/\[start\] trees exited on SIGKILL: .*; restarting in 0\.5 s\./);
    expect(await runner.treesPid()).not.toBe(killed);
    // Auth routes answered throughout: every call was a 200.
    expect([...otherCounts.keys()]).toEqual([200]);
    expect(otherCounts.get(200)).toBeGreaterThan(5);

    expect(await runner.ctrlC()).toEqual({ code: 0, signal: null });
    expect(await markedProcesses(runner.marker)).toEqual([]);
  }, 180_000);

  it("a service that cannot come back is retried with capped, growing backoff; Ctrl-C cancels the pending restart", async () => {
    const runner = await startRunner();
    const killed = (await runner.treesPid()) as number;
    process.kill(killed, "SIGKILL");
    // Someone else takes trees' port while it is down: every restart fails with its own reason.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((listening, failed) => {
      squatter.once("error", failed);
      const attempt = () =>
        squatter.listen(runner.ports.trees, "127.0.0.1", listening).once("error", () => setTimeout(attempt, 20));
      attempt();
    }).catch(() => {});
    // Not awaited: close() waits for connections, and callers keep dialing the port.
    cleanups.push(async () => void squatter.close());

    const restartLines = () => runner.output().match(/\[start\] trees exited .*restarting in .*/g) ?? [];
    await expect.poll(() => restartLines().length, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(5);
    const lines = restartLines();
    console.log(lines.join("\n"));
    const delays = lines.map((line) => Number(/restarting in ([\d.]+) s/.exec(line)?.[1]));
    expect(delays.slice(0, 5)).toEqual([0.5, 1, 2, 4, 8]);
    expect(lines[1]).toMatch(/exited with code 1: failed to start: .*EADDRINUSE/);
    expect(lines[4]).toContain("(5 exits within a minute, still retrying)");
    // The rest keeps serving; trees' routes answer 503 quickly.
    expect(await runner.get("/auth/me")).toBe(200);
    expect(await runner.get("/trees")).toBe(503);

    // Ctrl-C while trees waits 8 s for its next try: no restart, everything stops, nothing left.
    const ctrlCAt = Date.now();
    expect(await runner.ctrlC()).toEqual({ code: 0, signal: null });
    expect(Date.now() - ctrlCAt).toBeLessThan(8_000);
    expect(await markedProcesses(runner.marker)).toEqual([]);
  }, 180_000);
});
