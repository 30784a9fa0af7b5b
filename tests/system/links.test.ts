/**
 * Issue 15, link nodes, through the gateway: a tree hands over to a shared sub-tree and comes
 * back; validation of the link; edits of the linked tree not reaching a running session; back
 * across the link; a loop of links and an unpublished target refused with the session unmoved.
 */
import { randomUUID } from "node:crypto";
import { type SystemWithTeam, startSystemWithTeam } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithTeam;
let engineer: string;
let technician: string;

beforeAll(async () => {
  running = await startSystemWithTeam("linker");
  ({ engineer, technician } = running);
});

afterAll(async () => {
  await running?.stop();
});

interface Step {
  seq: number;
  node_id: string;
  node_title: string;
  tree_id: string;
  tree_version: number;
  option_id: string;
  outcome?: string;
}
interface Session {
  id: string;
  status: string;
  outcome: string | null;
  current_node: { id: string; title: string };
  steps: Step[];
}

const node = (id: string, type: string, rest: Record<string, unknown> = {}) => ({
  id,
  type,
  title: `${id}`,
  body: "",
  ...rest,
});

function treeBody(title: string, root: string, nodes: Array<Record<string, unknown>>, status = "published") {
  return { title, description: "", category: "Links", tags: [], status, root_node_id: root, change_note: "", nodes };
}

