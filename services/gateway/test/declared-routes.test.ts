import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requestIdFrom, verifierFromAuthService } from "@tdt/kit";
import { ACCESS_BY_SERVICE, type Guard, roleOf } from "@tdt/proto/contracts/access";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { HooksServiceService } from "@tdt/proto/tdt/hooks/v1/hooks";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { testLogger } from "@tdt/test-support/silent-logger";
import Fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDownstream, connectDownstream, type Downstream } from "../src/api/downstream.js";
import { guardOf, impliedErrors, type RpcOf, routesOf } from "../src/api/route.js";
import { API_ROUTES, SHARED_SCHEMAS } from "../src/app.js";
import { httpErrorOf } from "../src/edge/errors.js";
import { buildValidator } from "../src/edge/schema-validation.js";
import { FakeAuth } from "./support/fake-auth.js";
import { FakeSessions } from "./support/fake-sessions.js";
import { FakeTrees } from "./support/fake-trees.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// Routes are declared once (route.ts): their guard comes from the contracts' access table, and
// security and error responses are derived from it. Against fakes of the three services on real
// gRPC servers, with the gateway's own route groups.

let auth: FakeAuth;
let trees: FakeTrees;
let sessions: FakeSessions;
let gateway: TestGateway;
let declared: RouteOptions[];
const tokens: Record<string, string> = {};

const PROTO_ROOT = join(import.meta.dirname, "../../../proto/tdt");

/** Every route the gateway's groups declare, as fastify registered them. */
async function declaredRoutes(downstream: Downstream): Promise<RouteOptions[]> {
  const routes: RouteOptions[] = [];
  const app = Fastify({ schemaController: { compilersFactory: { buildValidator } } });
  app.addHook("onRoute", (route) => {
    routes.push(route);
  });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  const verifier = verifierFromAuthService({ auth: downstream.auth, log: testLogger("routes") });
  for (const { plugin, prefix } of API_ROUTES) await app.register(plugin, { prefix, downstream, verifier });
  await app.ready();
  await app.close();
  return routes.filter((route) => route.method !== "HEAD");
}

/** A URL that reaches `route`: each path parameter a fresh UUID. */
const urlOf = (route: RouteOptions) => route.url.replace(/:[a-z_]+/g, () => randomUUID());

