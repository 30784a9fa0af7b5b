import { randomUUID } from "node:crypto";
import { AppError } from "@tdt/kit";
import { printerTree } from "@tdt/test-support/trees";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAuth } from "./support/fake-auth.js";
import { FakeSessions, OWNER, PDF_BYTES, sampleNode, sampleSession } from "./support/fake-sessions.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The sessions routes of SPEC §6 against a fake sessions service on a real gRPC server.
let auth: FakeAuth;
let fake: FakeSessions;
let gateway: TestGateway;
let technician: string;
let engineer: string;

const SESSION_ID = randomUUID();
const SESSION_URL = `/api/v1/sessions/${SESSION_ID}`;
const SESSION_FIELDS = [
  "completed_at",
  "context",
  "current_node",
  "id",
  "notes",
  "outcome",
  "started_at",
  "status",
  "steps",
  "tree_id",
  "tree_title",
  "tree_version",
  "updated_at",
  "user_email",
  "user_id",
  "user_name",
  "variables",
  "locale",
].sort();
const STEP_FIELDS = [
  "duration_ms",
  "entered_at",
  "left_at",
  "node_id",
  "node_title",
  "note",
  "option_id",
  "option_label",
  "seq",
  "tree_id",
  "tree_version",
];

type Method = "GET" | "POST" | "PUT";

/** One request as `token`'s holder (none: anonymous), with a JSON body when there is `payload`. */
function call(method: Method, url: string, token?: string, payload?: object | string): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (typeof payload === "string") headers["content-type"] = "application/json";
  return gateway.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** The requests the fake sessions service received in its calls of `method`, oldest first. */
function received(method: Parameters<FakeSessions["callsOf"]>[0]): unknown[] {
  return fake.callsOf(method).map((recorded) => recorded.request);
}

/** The problems of a 422, as `[loc, type]` pairs. */
function problemsOf(response: LightMyRequestResponse): [unknown[], string][] {
  expect(response.statusCode, response.body).toBe(422);
  return response.json().detail.map((problem: { loc: unknown[]; type: string }) => [problem.loc, problem.type]);
}

beforeAll(async () => {
  auth = await FakeAuth.start();
  fake = await FakeSessions.start();
  gateway = await startTestGateway(auth.port, { sessionsPort: fake.port });
  technician = await auth.keys.accessToken({ role: "technician", sub: OWNER });
  engineer = await auth.keys.accessToken({ role: "engineer" });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await gateway?.close();
  await fake?.stop();
  await auth?.stop();
});

describe("the session document", () => {
  it("has every field of SPEC §6, with null for what has not happened yet", async () => {
    const response = await call("GET", SESSION_URL, technician);
    expect(response.statusCode).toBe(200);
    const session = response.json();
    expect(Object.keys(session).sort()).toEqual(SESSION_FIELDS);
    expect(session).toMatchObject({
      id: SESSION_ID,
      tree_version: 3,
      tree_title: "Printer does not print",
      user_id: OWNER,
      status: "in_progress",
      outcome: null,
      completed_at: null,
      notes: "",
      context: { ticket: "INC-1042", device: { model: "HP LaserJet 4", floor: 3 } },
    });
    expect(session.steps.map((step: object) => Object.keys(step).sort())).toEqual([STEP_FIELDS, STEP_FIELDS]);
    expect(session.steps[0]).toMatchObject({ option_label: "Yes", left_at: "2025-03-04T10:00:42.500Z" });
    expect(session.steps[1]).toMatchObject({ seq: 2, option_id: "", left_at: null, duration_ms: 0 });
    expect(received("getSession")).toEqual([{ id: SESSION_ID }]);
  });

  it("carries the current node as the trees routes do: only the fields its type uses", async () => {
    const [question, solution] = ["paper", "toner"].map((id) => printerTree().nodes.find((node) => node.id === id));
    const atQuestion = await call("GET", SESSION_URL, technician);
    expect(atQuestion.json().current_node).toEqual(question);
    fake.answer("getSession", async () => ({ session: sampleSession({ current_node: sampleNode("toner") }) }));
    const atSolution = await call("GET", SESSION_URL, technician);
    expect(atSolution.json().current_node).toEqual(solution);
  });

  it("answers an empty context as {} and a completed session with its outcome and completion time", async () => {
    fake.answer("getSession", async () => ({
      session: sampleSession({
        context: undefined,
        status: "completed",
        outcome: "escalated",
        completed_at: "2025-03-04T11:00:00.000Z",
      }),
    }));
    const response = await call("GET", SESSION_URL, engineer);
    expect(response.json()).toMatchObject({
      context: {},
      status: "completed",
      outcome: "escalated",
      completed_at: "2025-03-04T11:00:00.000Z",
    });
  });
});

