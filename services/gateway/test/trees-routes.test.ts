import { randomUUID } from "node:crypto";
import { AppError } from "@tdt/kit";
import { OUTCOMES, outcomeCounts, SOLUTION_OUTCOMES } from "@tdt/proto/contracts/outcomes";
import type { CreateTreeRequest, UpdateTreeRequest } from "@tdt/proto/tdt/trees/v1/trees";
import { chainTree, printerTree } from "@tdt/test-support/trees";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAuth } from "./support/fake-auth.js";
import { FakeTrees, SAMPLE_VERSIONS } from "./support/fake-trees.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The trees routes of SPEC §5.1 against a fake trees service on a real gRPC server.
let auth: FakeAuth;
let fake: FakeTrees;
let gateway: TestGateway;
let technician: string;
let engineer: string;
let admin: string;

const TREE_ID = randomUUID();
const TREE_URL = `/api/v1/trees/${TREE_ID}`;
const HEADER_FIELDS = ["category", "created_at", "created_by", "description", "id", "status", "tags", "title"];
const TREE_FIELDS = [
  ...HEADER_FIELDS,
  "change_note",
  "nodes",
  "root_node_id",
  "updated_at",
  "variables",
  "language",
  "translations",
  "version",
].sort();
const SUMMARY_FIELDS = [...HEADER_FIELDS, "node_count", "updated_at", "version"].sort();

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** One request as `token`'s holder (none: anonymous), with a JSON body when there is `payload`. */
function call(method: Method, url: string, token?: string, payload?: object | string): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (typeof payload === "string") headers["content-type"] = "application/json";
  return gateway.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** The request the fake trees service received in its first call of `method`. */
function received<R>(method: Parameters<FakeTrees["callsOf"]>[0]): R {
  return fake.callsOf(method)[0]?.request as R;
}

beforeAll(async () => {
  auth = await FakeAuth.start();
  fake = await FakeTrees.start();
  gateway = await startTestGateway(auth.port, { treesPort: fake.port });
  technician = await auth.keys.accessToken({ role: "technician" });
  engineer = await auth.keys.accessToken({ role: "engineer" });
  admin = await auth.keys.accessToken({ role: "admin" });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await gateway?.close();
  await fake?.stop();
  await auth?.stop();
});

describe("GET /api/v1/trees", () => {
  it("answers a plain array of summaries with the total in X-Total-Count, passing request id and token on", async () => {
    const response = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/trees",
      headers: { authorization: `Bearer ${technician}`, "x-request-id": "list-trees-1" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-total-count"]).toBe("3");
    const summaries = response.json() as Array<Record<string, unknown>>;
    expect(summaries.map((summary) => summary.title)).toEqual(["Tree A", "Tree B", "Tree C"]);
    expect(Object.keys(summaries[0] ?? {}).sort()).toEqual(SUMMARY_FIELDS);
    expect(fake.callsOf("listTrees")[0]).toMatchObject({ requestId: "list-trees-1", accessToken: technician });
    expect(received("listTrees")).toEqual({ skip: 0, limit: 50, archived: false });
  });

  it("passes filters and a page on, and still counts them all", async () => {
    const response = await call(
      "GET",
      "/api/v1/trees?category=Printers&tag=laser&status=draft&skip=1&limit=1",
      engineer,
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toHaveLength(1);
    expect(response.headers["x-total-count"]).toBe("3");
    expect(received("listTrees")).toEqual({
      category: "Printers",
      tag: "laser",
      status: "draft",
      skip: 1,
      limit: 1,
      archived: false,
    });
  });

  it("refuses an unknown status and a page out of range with 422 in the query", async () => {
    const response = await call("GET", "/api/v1/trees?status=archived&limit=101&skip=-1", engineer);
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["query", "status"], type: "enum" }),
        expect.objectContaining({ loc: ["query", "limit"], type: "less_than_equal" }),
        expect.objectContaining({ loc: ["query", "skip"], type: "greater_than_equal" }),
      ]),
    );
    expect(fake.calls).toHaveLength(0);
  });

  it("answers 401 without a token, before calling the service", async () => {
    const response = await call("GET", "/api/v1/trees");
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe("Bearer");
    expect(fake.calls).toHaveLength(0);
  });
});