async function createTree(body: Record<string, unknown>): Promise<{ id: string; version: number }> {
  const created = await running.client.call<{ id: string; version: number }>("POST", "/api/v1/trees", {
    token: engineer,
    json: body,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/** The shared sub-procedure: restart the router, then it works. */
const networkCheck = (title = "Restart the router") =>
  treeBody("Network check", "restart", [
    node("restart", "action", { title, next: "works" }),
    node("works", "solution", { outcome: "resolved" }),
  ]);

/** Asks whether the printer is online; if not, runs the network check and then prints. */
const printer = (networkId: string) =>
  treeBody("Printer offline", "online", [
    node("online", "question", {
      options: [
        { id: "no", label: "No", next: "check" },
        { id: "yes", label: "Yes", next: "print" },
      ],
    }),
    node("check", "link", { tree_id: networkId, next: "print" }),
    node("print", "solution", { outcome: "resolved" }),
  ]);

const start = (treeId: string) =>
  running.client.call<Session & { detail?: unknown }>("POST", "/api/v1/sessions", {
    token: technician,
    json: { tree_id: treeId },
  });
const step = (id: string, body: Record<string, unknown>) =>
  running.client.call<Session & { detail?: unknown }>("PUT", `/api/v1/sessions/${id}`, {
    token: technician,
    json: body,
  });
const trail = (session: Session) => session.steps.map((each) => [each.tree_id, each.node_id, each.tree_version]);

describe("link nodes", () => {
  it("are validated: tree_id must name an existing tree, as a UUID", async () => {
    const unknown = await running.client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "POST",
      "/api/v1/trees",
      { token: engineer, json: printer(randomUUID()) },
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toEqual([
      expect.objectContaining({ loc: ["body", "nodes", 1, "tree_id"], type: "unknown_tree" }),
    ]);
    const malformed = await running.client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "POST",
      "/api/v1/trees",
      { token: engineer, json: printer("not-a-uuid") },
    );
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail.map((problem) => problem.loc)).toContainEqual(["body", "nodes", 1, "tree_id"]);
    const missing = await running.client.call("POST", "/api/v1/trees", {
      token: engineer,
      json: treeBody("No target", "l", [node("l", "link")]),
    });
    expect(missing.status).toBe(422);
  });

  it("enter the linked tree, come back to next, and complete; the report names each step's tree", async () => {
    const network = await createTree(networkCheck());
    const main = await createTree(printer(network.id));
    const read = await running.client.call<{ nodes: Array<Record<string, unknown>> }>(
      "GET",
      `/api/v1/trees/${main.id}`,
      {
        token: technician,
      },
    );
    expect(read.body.nodes[1]).toEqual({
      id: "check",
      type: "link",
      title: "check",
      body: "",
      tree_id: network.id,
      next: "print",
    });

    const started = await start(main.id);
    expect(started.status).toBe(201);
    const inside = await step(started.body.id, { op: "answer", node_id: "online", option_id: "no" });
    expect(inside.status).toBe(200);
    expect(inside.body.current_node).toMatchObject({ id: "restart", title: "Restart the router" });
    expect(trail(inside.body)).toEqual([
      [main.id, "online", 1],
      [network.id, "restart", 1],
    ]);
    const back = await step(started.body.id, { op: "continue", node_id: "restart" });
    expect(back.body.current_node.id).toBe("print");
    expect(back.body.steps[2]).toMatchObject({ tree_id: network.id, node_id: "works", outcome: "resolved" });
    const done = await running.client.call<Session>("POST", `/api/v1/sessions/${started.body.id}/complete`, {
      token: technician,
      json: {},
    });
    expect(done.body).toMatchObject({ status: "completed", outcome: "resolved" });

    const report = await fetch(`${running.system.url}/api/v1/sessions/${started.body.id}/export?format=markdown`, {
      method: "POST",
      headers: { authorization: `Bearer ${technician}` },
    });
    const markdown = await report.text();
    expect(markdown).toContain("| 1 | Printer offline v1 | online | No |");
    expect(markdown).toContain("| 2 | Network check v1 | Restart the router | done |");
    expect(markdown).toContain("| 3 | Network check v1 | works | reached: resolved |");
    // The linking tree's analytics count its own nodes: the linked tree's are not its.
    await expect
      .poll(
        async () => {
          const answer = await running.client.call<{
            sessions: { completed: number };
            nodes: Array<{ node_id: string }>;
          }>("GET", `/api/v1/trees/${main.id}/analytics`, { token: engineer });
          return [answer.body.sessions.completed, answer.body.nodes.map((each) => each.node_id).sort()];
        },
        { timeout: 5000 },
      )
      .toEqual([1, ["online", "print"]]);
    const csv = await fetch(`${running.system.url}/api/v1/sessions/${started.body.id}/export?format=csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${technician}` },
    });
    expect((await csv.text()).split("\r\n")[2]).toContain(`,${network.id},1`);
  });

  it("keep a running session on the linked tree's version it entered, and step back across the link", async () => {
    const network = await createTree(networkCheck("Restart the router (v1)"));
    const main = await createTree(printer(network.id));
    const session = (await start(main.id)).body;
    await step(session.id, { op: "answer", node_id: "online", option_id: "no" });
    // The author edits the shared tree while the technician is inside it.
    const edited = await running.client.call("PUT", `/api/v1/trees/${network.id}`, {
      token: engineer,
      json: { ...networkCheck("Power-cycle everything (v2)"), version: 1 },
    });
    expect(edited.status).toBe(200);
    const still = await running.client.call<Session>("GET", `/api/v1/sessions/${session.id}`, { token: technician });
    expect(still.body.current_node.title).toBe("Restart the router (v1)");
    // Back out of the linked tree's first node: to the question that led to the link.
    const out = await step(session.id, { op: "back" });
    expect(out.body.current_node.id).toBe("online");
    expect(trail(out.body)).toEqual([[main.id, "online", 1]]);
    // In again: still the version this session pinned.
    const again = await step(session.id, { op: "answer", node_id: "online", option_id: "no" });
    expect(again.body.current_node.title).toBe("Restart the router (v1)");
    expect(again.body.steps[1]?.tree_version).toBe(1);
    // A new session gets the new version.
    const fresh = (await start(main.id)).body;
    const freshInside = await step(fresh.id, { op: "answer", node_id: "online", option_id: "no" });
    expect(freshInside.body.current_node.title).toBe("Power-cycle everything (v2)");
    expect(freshInside.body.steps[1]?.tree_version).toBe(2);
  });

  it("refuse a link whose tree has no published version, and a loop of links, leaving the session where it was", async () => {
    const draft = await createTree({ ...networkCheck(), status: "draft" });
    const main = await createTree(printer(draft.id));
    const session = (await start(main.id)).body;
    const refused = await step(session.id, { op: "answer", node_id: "online", option_id: "no" });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ detail: "link_target_unpublished" });
    const unmoved = await running.client.call<Session>("GET", `/api/v1/sessions/${session.id}`, { token: technician });
    expect(unmoved.body.current_node.id).toBe("online");
    expect(unmoved.body.steps).toHaveLength(1);

    // Two trees whose roots link to each other (the second made first, then edited to point back).
    const second = await createTree(networkCheck());
    const loopStart = await createTree(
      treeBody("Loop", "to-second", [node("to-second", "link", { tree_id: second.id })]),
    );
    const loop = await running.client.call("PUT", `/api/v1/trees/${second.id}`, {
      token: engineer,
      json: { ...treeBody("Network check", "back", [node("back", "link", { tree_id: loopStart.id })]), version: 1 },
    });
    expect(loop.status).toBe(200);
    const main2 = await createTree(printer(loopStart.id));
    const looping = (await start(main2.id)).body;
    const deep = await step(looping.id, { op: "answer", node_id: "online", option_id: "no" });
    expect(deep.status).toBe(409);
    expect(deep.body).toEqual({ detail: "link_depth_exceeded" });
    const stayed = await running.client.call<Session>("GET", `/api/v1/sessions/${looping.id}`, { token: technician });
    expect(stayed.body.steps).toHaveLength(1);
    // A tree whose root is such a link cannot be started at all, and no session is left behind.
    const before = await running.client.call<Session[]>("GET", "/api/v1/sessions?limit=100", { token: technician });
    const startLoop = await start(loopStart.id);
    expect(startLoop.status).toBe(409);
    expect(startLoop.body).toEqual({ detail: "link_depth_exceeded" });
    const after = await running.client.call<Session[]>("GET", "/api/v1/sessions?limit=100", { token: technician });
    expect(after.headers.get("x-total-count")).toBe(before.headers.get("x-total-count"));
  });
});
