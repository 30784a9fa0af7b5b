/** SPEC §6 end to end through the gateway: guided runs, completion, reports, deactivation. */

import type { api } from "@tdt/test-support/api";
import { pdfText } from "@tdt/test-support/pdf";
import { type System, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let system: System;
let client: ReturnType<typeof api>;
let admin: string;
let engineer: string;
let treeId: string;

interface Step {
  seq: number;
  node_id: string;
  node_title: string;
  option_id: string;
  option_label: string;
  note: string;
  entered_at: string;
  left_at: string | null;
  duration_ms: number;
}
interface Session {
  id: string;
  tree_id: string;
  tree_version: number;
  tree_title: string;
  user_id: string;
  status: string;
  outcome: string | null;
  current_node: { id: string; type: string; title: string };
  steps: Step[];
  notes: string;
  context: Record<string, unknown>;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ system, client, admin } = running);
  engineer = await client.engineer(admin);
  const created = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  expect(created.status).toBe(201);
  treeId = created.body.id;
});

afterAll(async () => {
  await running?.stop();
});

async function start(token: string, body: Record<string, unknown> = { tree_id: treeId }): Promise<Session> {
  const response = await client.call<Session>("POST", "/api/v1/sessions", { token, json: body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function step(token: string, id: string, body: Record<string, unknown>) {
  return client.call<Session>("PUT", `/api/v1/sessions/${id}`, { token, json: body });
}

/** A session walked to the "refilled" solution. */
async function walkToSolution(token: string): Promise<Session> {
  const session = await start(token, { tree_id: treeId, context: { ticket: "INC-1042", device: "HP LaserJet 4" } });
  await step(token, session.id, { op: "answer", node_id: "power", option_id: "yes", note: "Light is green" });
  await step(token, session.id, { op: "answer", node_id: "paper", option_id: "no" });
  const last = await step(token, session.id, { op: "continue", node_id: "refill", note: "Loaded 500 sheets" });
  expect(last.status).toBe(200);
  return last.body;
}

describe("a guided run", () => {
  it("starts at the root of the published version, pinned", async () => {
    const { tokens, id } = await client.user();
    const session = await start(tokens.access_token, { tree_id: treeId, context: { ticket: "INC-1" } });
    expect(session).toMatchObject({
      tree_id: treeId,
      tree_version: 1,
      tree_title: "Printer does not print",
      user_id: id,
      status: "in_progress",
      outcome: null,
      current_node: { id: "power", type: "question", title: "Is the power light on?" },
      notes: "",
      context: { ticket: "INC-1" },
      completed_at: null,
    });
    expect(session.steps).toEqual([
      expect.objectContaining({ seq: 1, node_id: "power", option_id: "", left_at: null, duration_ms: 0 }),
    ]);
  });

  it("walks from the root to a solution and completes with the solution's outcome", async () => {
    const { tokens } = await client.user();
    const session = await walkToSolution(tokens.access_token);
    expect(session.current_node).toMatchObject({ id: "refilled", type: "solution" });
    expect(session.steps.map((entry) => [entry.node_id, entry.option_label, entry.note])).toEqual([
      ["power", "Yes", "Light is green"],
      ["paper", "No", ""],
      ["refill", "", "Loaded 500 sheets"],
      ["refilled", "", ""],
    ]);
    const done = await client.call<Session>("POST", `/api/v1/sessions/${session.id}/complete`, {
      token: tokens.access_token,
      json: { notes: "Printer works again" },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "completed", outcome: "resolved", notes: "Printer works again" });
    expect(done.body.completed_at).not.toBeNull();

    const again = await client.call("POST", `/api/v1/sessions/${session.id}/complete`, {
      token: tokens.access_token,
      json: {},
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: "session_completed" });
    const late = await step(tokens.access_token, session.id, { op: "note", notes: "late" });
    expect(late.body).toEqual({ detail: "session_completed" });
  });

  it("goes back and answers again", async () => {
    const { tokens } = await client.user();
    const session = await start(tokens.access_token);
    await step(tokens.access_token, session.id, { op: "answer", node_id: "power", option_id: "no" });
    const back = await step(tokens.access_token, session.id, { op: "back" });
    expect(back.body.current_node.id).toBe("power");
    const again = await step(tokens.access_token, session.id, { op: "answer", node_id: "power", option_id: "yes" });
    expect(again.body.current_node.id).toBe("paper");
    expect(again.body.steps.map((entry) => entry.option_id)).toEqual(["yes", ""]);
  });

  it("makes a retried step safe: stale_step, and an unknown option is 422", async () => {
    const { tokens } = await client.user();
    const session = await start(tokens.access_token);
    const body = { op: "answer", node_id: "power", option_id: "no" };
    expect((await step(tokens.access_token, session.id, body)).status).toBe(200);
    const retry = await step(tokens.access_token, session.id, body);
    expect(retry.status).toBe(409);
    expect(retry.body).toEqual({ detail: "stale_step" });
    const unknown = await step(tokens.access_token, session.id, { op: "continue", node_id: "plug" });
    expect(unknown.status).toBe(200);
    const bad = await step(tokens.access_token, session.id, { op: "answer", node_id: "power2", option_id: "perhaps" });
    expect(bad.status).toBe(422);
    expect((bad.body as unknown as { detail: { loc: unknown[] }[] }).detail[0]?.loc).toEqual(["body", "option_id"]);
  });

  it("needs an outcome to complete away from a solution", async () => {
    const { tokens } = await client.user();
    const session = await start(tokens.access_token);
    const missing = await client.call("POST", `/api/v1/sessions/${session.id}/complete`, {
      token: tokens.access_token,
      json: {},
    });
    expect(missing.status).toBe(422);
    const escalated = await client.call<Session>("POST", `/api/v1/sessions/${session.id}/complete`, {
      token: tokens.access_token,
      json: { outcome: "escalated" },
    });
    expect(escalated.body).toMatchObject({ status: "completed", outcome: "escalated" });
  });
});

describe("who sees what", () => {
  it("hides a session from other technicians, shows it to engineers, and lets only the owner change it", async () => {
    const owner = await client.user("owner");
    const other = await client.user("other");
    const session = await start(owner.tokens.access_token);
    const foreign = await client.call("GET", `/api/v1/sessions/${session.id}`, { token: other.tokens.access_token });
    expect(foreign.status).toBe(404);
    const foreignStep = await step(other.tokens.access_token, session.id, { op: "note", notes: "hi" });
    expect(foreignStep.status).toBe(404);
    expect((await client.call("GET", `/api/v1/sessions/${session.id}`, { token: engineer })).status).toBe(200);
    expect((await step(engineer, session.id, { op: "note", notes: "hi" })).status).toBe(403);
    const unknown = await client.call("GET", "/api/v1/sessions/00000000-0000-4000-8000-000000000000", {
      token: owner.tokens.access_token,
    });
    expect(unknown.status).toBe(404);
  });

  it("lists the caller's own sessions, and others' only to engineers and admins", async () => {
    const mine = await client.user("lister");
    const first = await start(mine.tokens.access_token);
    await start(mine.tokens.access_token);
    await client.call("POST", `/api/v1/sessions/${first.id}/complete`, {
      token: mine.tokens.access_token,
      json: { outcome: "unresolved" },
    });
    const own = await client.call<Session[]>("GET", "/api/v1/sessions", { token: mine.tokens.access_token });
    expect(own.body).toHaveLength(2);
    expect(own.headers.get("x-total-count")).toBe("2");
    const completed = await client.call<Session[]>("GET", "/api/v1/sessions?status=completed", {
      token: mine.tokens.access_token,
    });
    expect(completed.body.map((entry) => entry.id)).toEqual([first.id]);
    const paged = await client.call<Session[]>("GET", "/api/v1/sessions?limit=1", { token: mine.tokens.access_token });
    expect(paged.body).toHaveLength(1);
    expect(paged.headers.get("x-total-count")).toBe("2");
    const pastTheEnd = await client.call<Session[]>("GET", "/api/v1/sessions?skip=5", {
      token: mine.tokens.access_token,
    });
    expect(pastTheEnd.body).toEqual([]);
    expect(pastTheEnd.headers.get("x-total-count")).toBe("2");

    const other = await client.user();
    expect((await client.call("GET", "/api/v1/sessions?all=true", { token: other.tokens.access_token })).status).toBe(
      403,
    );
    const byUser = await client.call<Session[]>("GET", `/api/v1/sessions?user_id=${mine.id}`, { token: engineer });
    expect(byUser.body).toHaveLength(2);
    const everyone = await client.call<Session[]>("GET", `/api/v1/sessions?all=true&tree_id=${treeId}`, {
      token: admin,
    });
    expect(Number(everyone.headers.get("x-total-count"))).toBeGreaterThanOrEqual(2);
  });
});

describe("finding sessions", () => {
  it("filters by outcome, by tree and by when they started", async () => {
    const { tokens, id } = await client.user("filters");
    const token = tokens.access_token;
    const resolved = await walkToSolution(token);
    const completed = await client.call("POST", `/api/v1/sessions/${resolved.id}/complete`, { token, json: {} });
    expect(completed.status).toBe(200);
    const escalated = await start(token);
    const gaveUp = await client.call("POST", `/api/v1/sessions/${escalated.id}/complete`, {
      token,
      json: { outcome: "escalated" },
    });
    expect(gaveUp.status).toBe(200);
    const running_ = await start(token);
    const list = async (query: string) => {
      const answer = await client.call<Session[]>("GET", `/api/v1/sessions?user_id=${id}&${query}`, {
        token: engineer,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.headers.get("x-total-count")).toBe(String(answer.body.length));
      return answer.body.map((session) => session.id).sort();
    };
    expect(await list("outcome=resolved")).toEqual([resolved.id]);
    expect(await list("outcome=escalated")).toEqual([escalated.id]);
    expect(await list("outcome=unresolved")).toEqual([]);
    expect(await list(`tree_id=${treeId}`)).toEqual([resolved.id, escalated.id, running_.id].sort());
    const hourAgo = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    const inAnHour = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    expect(await list(`from=${hourAgo}&to=${inAnHour}`)).toHaveLength(3);
    expect(await list(`from=${inAnHour}`)).toEqual([]);
    expect(await list(`to=${hourAgo}`)).toEqual([]);
    const backwards = await client.call("GET", `/api/v1/sessions?from=${inAnHour}&to=${hourAgo}`, { token });
    expect(backwards.status).toBe(422);
    expect((await client.call("GET", "/api/v1/sessions?outcome=maybe", { token })).status).toBe(422);
    expect((await client.call("GET", "/api/v1/sessions?from=yesterday", { token })).status).toBe(422);
  });
});

describe("reports", () => {
  it("name the technician by name and email, and show an unanswered question as unanswered", async () => {
    const technician = await client.register(client.uniqueEmail("named"), "correct-horse-battery", "Grace Hopper");
    const token = (await client.login(technician.email, technician.password)).access_token;
    const session = await start(token);
    expect(session).toMatchObject({ user_name: "Grace Hopper", user_email: technician.email });
    // Escalated while the first question waited for an answer.
    const done = await client.call("POST", `/api/v1/sessions/${session.id}/complete`, {
      token,
      json: { outcome: "escalated" },
    });
    expect(done.status).toBe(200);
    const markdown = await fetch(`${system.url}/api/v1/sessions/${session.id}/export?format=markdown`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await markdown.text();
    expect(text).toContain(`- Technician: Grace Hopper (${technician.email})`);
    expect(text).toContain("| 1 | Printer does not print v1 | Is the power light on? | unanswered |");
    expect(text).not.toContain(technician.id);
  });

  it("exports JSON, Markdown, CSV and PDF as downloads", async () => {
    const { tokens } = await client.user();
    const session = await walkToSolution(tokens.access_token);
    await client.call("POST", `/api/v1/sessions/${session.id}/complete`, { token: tokens.access_token, json: {} });

    const download = async (format: string) => {
      const response = await fetch(`${system.url}/api/v1/sessions/${session.id}/export?format=${format}`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="session-.+"/);
      return { type: response.headers.get("content-type") ?? "", bytes: new Uint8Array(await response.arrayBuffer()) };
    };

    const json = await download("json");
    expect(json.type).toContain("application/json");
    const report = JSON.parse(Buffer.from(json.bytes).toString("utf8"));
    expect(report.session).toMatchObject({ id: session.id, outcome: "resolved", context: { ticket: "INC-1042" } });
    expect(report.tree).toMatchObject({ id: treeId, version: 1 });

    const markdown = Buffer.from((await download("markdown")).bytes).toString("utf8");
    expect(markdown).toContain("# Troubleshooting report: Printer does not print");
    expect(markdown).toContain("| 1 | Printer does not print v1 | Is the power light on? | Yes | Light is green |");
    expect(markdown).toContain("ticket: INC-1042");

    const csv = await download("csv");
    expect(csv.type).toContain("text/csv");
    const rows = Buffer.from(csv.bytes).toString("utf8").trim().split("\r\n");
    expect(rows[0]).toBe(
      "seq,node_id,node_title,option_id,option_label,note,entered_at,left_at,duration_ms,tree_id,tree_version",
    );
    expect(rows).toHaveLength(1 + 4);
    expect(rows[1]).toMatch(/^1,power,Is the power light on\?,yes,Yes,Light is green,.*,\d+,[0-9a-f-]{36},1$/);

    const pdf = await download("pdf");
    expect(pdf.type).toBe("application/pdf");
    const text = await pdfText(pdf.bytes);
    for (const expected of [
      "Printer does not print",
      "Is the power light on?",
      "Light is green",
      "Loaded 500 sheets",
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).toContain("resolved");

    const engineerCopy = await fetch(`${system.url}/api/v1/sessions/${session.id}/export`, {
      method: "POST",
      headers: { authorization: `Bearer ${engineer}`, "content-type": "application/json" },
      body: JSON.stringify({ format: "csv" }),
    });
    expect(engineerCopy.status).toBe(200);
    expect(engineerCopy.headers.get("content-type")).toContain("text/csv");
    const unknownFormat = await client.call("POST", `/api/v1/sessions/${session.id}/export?format=docx`, {
      token: tokens.access_token,
    });
    expect(unknownFormat.status).toBe(422);
  });
});

describe("a tree that changes", () => {
  it("leaves a running session on its pinned version; new sessions take the new one; deletion changes nothing", async () => {
    const created = await client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: engineer,
      json: printerTree(),
    });
    const id = created.body.id;
    const { tokens } = await client.user();
    const running = await start(tokens.access_token, { tree_id: id });

    const edited = printerTree({ title: "Printer does not print (revised)" });
    (edited.nodes[0] as Record<string, unknown>).title = "Is the display lit?";
    const put = await client.call("PUT", `/api/v1/trees/${id}`, { token: engineer, json: { ...edited, version: 1 } });
    expect(put.status).toBe(200);

    const stepped = await step(tokens.access_token, running.id, { op: "answer", node_id: "power", option_id: "yes" });
    expect(stepped.body).toMatchObject({ tree_version: 1, tree_title: "Printer does not print" });
    expect(stepped.body.steps[0]?.node_title).toBe("Is the power light on?");

    const fresh = await start(tokens.access_token, { tree_id: id });
    expect(fresh).toMatchObject({ tree_version: 2, current_node: { title: "Is the display lit?" } });

    expect((await client.call("DELETE", `/api/v1/trees/${id}`, { token: admin })).status).toBe(204);
    const afterDelete = await step(tokens.access_token, running.id, {
      op: "answer",
      node_id: "paper",
      option_id: "yes",
    });
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.body.current_node.id).toBe("toner");
    const cannotStart = await client.call("POST", "/api/v1/sessions", {
      token: tokens.access_token,
      json: { tree_id: id },
    });
    expect(cannotStart.status).toBe(404);
  });

  it("refuses to start on a draft-only or unknown tree with 404", async () => {
    const draft = await client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: engineer,
      json: printerTree({ status: "draft" }),
    });
    const { tokens } = await client.user();
    for (const tree_id of [draft.body.id, "00000000-0000-4000-8000-000000000000"]) {
      const response = await client.call("POST", "/api/v1/sessions", { token: tokens.access_token, json: { tree_id } });
      expect(response.status).toBe(404);
    }
  });
});

describe("deactivation", () => {
  it("abandons the user's in-progress sessions and leaves completed ones alone", async () => {
    const victim = await client.user("deactivated");
    const open = await start(victim.tokens.access_token);
    const finished = await start(victim.tokens.access_token);
    await client.call("POST", `/api/v1/sessions/${finished.id}/complete`, {
      token: victim.tokens.access_token,
      json: { outcome: "unresolved" },
    });
    const patch = await client.call("PATCH", `/api/v1/auth/users/${victim.id}`, {
      token: admin,
      json: { is_active: false },
    });
    expect(patch.status).toBe(200);
    const statusOf = async (id: string) =>
      (await client.call<Session>("GET", `/api/v1/sessions/${id}`, { token: admin })).body.status;
    await expect.poll(() => statusOf(open.id), { timeout: 5000 }).toBe("abandoned");
    expect(await statusOf(finished.id)).toBe("completed");
  });

  it("catches up on a deactivation that happened while the sessions service was down", async () => {
    const victim = await client.user("offline");
    const open = await start(victim.tokens.access_token);
    const sessions = system.stack.processes.get("sessions");
    const exited = new Promise((resolve) => sessions?.once("exit", resolve));
    sessions?.kill("SIGTERM");
    await exited;
    await client.call("PATCH", `/api/v1/auth/users/${victim.id}`, { token: admin, json: { is_active: false } });
    await system.stack.restart("sessions");
    await expect
      .poll(
        async () => (await client.call<Session>("GET", `/api/v1/sessions/${open.id}`, { token: admin })).body.status,
        {
          timeout: 10_000,
        },
      )
      .toBe("abandoned");
  });
});

describe("text the database cannot store", () => {
  it("refuses a NUL character with 422 at its field, wherever it comes in", async () => {
    const { tokens } = await client.user();
    const session = await start(tokens.access_token);
    const note = await step(tokens.access_token, session.id, { op: "note", notes: "before\u0000after" });
    expect(note.status).toBe(422);
    expect(note.body).toEqual({
      detail: [{ loc: ["body", "notes"], msg: "The NUL character is not allowed", type: "string_nul" }],
    });
    const tree = await client.call("POST", "/api/v1/trees", {
      token: engineer,
      json: printerTree({ title: "nul\u0000title" }),
    });
    expect(tree.status).toBe(422);
    expect((tree.body as unknown as { detail: { loc: unknown[] }[] }).detail[0]?.loc).toEqual(["body", "title"]);
    const register = await client.call("POST", "/api/v1/auth/register", {
      json: { email: client.uniqueEmail(), password: "long-enough-pw", full_name: "A\u0000B" },
    });
    expect(register.status).toBe(422);
    const search = await client.call("GET", "/api/v1/trees/search?q=a%00b", { token: engineer });
    expect(search.status).toBe(422);
  });
});
