/**
 * Issue 12's yardstick must do the work it is compared on: the one-process baseline
 * (bench/baseline), as its own process on real Postgres, sends a stored tree's exact bytes,
 * refuses a spent refresh token, and walks a session only by valid steps.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBaseline, startBaseline } from "../../bench/baseline/start.js";

interface Pair {
  access_token: string;
  refresh_token: string;
}

let baseline: RunningBaseline;
const call = (method: string, path: string, options: { token?: string; json?: unknown } = {}) =>
  fetch(`${baseline.url}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.json !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
  });
const user = async (email: string): Promise<Pair> =>
  (await (
    await call("POST", "/bench/users", { json: { email, full_name: "Bench", role: "technician" } })
  ).json()) as Pair;

const printer = readFileSync(new URL("../../services/trees/demo/printer-not-printing.json", import.meta.url), "utf8");
const treeId = randomUUID();
const document = JSON.stringify({ id: treeId, ...JSON.parse(printer) });

beforeAll(async () => {
  baseline = await startBaseline();
  const stored = await call("POST", "/bench/trees", {
    json: { id: treeId, title: "Printer", summary: { id: treeId, title: "Printer" }, document },
  });
  expect(stored.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await baseline?.stop();
});

describe("the one-process baseline", () => {
  it("sends a tree's stored bytes to a verified caller, and lists it with a total", async () => {
    const { access_token } = await user("reader@example.com");
    const answer = await call("GET", `/trees/${treeId}`, { token: access_token });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(document);
    expect((await call("GET", `/trees/${treeId}`)).status).toBe(401);
    expect((await call("GET", `/trees/${treeId}`, { token: "not.a.token" })).status).toBe(401);
    expect(await (await call("GET", "/trees/not-a-uuid", { token: access_token })).json()).toEqual({
      detail: "invalid_request",
    });
    expect((await call("GET", `/trees/${randomUUID()}`, { token: access_token })).status).toBe(404);
    const list = await call("GET", "/trees?limit=20", { token: access_token });
    expect(list.headers.get("x-total-count")).toBe("1");
    expect(await list.json()).toEqual([{ id: treeId, title: "Printer" }]);
  });

  it("answers /auth/me with the caller's user row", async () => {
    const { access_token } = await user("me@example.com");
    const me = await call("GET", "/auth/me", { token: access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: "me@example.com", role: "technician" });
  });

  it("refreshes along a chain and refuses a spent refresh token", async () => {
    const first = await user("chain@example.com");
    const second = await call("POST", "/auth/refresh", { json: { refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    const next = (await second.json()) as Pair;
    const spent = await call("POST", "/auth/refresh", { json: { refresh_token: first.refresh_token } });
    expect(spent.status).toBe(401);
    expect(await spent.json()).toEqual({ detail: "invalid_refresh_token" });
    expect((await call("POST", "/auth/refresh", { json: { refresh_token: next.refresh_token } })).status).toBe(200);
    expect((await call("GET", "/auth/me", { token: next.access_token })).status).toBe(200);
  });

  it("walks a session by valid steps only, to a solution", async () => {
    const { access_token: token } = await user("walker@example.com");
    const started = await call("POST", "/sessions", { token, json: { tree_id: treeId } });
    expect(started.status).toBe(201);
    const session = (await started.json()) as { id: string; current_node_id: string };
    expect(session.current_node_id).toBe("check_power");
    const wrongNode = await call("PUT", `/sessions/${session.id}`, {
      token,
      json: { op: "answer", node_id: "elsewhere", option_id: "yes" },
    });
    expect(wrongNode.status).toBe(409);
    const wrongOption = await call("PUT", `/sessions/${session.id}`, {
      token,
      json: { op: "answer", node_id: "check_power", option_id: "perhaps" },
    });
    expect(wrongOption.status).toBe(422);
    const tree = JSON.parse(printer) as {
      nodes: Array<{ id: string; type: string; next?: string; options?: Array<{ id: string; next: string }> }>;
    };
    const nodes = new Map(tree.nodes.map((node) => [node.id, node]));
    let at = "check_power";
    let answered: { status: string; steps: unknown[] } = { status: "active", steps: [] };
    for (let steps = 1; nodes.get(at)?.type !== "solution"; steps++) {
      const node = nodes.get(at);
      const step =
        node?.type === "action"
          ? { op: "continue", node_id: at }
          : { op: "answer", node_id: at, option_id: node?.options?.[0]?.id };
      const answer = await call("PUT", `/sessions/${session.id}`, { token, json: step });
      expect(answer.status).toBe(200);
      answered = (await answer.json()) as typeof answered;
      expect(answered.steps).toHaveLength(steps);
      at = (node?.type === "action" ? node.next : node?.options?.[0]?.next) ?? "";
    }
    expect(answered.status).toBe("completed");
  });
});