/** Every `/package.Service/Method` of the services in proto/tdt, read from the .proto files. */
function protoRpcs(): string[] {
  const files = readdirSync(PROTO_ROOT, { recursive: true, encoding: "utf8" }).filter((file) =>
    file.endsWith(".proto"),
  );
  return files.flatMap((file) => {
    const text = readFileSync(join(PROTO_ROOT, file), "utf8");
    const pkg = /^package\s+([\w.]+);/m.exec(text)?.[1];
    return [...text.matchAll(/service\s+(\w+)\s*\{([\s\S]*?)\n\}/g)].flatMap(([, service, body]) =>
      [...(body ?? "").matchAll(/rpc\s+(\w+)\s*\(/g)].map(([, rpc]) => `/${pkg}.${service}/${rpc}`),
    );
  });
}

beforeAll(async () => {
  [auth, trees, sessions] = await Promise.all([FakeAuth.start(), FakeTrees.start(), FakeSessions.start()]);
  gateway = await startTestGateway(auth.port, { treesPort: trees.port, sessionsPort: sessions.port });
  declared = await declaredRoutes(gateway.downstream);
  for (const role of ["technician", "engineer", "admin"] as const) {
    tokens[role] = await auth.keys.accessToken({ role });
  }
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([auth?.stop(), trees?.stop(), sessions?.stop()]);
});

describe("the access table", () => {
  it("has an entry for every RPC of the proto services, and none for an RPC that does not exist", () => {
    const definitions = [
      AuthServiceService,
      TreesServiceService,
      MediaServiceService,
      SessionsServiceService,
      HooksServiceService,
    ];
    const covered = definitions.flatMap((definition) =>
      Object.values(definition).map(({ path }) => {
        const [, service = "", method = ""] = path.split("/");
        const key = method.charAt(0).toLowerCase() + method.slice(1);
        return ACCESS_BY_SERVICE[service]?.[key] === undefined ? `${path} (no entry)` : path;
      }),
    );
    expect(covered.sort()).toEqual(protoRpcs().sort());
    const entries = Object.entries(ACCESS_BY_SERVICE).flatMap(([service, table]) =>
      Object.keys(table).map((key) => `/${service}/${key.charAt(0).toUpperCase()}${key.slice(1)}`),
    );
    expect(entries.sort()).toEqual(protoRpcs().sort());
  });
});

describe("the gateway's declared routes", () => {
  it("are every API route, each naming the RPC it calls", () => {
    expect(declared.length).toBeGreaterThanOrEqual(26);
    for (const route of declared) expect(route.config?.rpc, `${route.method} ${route.url}`).toMatch(/^\w+\.\w+$/);
  });

  it("take the guard of the RPC they call, and document what it implies", () => {
    for (const route of declared) {
      const [client, method] = (route.config?.rpc ?? "").split(".") as [keyof Downstream, RpcOf<keyof Downstream>];
      const guard = guardOf(client, method);
      const name = `${route.method} ${route.url} (${route.config?.rpc})`;
      expect(route.config?.guard, name).toBe(guard);
      const schema = route.schema as { security?: unknown; response: Record<string, unknown> };
      // A public route says so (`[]`): no `security` at all would read as "unknown" to a linter.
      expect(schema.security, name).toEqual(guard === "public" ? [] : [{ oauth2: [] }, { bearer: [] }]);
      if (guard !== "public") expect(Object.keys(schema.response), name).toContain("401");
      if (roleOf(guard)) expect(Object.keys(schema.response), name).toContain("403");
      expect(Object.keys(schema.response), name).toEqual(expect.arrayContaining(["503", "504"]));
    }
  });

  it("answer 401 without a token, and 403 below the RPC's role, before calling any service", async () => {
    const checked: string[] = [];
    for (const route of declared) {
      const guard = route.config?.guard as Guard;
      if (guard === "public") continue;
      const url = urlOf(route);
      const method = route.method as "GET";
      const anonymous = await gateway.app.inject({ method, url });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      const role = roleOf(guard);
      if (role) {
        const below = role === "admin" ? "engineer" : "technician";
        const headers = { authorization: `Bearer ${tokens[below]}` };
        const refused = await gateway.app.inject({ method, url, headers });
        expect(refused.statusCode, `${method} ${url} as ${below}`).toBe(403);
        expect(refused.json()).toEqual({ detail: "forbidden" });
      }
      checked.push(`${method} ${route.url}`);
    }
    expect(checked.length).toBeGreaterThan(15);
    expect([...auth.calls, ...trees.calls, ...sessions.calls].filter((call) => call.method !== "getJwks")).toEqual([]);
  });
});

describe("a route declared with routesOf", () => {
  let app: FastifyInstance;
  let downstream: Downstream;
  const registered: RouteOptions[] = [];

  beforeAll(async () => {
    downstream = connectDownstream({
      authAddress: `127.0.0.1:${auth.port}`,
      treesAddress: `127.0.0.1:${trees.port}`,
      sessionsAddress: `127.0.0.1:${sessions.port}`,
      hooksAddress: "127.0.0.1:1",
      grpcDeadlineMs: 2_000,
    });
    // Request ids and error answers as the gateway makes them (app.ts).
    app = Fastify({ genReqId: (request) => requestIdFrom(request.headers["x-request-id"]) });
    app.setErrorHandler((error, _request, reply) => {
      const http = httpErrorOf(error);
      return http ? reply.code(http.statusCode).send({ detail: http.detail }) : reply.code(500).send(error);
    });
    app.addHook("onRoute", (route) => {
      if (route.method !== "HEAD") registered.push(route);
    });
    for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
    const route = routesOf({ tag: "test", downstream, verifier: gateway.verifier });
    route(app, {
      method: "GET",
      url: "/users",
      summary: "Users",
      rpc: { client: "auth", method: "listUsers" },
      querystring: { type: "object", properties: { limit: { type: "integer", default: 2 } } },
      request: (request: FastifyRequest<{ Querystring: { limit: number } }>) => ({
        skip: 0,
        limit: request.query.limit,
      }),
      response: { description: "Users", type: "array", items: { type: "object" } },
      total: "users",
      send: (answer) => answer.users,
    });
    route(app, {
      method: "POST",
      url: "/trees",
      summary: "Create",
      rpc: { client: "trees", method: "createTree" },
      body: { type: "object" },
      request: () => ({}),
      status: 201,
      response: { description: "Created", type: "object" },
      errors: ["version_conflict"],
    });
    route(app, {
      method: "DELETE",
      url: "/sessions/:id",
      summary: "A user's route",
      rpc: { client: "sessions", method: "getSession" },
      request: (request: FastifyRequest<{ Params: { id: string } }>) => ({ id: request.params.id }),
      status: 204,
    });
    route(app, {
      method: "GET",
      url: "/jwks",
      summary: "Public",
      rpc: { client: "auth", method: "getJwks" },
      request: () => ({}),
      response: { description: "Keys", type: "object", additionalProperties: true },
      send: (answer) => JSON.parse(answer.jwks_json),
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    if (downstream) closeDownstream(downstream);
  });

  it("derives the implied error codes from guard, input and RPC", () => {
    const downstreamCodes = ["database_unavailable", "deadline_exceeded", "service_unavailable", "shutting_down"];
    // Behind a token, an API key may come instead: its scopes (403) and its quota (429).
    const tokenCodes = [
      "insufficient_scope",
      "invalid_token",
      "not_authenticated",
      "rate_limited",
      "session_revoked",
      "token_expired",
    ];
    const readCodes = [
      "bad_request",
      "json_too_deep",
      "malformed_json",
      "request_too_large",
      "unsupported_content_type",
    ];
    const sorted = (...codes: string[]) => [...codes].sort();
    expect(impliedErrors({ method: "GET", guard: "public" })).toEqual(sorted(...downstreamCodes));
    expect(impliedErrors({ method: "GET", guard: "user", params: {} })).toEqual(
      sorted(...tokenCodes, "validation_error", ...downstreamCodes),
    );
    const update = { method: "PUT", guard: "engineer", body: {}, errors: ["not_found", "version_conflict"] } as const;
    expect(impliedErrors(update)).toEqual(
      sorted(
        ...readCodes,
        "validation_error",
        ...tokenCodes,
        "forbidden",
        "not_found",
        "version_conflict",
        ...downstreamCodes,
      ),
    );
    expect(impliedErrors({ method: "GET", guard: "admin", querystring: {} })).toEqual(
      sorted(...tokenCodes, "forbidden", "validation_error", ...downstreamCodes),
    );
    // Whatever a DELETE sends is read, so a route without a body still answers the reading errors.
    expect(impliedErrors({ method: "DELETE", guard: "admin", params: {} })).toEqual(
      sorted(...readCodes, "validation_error", ...tokenCodes, "forbidden", ...downstreamCodes),
    );
  });

  it("calls its RPC with the request id and the caller's token, and sends X-Total-Count for a list", async () => {
    auth.reset();
    const response = await app.inject({
      method: "GET",
      url: "/users?limit=2",
      headers: { authorization: `Bearer ${tokens.admin}`, "x-request-id": "req-42" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["x-total-count"]).toBe("3");
    expect(response.json()).toHaveLength(2);
    const [call] = auth.callsOf("listUsers");
    expect(call).toMatchObject({ request: { skip: 0, limit: 2 }, accessToken: tokens.admin });
    expect(call?.requestId).toBe("req-42");
  });

  it("guards a role RPC: 401 anonymous, 403 below the role, its status when allowed", async () => {
    trees.reset();
    const post = (token?: string) =>
      app.inject({
        method: "POST",
        url: "/trees",
        payload: {},
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect((await post()).statusCode).toBe(401);
    expect((await post(tokens.technician)).statusCode).toBe(403);
    expect(trees.calls).toEqual([]);
    const created = await post(tokens.engineer);
    expect(created.statusCode, created.body).toBe(201);
    expect(trees.callsOf("createTree")).toHaveLength(1);
  });

  it("sends 204 with no body, and lets anyone call a public RPC", async () => {
    const deleted = await app.inject({
      method: "DELETE",
      url: `/sessions/${randomUUID()}`,
      headers: { authorization: `Bearer ${tokens.technician}` },
    });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe("");
    const keys = await app.inject({ method: "GET", url: "/jwks" });
    expect(keys.statusCode).toBe(200);
    expect(keys.json().keys).toHaveLength(1);
  });

  it("documents security and responses from the guard", () => {
    const documented = Object.fromEntries(
      registered.map((route) => {
        const schema = route.schema as { security?: unknown; tags: string[]; response: Record<string, unknown> };
        return [
          `${route.method} ${route.url}`,
          { security: schema.security, tags: schema.tags, statuses: Object.keys(schema.response) },
        ];
      }),
    );
    // Either the OAuth2 password login (Swagger UI's Authorize) or a pasted bearer token.
    const bearer = [{ oauth2: [] }, { bearer: [] }];
    expect(documented).toEqual({
      "GET /users": { security: bearer, tags: ["test"], statuses: ["200", "401", "403", "422", "429", "503", "504"] },
      "POST /trees": {
        security: bearer,
        tags: ["test"],
        statuses: ["201", "400", "401", "403", "409", "413", "422", "429", "503", "504"],
      },
      // A DELETE's body is read if one is sent: unreadable (400) or too large (413) even without a schema.
      "DELETE /sessions/:id": {
        security: bearer,
        tags: ["test"],
        statuses: ["204", "400", "401", "403", "413", "429", "503", "504"],
      },
      "GET /jwks": { security: [], tags: ["test"], statuses: ["200", "503", "504"] },
    });
  });
});