describe("GET /api/v1/trees/categories and /search", () => {
  it("lists the categories, not a tree called 'categories'", async () => {
    const response = await call("GET", "/api/v1/trees/categories", technician);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(["Network", "Printers"]);
    expect(fake.calls.map((recorded) => recorded.method)).toEqual(["listCategories"]);
  });

  it("searches with a default limit of 20, or the one given", async () => {
    const byDefault = await call("GET", "/api/v1/trees/search?q=printer%20toner", technician);
    expect(byDefault.statusCode).toBe(200);
    expect(byDefault.json()).toHaveLength(20);
    expect(Object.keys(byDefault.json()[0]).sort()).toEqual(SUMMARY_FIELDS);
    const limited = await call("GET", "/api/v1/trees/search?q=printer&limit=5", technician);
    expect(limited.json()).toHaveLength(5);
    expect(fake.callsOf("searchTrees").map((recorded) => recorded.request)).toEqual([
      { q: "printer toner", limit: 20 },
      { q: "printer", limit: 5 },
    ]);
  });

  it("requires q, of 1 to 200 characters", async () => {
    const missing = await call("GET", "/api/v1/trees/search", admin);
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toEqual([expect.objectContaining({ loc: ["query", "q"], type: "missing" })]);
    const long = await call("GET", `/api/v1/trees/search?q=${"a".repeat(201)}`, admin);
    expect(long.statusCode).toBe(422);
    expect(long.json().detail).toEqual([expect.objectContaining({ loc: ["query", "q"], type: "string_too_long" })]);
    expect(fake.calls).toHaveLength(0);
  });
});

describe("GET /api/v1/trees/:id", () => {
  it("answers the full document, each node with only the fields its type uses (as it was sent)", async () => {
    const response = await call("GET", TREE_URL, technician);
    expect(response.statusCode).toBe(200);
    const tree = response.json();
    expect(Object.keys(tree).sort()).toEqual(TREE_FIELDS);
    expect(tree).toMatchObject({ id: TREE_ID, version: 3, root_node_id: "power", status: "published" });
    expect(tree.nodes).toEqual(printerTree().nodes);
    expect(tree.nodes.map((node: object) => Object.keys(node).sort().join())).toEqual(
      expect.arrayContaining(["body,id,options,title,type", "body,id,next,title,type", "body,id,outcome,title,type"]),
    );
    expect(received("getTree")).toEqual({ id: TREE_ID });
  });

  it("asks for an older version with ?version=N", async () => {
    const response = await call("GET", `${TREE_URL}?version=2`, engineer);
    expect(response.statusCode).toBe(200);
    expect(response.json().version).toBe(2);
    expect(received("getTree")).toEqual({ id: TREE_ID, version: 2 });
  });

  it("refuses an id that is not a UUID and a version that is not an integer ≥ 1 with 422", async () => {
    const badId = await call("GET", "/api/v1/trees/printer", engineer);
    expect(badId.statusCode).toBe(422);
    expect(badId.json().detail).toEqual([expect.objectContaining({ loc: ["path", "id"], type: "uuid_format" })]);
    for (const version of ["0", "two", "1.5"]) {
      const badVersion = await call("GET", `${TREE_URL}?version=${version}`, engineer);
      expect(badVersion.statusCode).toBe(422);
      expect(badVersion.json().detail).toEqual([expect.objectContaining({ loc: ["query", "version"] })]);
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("answers the service's not_found with 404", async () => {
    fake.answer("getTree", async () => {
      throw new AppError("not_found");
    });
    const response = await call("GET", TREE_URL, technician);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: "not_found" });
  });
});

describe("GET /api/v1/trees/:id/versions", () => {
  it("lists the history for an engineer", async () => {
    const response = await call("GET", `${TREE_URL}/versions`, engineer);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(SAMPLE_VERSIONS);
    expect(received("listTreeVersions")).toEqual({ id: TREE_ID });
  });

  it("answers a technician 403 without calling the service", async () => {
    const response = await call("GET", `${TREE_URL}/versions`, technician);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "forbidden" });
    expect(fake.calls).toHaveLength(0);
  });
});