describe("GET /api/v1/sessions", () => {
  it("answers a plain array with the total in X-Total-Count, passing request id and token on", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/sessions?limit=2",
      headers: { authorization: `Bearer ${technician}`, "x-request-id": "list-sessions-1" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-total-count"]).toBe("3");
    expect(response.json()).toHaveLength(2);
    expect(Object.keys(response.json()[0]).sort()).toEqual(SESSION_FIELDS);
    expect(fake.callsOf("listSessions")[0]).toMatchObject({ requestId: "list-sessions-1", accessToken: technician });
    expect(received("listSessions")).toEqual([{ all: false, skip: 0, limit: 2 }]);
  });

  it("passes filters on, and lets an engineer ask for another user's or everyone's sessions", async () => {
    const treeId = randomUUID();
    const other = randomUUID();
    await call("GET", `/api/v1/sessions?user_id=${OWNER}&status=completed&tree_id=${treeId}&skip=1`, technician);
    await call("GET", `/api/v1/sessions?user_id=${other}`, engineer);
    await call("GET", "/api/v1/sessions?all=true&status=abandoned", engineer);
    expect(received("listSessions")).toEqual([
      { user_id: OWNER, all: false, status: "completed", tree_id: treeId, skip: 1, limit: 50 },
      { user_id: other, all: false, skip: 0, limit: 50 },
      { all: true, status: "abandoned", skip: 0, limit: 50 },
    ]);
  });

  it("answers a technician asking for everyone's or another user's sessions 403, without calling the service", async () => {
    for (const query of ["all=true", `user_id=${randomUUID()}`]) {
      const response = await call("GET", `/api/v1/sessions?${query}`, technician);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ detail: "forbidden" });
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("passes the service's own 403 on", async () => {
    fake.answer("listSessions", async () => {
      throw new AppError("forbidden");
    });
    expect((await call("GET", "/api/v1/sessions", technician)).statusCode).toBe(403);
  });

  it("refuses a bad filter or page with 422 in the query", async () => {
    const response = await call("GET", "/api/v1/sessions?status=open&user_id=me&all=maybe&limit=0", engineer);
    expect(problemsOf(response)).toEqual(
      expect.arrayContaining([
        [["query", "status"], "enum"],
        [["query", "user_id"], "uuid_format"],
        [["query", "all"], "boolean_type"],
        [["query", "limit"], "greater_than_equal"],
      ]),
    );
    expect(fake.calls).toHaveLength(0);
  });

  it("answers 401 without a token, before calling the service", async () => {
    const response = await call("GET", "/api/v1/sessions");
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe("Bearer");
    expect(fake.calls).toHaveLength(0);
  });
});

describe("GET /api/v1/sessions/:id", () => {
  it("answers the service's not_found with 404 and a malformed id with 422 at the path", async () => {
    fake.answer("getSession", async () => {
      throw new AppError("not_found");
    });
    const unknown = await call("GET", SESSION_URL, technician);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ detail: "not_found" });
    expect(problemsOf(await call("GET", "/api/v1/sessions/INC-1042", technician))).toEqual([
      [["path", "id"], "uuid_format"],
    ]);
  });
});

describe("POST /api/v1/sessions", () => {
  it("starts a session: 201, the tree id and context passed on", async () => {
    const treeId = randomUUID();
    const context = { ticket: "INC-7", tags: ["vip"], site: { floor: 2 } };
    const response = await call("POST", "/api/v1/sessions", technician, { tree_id: treeId, context });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ tree_id: treeId, context, current_node: { id: "power" }, steps: [] });
    expect(received("startSession")).toEqual([{ tree_id: treeId, context, locale: "" }]);
    expect(fake.callsOf("startSession")[0]?.accessToken).toBe(technician);
  });

  it("asks for the browser's language when the body names none, and the body's when it does", async () => {
    const treeId = randomUUID();
    const headers = { "accept-language": "fr-CH;q=0.5, de-at, *;q=0.1" };
    const browser = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/sessions",
      headers: { ...headers, authorization: `Bearer ${technician}` },
      payload: { tree_id: treeId },
    });
    expect(browser.statusCode).toBe(201);
    const named = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/sessions",
      headers: { ...headers, authorization: `Bearer ${technician}` },
      payload: { tree_id: treeId, locale: "es" },
    });
    expect(named.statusCode).toBe(201);
    expect(received("startSession").slice(-2)).toEqual([
      { tree_id: treeId, locale: "de-AT" },
      { tree_id: treeId, locale: "es" },
    ]);
  });

  it("starts without a context, answering it as {}", async () => {
    const response = await call("POST", "/api/v1/sessions", technician, { tree_id: randomUUID() });
    expect(response.statusCode).toBe(201);
    expect(response.json().context).toEqual({});
  });

  it("refuses a missing tree id, a context that is not an object and an unknown field with 422", async () => {
    expect(problemsOf(await call("POST", "/api/v1/sessions", technician, {}))).toEqual([
      [["body", "tree_id"], "missing"],
    ]);
    const wrong = await call("POST", "/api/v1/sessions", technician, {
      tree_id: "printer",
      context: "INC-1",
      ticket: "INC-1",
    });
    expect(problemsOf(wrong)).toEqual(
      expect.arrayContaining([
        [["body", "tree_id"], "uuid_format"],
        [["body", "context"], "object_type"],
        [["body", "ticket"], "extra_forbidden"],
      ]),
    );
    expect(fake.calls).toHaveLength(0);
  });

  it("answers a tree the caller cannot start on with the service's 404", async () => {
    fake.answer("startSession", async () => {
      throw new AppError("not_found");
    });
    const response = await call("POST", "/api/v1/sessions", technician, { tree_id: randomUUID() });
    expect(response.statusCode).toBe(404);
  });
});