describe("GET /api/v1/trees/:id/analytics", () => {
  const analytics = (sessions: object) => async () => ({
    sessions: sessions as never,
    resolution_rate: 0.5,
    duration_ms: { median: 1000, p90: 2000 },
    nodes: [],
    paths: [],
    days: [],
  });

  it("counts the sessions by outcome, one property each, a solution's outcomes first as the answer always had", async () => {
    const counted: Record<string, number> = { resolved: 3, unresolved: 2, escalated: 1 };
    fake.answer(
      "getTreeAnalytics",
      analytics({
        started: 9,
        completed: 6,
        abandoned: 2,
        // What the deprecated fields say too; a new trees service fills both.
        resolved: 3,
        escalated: 1,
        unresolved: 2,
        outcomes: outcomeCounts(counted),
      }),
    );
    const response = await call("GET", `${TREE_URL}/analytics`, engineer);
    expect(response.statusCode).toBe(200);
    const { sessions } = response.json();
    expect(sessions).toEqual({
      started: 9,
      completed: 6,
      ...Object.fromEntries(OUTCOMES.map((outcome) => [outcome, counted[outcome] ?? 0])),
      abandoned: 2,
    });
    // Today: started, completed, resolved, escalated, unresolved, abandoned (the golden corpus has it).
    const keys = Object.keys(sessions);
    expect([...keys.slice(0, 2), ...keys.slice(-1)]).toEqual(["started", "completed", "abandoned"]);
    expect(keys.slice(2, 2 + SOLUTION_OUTCOMES.length)).toEqual(SOLUTION_OUTCOMES);
  });

  it("reads a v0.1.0 trees service's counts, one field per outcome and no `outcomes`", async () => {
    fake.answer(
      "getTreeAnalytics",
      // As its answer decodes: no `outcomes` on the wire is an empty list.
      analytics({ started: 4, completed: 3, resolved: 1, escalated: 2, unresolved: 0, abandoned: 1, outcomes: [] }),
    );
    const response = await call("GET", `${TREE_URL}/analytics`, engineer);
    expect(response.json().sessions).toMatchObject({
      started: 4,
      completed: 3,
      resolved: 1,
      escalated: 2,
      unresolved: 0,
      abandoned: 1,
    });
  });
});

/** The fields of a tree document an author writes: all but the id, version, author and dates the service sets. */
function authoredFieldsOf(document: Record<string, unknown>): string[] {
  const {
    id: _id,
    version: _version,
    created_by: _by,
    created_at: _at,
    updated_at: _updated,
    translations: _translations,
    ...authored
  } = document;
  return Object.keys(authored).sort();
}