describe("PUT /api/v1/sessions/:id", () => {
  it("passes each op on with only its own fields, and answers the session", async () => {
    const bodies = [
      { op: "answer", node_id: "power", option_id: "yes", note: "Light is green" },
      { op: "answer", node_id: "power", option_id: "no" },
      { op: "continue", node_id: "plug", note: "Plugged in" },
      { op: "back" },
      { op: "note", notes: "Customer on site" },
    ];
    for (const body of bodies) {
      const response = await call("PUT", SESSION_URL, technician, body);
      expect(response.statusCode).toBe(200);
      expect(Object.keys(response.json()).sort()).toEqual(SESSION_FIELDS);
    }
    const empty = { node_id: "", option_id: "" };
    expect(received("stepSession")).toEqual([
      { id: SESSION_ID, ...bodies[0] },
      { id: SESSION_ID, ...bodies[1] },
      { id: SESSION_ID, ...empty, ...bodies[2] },
      { id: SESSION_ID, ...empty, op: "back" },
      { id: SESSION_ID, ...empty, ...bodies[4] },
    ]);
  });

  it("points each validation problem at the field of the op it concerns", async () => {
    const cases: [object, [unknown[], string][]][] = [
      [{ op: "answer", node_id: "power" }, [[["body", "option_id"], "missing"]]],
      [{ op: "answer", node_id: "power", option_id: 2 }, [[["body", "option_id"], "string_type"]]],
      [{ op: "continue" }, [[["body", "node_id"], "missing"]]],
      [{ op: "note" }, [[["body", "notes"], "missing"]]],
      [{ op: "back", node_id: "power" }, [[["body", "node_id"], "extra_forbidden"]]],
      [{ op: "note", notes: "x", option_id: "yes" }, [[["body", "option_id"], "extra_forbidden"]]],
      [{ op: "jump", node_id: "power" }, [[["body", "op"], "enum"]]],
      [{ op: 1 }, [[["body", "op"], "string_type"]]],
      [{ node_id: "power", option_id: "yes" }, [[["body", "op"], "missing"]]],
    ];
    for (const [body, problems] of cases) {
      expect(problemsOf(await call("PUT", SESSION_URL, technician, body)), JSON.stringify(body)).toEqual(problems);
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("answers a retried step with the service's 409 stale_step", async () => {
    fake.answer("stepSession", async () => {
      throw new AppError("stale_step");
    });
    const response = await call("PUT", SESSION_URL, technician, { op: "answer", node_id: "power", option_id: "no" });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ detail: "stale_step" });
  });

  it("passes the service's 422 for an unknown option on, and its 403 for someone else's session", async () => {
    const problems = [
      { loc: ["body", "option_id"], msg: 'No option "perhaps" on node "power"', type: "unknown_option" },
    ];
    fake.answer("stepSession", async () => {
      throw AppError.invalid(problems);
    });
    const unknown = await call("PUT", SESSION_URL, technician, {
      op: "answer",
      node_id: "power",
      option_id: "perhaps",
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toEqual({ detail: problems });
    fake.answer("stepSession", async () => {
      throw new AppError("forbidden");
    });
    expect((await call("PUT", SESSION_URL, engineer, { op: "back" })).statusCode).toBe(403);
  });
});

describe("POST /api/v1/sessions/:id/complete", () => {
  it("completes with an outcome and notes, answering the completed session", async () => {
    const response = await call("POST", `${SESSION_URL}/complete`, technician, {
      outcome: "escalated",
      notes: "Sent for repair",
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: SESSION_ID,
      status: "completed",
      outcome: "escalated",
      notes: "Sent for repair",
      completed_at: "2025-03-04T10:05:00.000Z",
      current_node: { id: "toner", type: "solution", outcome: "resolved" },
    });
    expect(received("completeSession")).toEqual([{ id: SESSION_ID, outcome: "escalated", notes: "Sent for repair" }]);
  });

  it("takes no body, an empty JSON body or {} alike: the service picks the solution's outcome", async () => {
    await gateway.app.inject({
      method: "POST",
      url: `${SESSION_URL}/complete`,
      headers: { authorization: `Bearer ${technician}` },
    });
    const empty = await gateway.app.inject({
      method: "POST",
      url: `${SESSION_URL}/complete`,
      headers: { authorization: `Bearer ${technician}`, "content-type": "application/json" },
      payload: "",
    });
    expect(empty.statusCode).toBe(200);
    await call("POST", `${SESSION_URL}/complete`, technician, {});
    expect(received("completeSession")).toEqual([{ id: SESSION_ID }, { id: SESSION_ID }, { id: SESSION_ID }]);
  });

  it("refuses an unknown outcome with 422 at the outcome, and answers a completed session's 409", async () => {
    expect(problemsOf(await call("POST", `${SESSION_URL}/complete`, technician, { outcome: "fixed" }))).toEqual([
      [["body", "outcome"], "enum"],
    ]);
    expect(fake.calls).toHaveLength(0);
    fake.answer("completeSession", async () => {
      throw new AppError("session_completed");
    });
    const again = await call("POST", `${SESSION_URL}/complete`, technician, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: "session_completed" });
  });
});

describe("POST /api/v1/sessions/:id/export", () => {
  const EXPORT_URL = `${SESSION_URL}/export`;
  const FILENAME = `session-printer-does-not-print-${SESSION_ID.slice(0, 8)}`;

  it("answers the report's bytes intact, typed, and as an attachment", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: `${EXPORT_URL}?format=pdf`,
      headers: { authorization: `Bearer ${engineer}`, "x-request-id": "export-1" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/pdf");
    expect(response.headers["content-disposition"]).toBe(`attachment; filename="${FILENAME}.pdf"`);
    expect(response.rawPayload.equals(PDF_BYTES)).toBe(true);
    expect(fake.callsOf("exportSession")[0]).toMatchObject({
      request: { id: SESSION_ID, format: "pdf" },
      requestId: "export-1",
      accessToken: engineer,
    });
  });

  it("exports JSON without a body, or with an empty one", async () => {
    const bare = await call("POST", EXPORT_URL, technician);
    expect(bare.statusCode).toBe(200);
    expect(bare.headers["content-type"]).toBe("application/json");
    expect(bare.headers["content-disposition"]).toBe(`attachment; filename="${FILENAME}.json"`);
    expect(bare.json()).toEqual({ session: {} });
    expect((await call("POST", EXPORT_URL, technician, "")).statusCode).toBe(200);
    expect((await call("POST", EXPORT_URL, technician, {})).statusCode).toBe(200);
    expect(received("exportSession").map((request) => (request as { format: string }).format)).toEqual([
      "json",
      "json",
      "json",
    ]);
  });

  it("takes the format from the body, unless the query names one", async () => {
    const csv = await call("POST", EXPORT_URL, technician, { format: "csv" });
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.body).toBe("seq,node_id\r\n1,power\r\n");
    const markdown = await call("POST", `${EXPORT_URL}?format=markdown`, technician, { format: "csv" });
    expect(markdown.headers["content-type"]).toBe("text/markdown; charset=utf-8");
    expect(markdown.headers["content-disposition"]).toBe(`attachment; filename="${FILENAME}.md"`);
    expect(received("exportSession")).toEqual([
      { id: SESSION_ID, format: "csv" },
      { id: SESSION_ID, format: "markdown" },
    ]);
  });

  it("refuses an unknown format, in the query or the body, with 422 where it was", async () => {
    expect(problemsOf(await call("POST", `${EXPORT_URL}?format=docx`, technician))).toEqual([
      [["query", "format"], "enum"],
    ]);
    expect(problemsOf(await call("POST", EXPORT_URL, technician, { format: "docx" }))).toEqual([
      [["body", "format"], "enum"],
    ]);
    expect(fake.calls).toHaveLength(0);
  });

  it("keeps the file name to characters a header can carry", async () => {
    fake.answer("exportSession", async () => ({
      content: Buffer.from("x"),
      content_type: "text/plain",
      filename: 'a"b\r\nSet-Cookie: x=1;é.txt',
    }));
    const response = await call("POST", EXPORT_URL, technician);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-disposition"]).toBe('attachment; filename="a_b_Set-Cookie_x_1_.txt"');
    expect(response.headers["set-cookie"]).toBeUndefined();
  });

  it("answers a session the caller cannot see with the service's 404", async () => {
    fake.answer("exportSession", async () => {
      throw new AppError("not_found");
    });
    const response = await call("POST", `${EXPORT_URL}?format=pdf`, technician);
    expect(response.statusCode).toBe(404);
    expect(response.headers["content-type"]).toContain("application/json");
    expect(response.json()).toEqual({ detail: "not_found" });
  });
});

describe("OpenAPI", () => {
  type Operation = {
    tags?: string[];
    responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
    requestBody?: { required?: boolean; content?: unknown };
  };
  let spec: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    spec = (await call("GET", "/api/openapi.json")).json();
  });

  it("documents every sessions route with the Session schema and its errors", () => {
    const routes = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith("/api/v1/sessions"))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        "GET /api/v1/sessions",
        "GET /api/v1/sessions/summaries",
        "POST /api/v1/sessions",
        "GET /api/v1/sessions/{id}",
        "PUT /api/v1/sessions/{id}",
        "POST /api/v1/sessions/{id}/complete",
        "POST /api/v1/sessions/{id}/export",
      ].sort(),
    );
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(["Session", "SessionSummary", "SessionStep", "StepOperation", "Node"]),
    );
    const put = spec.paths["/api/v1/sessions/{id}"]?.put;
    expect(put?.tags).toEqual(["sessions"]);
    expect(JSON.stringify(put?.requestBody)).toContain("StepOperation");
    expect(JSON.stringify(put?.responses["200"])).toContain("Session");
    expect(Object.keys(put?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "403", "404", "409", "422", "503", "504"]),
    );
  });

  it("documents the export in each format as what it is, with an optional body", () => {
    const exported = spec.paths["/api/v1/sessions/{id}/export"]?.post;
    const content = exported?.responses["200"]?.content ?? {};
    // One media type per format, the one the sessions service sends (the contract's ReportFormat):
    // JSON as its object, text as text, the PDF as bytes (generated clients read it as a Blob).
    expect(Object.keys(content).sort()).toEqual([
      "application/json",
      "application/pdf",
      "text/csv; charset=utf-8",
      "text/markdown; charset=utf-8",
    ]);
    expect(content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/SessionReport" });
    for (const text of ["text/csv; charset=utf-8", "text/markdown; charset=utf-8"]) {
      expect(content[text]?.schema, text).toMatchObject({ type: "string" });
      expect(content[text]?.schema, text).not.toHaveProperty("format");
    }
    expect(content["application/pdf"]?.schema).toMatchObject({
      type: "string",
      format: "binary",
      contentMediaType: "application/pdf",
    });
    expect(exported?.requestBody?.required).toBe(false);
    expect(spec.paths["/api/v1/sessions/{id}/complete"]?.post?.requestBody?.required).toBe(false);
  });
});