describe("POST /api/v1/trees", () => {
  it("creates the tree: 201, and the service gets a TreeInput with the defaults filled", async () => {
    const { title, category, root_node_id, nodes } = printerTree();
    const [question, action] = nodes;
    const { body: _body, ...bare } = question ?? {};
    const response = await call("POST", "/api/v1/trees", engineer, {
      title,
      category,
      root_node_id,
      nodes: [bare, action],
    });
    expect(response.statusCode).toBe(201);
    expect(Object.keys(response.json()).sort()).toEqual(TREE_FIELDS);
    expect(response.json()).toMatchObject({ version: 1, status: "draft", title });
    expect(fake.callsOf("createTree")[0]?.accessToken).toBe(engineer);
    expect(received("createTree")).toEqual({
      tree: {
        title,
        description: "",
        category,
        tags: [],
        status: "draft",
        root_node_id,
        change_note: "",
        nodes: [
          { ...question, body: "", fields: [], rules: [] },
          { ...action, options: [], fields: [], rules: [] },
        ],
        variables: [],
        language: "",
      },
    });
  });

  it("takes a document read back as a new tree: what the service set on it is dropped, anything else unknown refused", async () => {
    const document = (await call("GET", TREE_URL, engineer)).json<Record<string, unknown>>();
    const copied = await call("POST", "/api/v1/trees", engineer, { ...document, title: "Copy" });
    expect(copied.statusCode).toBe(201);
    expect(Object.keys(received<CreateTreeRequest>("createTree").tree ?? {}).sort()).toEqual(
      authoredFieldsOf(document),
    );
    const misspelt = await call("POST", "/api/v1/trees", engineer, { ...document, titel: "Copy" });
    expect(misspelt.statusCode).toBe(422);
    expect(misspelt.json().detail).toEqual([
      expect.objectContaining({ loc: ["body", "titel"], type: "extra_forbidden" }),
    ]);
  });

  it("refuses a link or an outcome on a node whose type has none, where it was sent (Node is a union on type)", async () => {
    const body = printerTree();
    body.nodes[0] = { ...body.nodes[0], next: "plug", outcome: "resolved" };
    const response = await call("POST", "/api/v1/trees", admin, body);
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual([
      expect.objectContaining({ loc: ["body", "nodes", 0, "next"], type: "extra_forbidden" }),
      expect.objectContaining({ loc: ["body", "nodes", 0, "outcome"], type: "extra_forbidden" }),
    ]);
    expect(fake.calls).toHaveLength(0);
  });

  it.each([["unresolved"], ["fixed"], ["Resolved"], [""]])(
    "refuses %j as a solution's outcome where it was sent, as it always has (the contract's solution subset)",
    async (outcome) => {
      const body = printerTree();
      const at = body.nodes.findIndex((node) => node.type === "solution");
      body.nodes[at] = { ...body.nodes[at], outcome } as (typeof body.nodes)[number];
      const response = await call("POST", "/api/v1/trees", admin, body);
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        detail: [
          { loc: ["body", "nodes", at, "outcome"], msg: "must be equal to one of the allowed values", type: "enum" },
        ],
      });
      expect(fake.calls).toHaveLength(0);
    },
  );

  it("passes what a node's type leaves missing on for the service to judge with the tree's other rules", async () => {
    const body = printerTree();
    const { options: _options, ...question } = body.nodes[0] as Record<string, unknown>;
    body.nodes[0] = question;
    await call("POST", "/api/v1/trees", admin, body);
    expect(received<CreateTreeRequest>("createTree").tree?.nodes[0]).toMatchObject({ id: question.id, options: [] });
  });

  it("answers a technician 403 without calling the service", async () => {
    const response = await call("POST", "/api/v1/trees", technician, printerTree());
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "forbidden" });
    expect(fake.calls).toHaveLength(0);
  });

  it("refuses a body without nodes, with a wrong type or an unknown field, with 422", async () => {
    const { nodes: _nodes, ...withoutNodes } = printerTree();
    const missing = await call("POST", "/api/v1/trees", engineer, withoutNodes);
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toEqual([expect.objectContaining({ loc: ["body", "nodes"], type: "missing" })]);

    const wrong = await call("POST", "/api/v1/trees", engineer, {
      ...printerTree(),
      tags: "laser",
      titel: "typo",
      nodes: [
        { id: "a", type: "decision", title: "?" },
        { id: "b", type: "question", title: "?", options: [{ id: "x", label: "X", next: 7 }] },
      ],
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "tags"], type: "array_type" }),
        expect.objectContaining({ loc: ["body", "titel"], type: "extra_forbidden" }),
        expect.objectContaining({ loc: ["body", "nodes", 0, "type"], type: "enum" }),
        expect.objectContaining({ loc: ["body", "nodes", 1, "options", 0, "next"], type: "string_type" }),
      ]),
    );
    expect(fake.calls).toHaveLength(0);
  });

  it("passes the service's validation problems on as 422, exactly", async () => {
    const problems = [
      { loc: ["body", "nodes", 3, "options", 0, "next"], msg: 'No node has id "nowhere"', type: "unknown_node" },
    ];
    fake.answer("createTree", async () => {
      throw AppError.invalid(problems);
    });
    const response = await call("POST", "/api/v1/trees", engineer, printerTree());
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: problems });
  });

  it("lets a 2,000-node tree of 1.5 MB through to the service, with no length cap of its own", async () => {
    const body = chainTree(2000, { title: "t".repeat(5_000) }); // over the service's limit: its 422 is the one
    for (const node of body.nodes) node.body = "x".repeat(800);
    const payload = JSON.stringify(body);
    expect(payload.length).toBeGreaterThan(1.5 * 1024 * 1024);
    const response = await call("POST", "/api/v1/trees", engineer, payload);
    expect(response.statusCode).toBe(201);
    expect(response.json().nodes).toEqual(body.nodes);
    expect(received<CreateTreeRequest>("createTree").tree?.nodes).toHaveLength(2000);
  });

  it("answers a body over 2 MB with 413", async () => {
    const body = chainTree(2000);
    for (const node of body.nodes) node.body = "x".repeat(1_100);
    const response = await call("POST", "/api/v1/trees", engineer, JSON.stringify(body));
    expect(response.statusCode).toBe(413);
    expect(fake.calls).toHaveLength(0);
  });
});

describe("PUT /api/v1/trees/:id", () => {
  it("replaces the tree from the version it was edited from", async () => {
    const body = { ...printerTree({ status: "draft", change_note: "Clearer" }), version: 3 };
    const response = await call("PUT", TREE_URL, engineer, body);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: TREE_ID, version: 4, status: "draft", change_note: "Clearer" });
    expect(received<UpdateTreeRequest>("updateTree")).toMatchObject({
      id: TREE_ID,
      version: 3,
      tree: { status: "draft", change_note: "Clearer" },
    });
  });

  it("takes back a document it answered with, ignoring the fields the service sets", async () => {
    const document = (await call("GET", TREE_URL, engineer)).json<Record<string, unknown>>();
    const response = await call("PUT", TREE_URL, engineer, { ...document, title: "Edited" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ...document, title: "Edited", version: 4 });
    expect(received<UpdateTreeRequest>("updateTree")).toMatchObject({ id: TREE_ID, version: 3 });
    expect(Object.keys(received<UpdateTreeRequest>("updateTree").tree ?? {}).sort()).toEqual(
      authoredFieldsOf(document),
    );
  });

  it("requires the version it was edited from", async () => {
    const response = await call("PUT", TREE_URL, engineer, printerTree());
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toEqual([expect.objectContaining({ loc: ["body", "version"], type: "missing" })]);
    expect(fake.calls).toHaveLength(0);
  });

  it("answers a stale version with the service's 409 version_conflict", async () => {
    fake.answer("updateTree", async () => {
      throw new AppError("version_conflict");
    });
    const response = await call("PUT", TREE_URL, admin, { ...printerTree(), version: 1 });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ detail: "version_conflict" });
  });

  it("answers a technician 403 without calling the service", async () => {
    const response = await call("PUT", TREE_URL, technician, { ...printerTree(), version: 1 });
    expect(response.statusCode).toBe(403);
    expect(fake.calls).toHaveLength(0);
  });
});

describe("DELETE /api/v1/trees/:id", () => {
  it("deletes for an admin: 204, no body", async () => {
    const response = await call("DELETE", TREE_URL, admin);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe("");
    expect(fake.callsOf("deleteTree")[0]).toMatchObject({ request: { id: TREE_ID }, accessToken: admin });
  });

  it("answers an engineer 403 without calling the service", async () => {
    const response = await call("DELETE", TREE_URL, engineer);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "forbidden" });
    expect(fake.calls).toHaveLength(0);
  });

  it("answers the service's not_found with 404", async () => {
    fake.answer("deleteTree", async () => {
      throw new AppError("not_found");
    });
    expect((await call("DELETE", TREE_URL, admin)).statusCode).toBe(404);
  });
});

describe("OpenAPI", () => {
  it("documents every trees route with its schemas and errors", async () => {
    const response = await call("GET", "/api/openapi.json");
    type Operation = { tags?: string[]; responses: Record<string, unknown>; requestBody?: unknown };
    const spec = response.json() as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown> };
    };
    const routes = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith("/api/v1/trees"))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        "GET /api/v1/trees",
        "POST /api/v1/trees",
        "GET /api/v1/trees/categories",
        "GET /api/v1/trees/search",
        "GET /api/v1/trees/{id}",
        "PUT /api/v1/trees/{id}",
        "DELETE /api/v1/trees/{id}",
        "GET /api/v1/trees/{id}/versions",
        "GET /api/v1/trees/{id}/analytics",
        "GET /api/v1/trees/{id}/draft",
        "PUT /api/v1/trees/{id}/draft",
        "DELETE /api/v1/trees/{id}/draft",
        "POST /api/v1/trees/{id}/publish",
        "POST /api/v1/trees/{id}/rollback",
        "GET /api/v1/trees/{id}/settings",
        "PATCH /api/v1/trees/{id}/settings",
        "POST /api/v1/trees/{id}/reviews",
        "POST /api/v1/trees/{id}/archive",
        "POST /api/v1/trees/{id}/restore",
        "GET /api/v1/trees/{id}/history",
        "GET /api/v1/trees/{id}/diff",
        "GET /api/v1/trees/{id}/export",
        "POST /api/v1/trees/import",
        "GET /api/v1/trees/{id}/translations",
        "GET /api/v1/trees/{id}/translations/{locale}",
        "PUT /api/v1/trees/{id}/translations/{locale}",
      ].sort(),
    );
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining([
        "Tree",
        "TreeSummary",
        "TreeVersion",
        "Node",
        "Option",
        "TreeInput",
        "TreeUpdate",
        "TreeAnalytics",
        "TreeDraft",
        "TreeDraftSave",
        "TreeSettings",
        "TreeReview",
        "HistoryEntry",
        "TreeDiff",
        "NodeChange",
        "PortableTree",
        "PortableTreeInput",
        "TreeTranslation",
        "TranslatedText",
        "TranslationSummary",
      ]),
    );
    const put = spec.paths["/api/v1/trees/{id}"]?.put;
    expect(put?.tags).toEqual(["trees"]);
    expect(Object.keys(put?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "403", "404", "409", "422", "503", "504"]),
    );
    expect(JSON.stringify(spec.paths["/api/v1/trees"]?.post?.requestBody)).toContain("TreeInput");
  });
});
