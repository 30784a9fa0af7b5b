import type { AccessTokenVerifier, CallOptions } from "@tdt/kit";
import {
  AUTH_ACCESS,
  type Guard,
  HOOKS_ACCESS,
  MEDIA_ACCESS,
  roleOf,
  SESSIONS_ACCESS,
  TREES_ACCESS,
} from "@tdt/proto/contracts/access";
import type { ErrorCode } from "@tdt/proto/contracts/error-codes";
import { type CacheScope, HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { CACHE_SCOPES } from "../caches/cache-scopes.js";
import type { ResponseCache } from "../caches/response-cache.js";
import { scopeOfRoute } from "../edge/api-keys.js";
import { callOptionsOf, requireRole, requireUser } from "../edge/authenticate.js";
import { clientOf } from "../edge/client-info.js";
import { inRequestTrace } from "../edge/http-tracing.js";
import { completeRequest, derivedSchemas, documentSender, type RouteShape } from "./contract-schemas.js";
import type { Downstream } from "./downstream.js";
import { BEARER, type ListPage, listPageHeaders, NO_CONTENT, PUBLIC, totalCountHeader } from "./schemas/common.js";
import { API_KEY_ERRORS, DOWNSTREAM_ERRORS, errorResponses, READ_BODY_ERRORS, TOKEN_ERRORS } from "./schemas/errors.js";

type Client = keyof Downstream;
/** The RPCs of a downstream client (its methods but the health checks and `close`). */
export type RpcOf<C extends Client> = Exclude<keyof Downstream[C], "isServing" | "health" | "close"> & string;
type Call<C extends Client, M extends RpcOf<C>> = Downstream[C][M] extends (
  request: infer Request,
  options: CallOptions,
) => Promise<infer Response>
  ? { request: Request; response: Response }
  : never;

/** The contracts' access table of each client: a route's guard is the one of the RPC it calls. */
export const ACCESS: { readonly [C in Client]: { readonly [M in RpcOf<C>]: Guard } } = {
  auth: AUTH_ACCESS,
  // The trees process serves its trees and the images their nodes show.
  trees: { ...TREES_ACCESS, ...MEDIA_ACCESS },
  sessions: SESSIONS_ACCESS,
  hooks: HOOKS_ACCESS,
};

/** The guard of `client`'s RPC `method`, from the contracts' table. */
export function guardOf<C extends Client>(client: C, method: RpcOf<C>): Guard {
  return (ACCESS[client] as Record<string, Guard>)[method] as Guard;
}

/**
 * What the contract says of a route: its method and path, documentation, success status, own
 * errors, list total and cache scopes. For a route of the table (`HTTP_ROUTES`, generated from
 * each RPC's `google.api.http` and `(tdt.contract.v1.http_route)` options) they come from there;
 * a hand route (the form login) states them itself.
 */
export interface RouteFacts {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Relative to the group's prefix. */
  url: string;
  summary: string;
  description?: string | undefined;
  /** Its OpenAPI `operationId` (what generated clients name their functions), when not the RPC's method name. */
  operationId?: string | undefined;
  /** The success status (default 200); 204 sends no body; 202 says a mail (or other work) is on its way. */
  status?: number | undefined;
  /** The route's own `detail` codes, beyond those its guard, input and RPC imply (see impliedErrors). */
  errors?: readonly ErrorCode[] | undefined;
  /** A list: `X-Total-Count` carries the answer's `total`, counting these (e.g. "matching trees"). */
  total?: string | undefined;
  /** A read whose answer the group's cache may keep (response-cache.ts), named and tagged as its scope says. */
  cache?: CacheScope | undefined;
  /** A change: the cache tags its success makes stale here at once (other gateways hear of it over NATS). */
  invalidates?: CacheScope | undefined;
  /** The query carries secrets: the request log line shows the path only. */
  secretQuery?: boolean | undefined;
}

/** What the gateway adds to a route: HTTP's shapes of the RPC's request and answer. */
export interface RouteBinding<C extends Client, M extends RpcOf<C>, R extends object> {
  /** The RPC the route calls: its guard comes from the contracts' access table, its facts from the route table. */
  rpc: { client: C; method: M };
  params?: object;
  querystring?: object;
  headers?: object;
  body?: object;
  consumes?: string[];
  /**
   * The RPC's request, built from the HTTP request (and any early check of the request's data).
   * Default, as google.api.http maps it: the path's fields over the body's (`body: "*"`), or over
   * the query's for a route without a body.
   */
  request?: (request: FastifyRequest<R>) => Call<C, M>["request"];
  /** The success body's schema, with its description (none for 204). */
  response?: object;
  /** Other successes the route answers with beside its status, by status (a download's 206 and 304). */
  otherSuccesses?: Record<number, object>;
  /**
   * A 204 route that sometimes has something to say: when its `send` returns a body, the answer
   * is a 200 with it, documented by this schema.
   */
  okWithBody?: object;
  /** A redirect: the answer is a 302 to this URL (`send` may still set headers and cookies). */
  redirect?: { location: (answer: Call<C, M>["response"]) => string; description: string };
  /**
   * The success body made from the RPC's answer (default: the route's `response_body` field of
   * the answer, else the answer itself); may set headers (and cookies, also for a 204). A cached
   * route's `send` must not touch the reply.
   */
  send?: (answer: Call<C, M>["response"], reply: FastifyReply, request: FastifyRequest<R>) => unknown;
}

/** A route of the table: the binding alone. A hand route: its facts too. */
export type RouteSpec<C extends Client, M extends RpcOf<C>, R extends object> = RouteBinding<C, M, R> &
  (Partial<Record<keyof RouteFacts, never>> | RouteFacts);

/** The table's route of `client`'s RPC `method`, with the fastify path relative to `prefix`. */
export function tableRoute(
  client: Client,
  method: string,
  prefix: string,
): RouteFacts & { bodyField?: string | undefined; responseBody?: string | undefined; shape: RouteShape } {
  const entry = HTTP_ROUTES.find((route) => route.client === client && route.rpc === method);
  if (!entry) throw new Error(`${client}.${method} has no google.api.http route in the protos`);
  const path = entry.path.replace(/\{(\w+)\}/g, ":$1");
  if (!path.startsWith(prefix)) throw new Error(`${client}.${method}: ${entry.path} is outside ${prefix}`);
  const { summary, description, operationId, status, total, cache, invalidates, secretQuery, body, responseBody } =
    entry;
  const errors = entry.errors as readonly ErrorCode[] | undefined;
  const url = path.slice(prefix.length);
  const facts = { summary, description, operationId, status, errors, total, cache, invalidates, secretQuery };
  const shape = { ...entry, bodyField: body };
  return { method: entry.method, url, ...facts, bodyField: body, responseBody, shape };
}

/** Where a group of routes is declared: its OpenAPI tag and what its routes call. */
export interface RouteGroup {
  tag: string;
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  /** Where the group's cacheable reads are kept; none, every read goes to the service. */
  cache?: ResponseCache | undefined;
}

/** A redirect's `Location`, as documented. */
const LOCATION = { location: { type: "string", format: "uri", description: "Where the browser goes next" } };

/** What fastify sends JSON as. */
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * The `detail` codes a route can answer with, derived from what it is: those of reading a body
 * for any method that sends one, validation with any input, the token's behind a token, `forbidden` behind a role, a
 * downstream service's, and the route's own.
 */
export function impliedErrors(spec: {
  method: RouteFacts["method"];
  guard: Guard;
  params?: object | undefined;
  querystring?: object | undefined;
  headers?: object | undefined;
  body?: object | undefined;
  errors?: readonly ErrorCode[] | undefined;
}): ErrorCode[] {
  const codes = new Set<ErrorCode>(spec.method === "GET" ? [] : READ_BODY_ERRORS);
  if (spec.guard !== "public") for (const code of [...TOKEN_ERRORS, ...API_KEY_ERRORS]) codes.add(code);
  if (roleOf(spec.guard)) codes.add("forbidden");
  if (spec.body || spec.params || spec.querystring || spec.headers) codes.add("validation_error");
  for (const code of spec.errors ?? []) codes.add(code);
  for (const code of DOWNSTREAM_ERRORS) codes.add(code);
  return [...codes].sort();
}

/**
 * The RPC's request as google.api.http maps an HTTP request: the path's fields over the body's or
 * the query's. A `null` (which only a nullable field's schema lets through) is a field not set, as
 * the protobuf JSON mapping reads it.
 */
function mappedRequest(request: FastifyRequest, body: string | undefined): never {
  const fields = (body === "*" ? request.body : body ? { [body]: request.body } : request.query) ?? {};
  const given = Object.entries(fields as Record<string, unknown>).filter(([, value]) => value !== null);
  return { ...Object.fromEntries(given), ...(request.params ?? {}) } as never;
}

/**
 * Declares routes of one group: `route(scope, spec)` registers `spec` on `scope` (the group's
 * plugin, or a scope of it with its own body parsing), guarded as its RPC's table entry says.
 */
export function routesOf(group: RouteGroup) {
  const hooksOf = (guard: Guard, scope: string | undefined): onRequestAsyncHookHandler[] => {
    const role = roleOf(guard);
    if (guard === "public") return [];
    const user = requireUser(group.verifier, { authority: group.downstream.auth, scope });
    return role ? [user, requireRole(role)] : [user];
  };

  return <C extends Client, M extends RpcOf<C>, R extends object>(
    scope: FastifyInstance,
    route: RouteSpec<C, M, R>,
  ): void => {
    const facts: RouteFacts & {
      bodyField?: string | undefined;
      responseBody?: string | undefined;
      shape?: RouteShape;
    } =
      "method" in route && route.method
        ? (route as RouteFacts)
        : tableRoute(route.rpc.client, route.rpc.method, scope.prefix);
    // A table route takes its schemas from the contract where its binding gives none (the
    // request's parts too when it builds its own request, unless its path names are not the
    // message's: derivedSchemas), and answers with the response message's document.
    const derived = facts.shape ? derivedSchemas(facts.shape) : {};
    const spec = { ...derived, ...route, ...facts };
    const guard = guardOf(spec.rpc.client, spec.rpc.method);
    const send = spec.send ?? (facts.shape ? documentSender(facts.shape) : undefined);
    const built = spec.request ?? ((request: FastifyRequest) => mappedRequest(request, facts.bodyField));
    // A hand route (the form login) calls an RPC of the table too: its request is completed alike.
    const message = HTTP_ROUTES.find(
      (entry) => entry.client === spec.rpc.client && entry.rpc === spec.rpc.method,
    )?.request;
    const rpcRequest = message
      ? (request: FastifyRequest<R>) => completeRequest(message, built(request as never), () => clientOf(request))
      : built;
    const cacheScope = spec.cache ? CACHE_SCOPES[spec.cache] : undefined;
    const status = spec.redirect ? 302 : (spec.status ?? 200);
    const success =
      status === 302
        ? { 302: { type: "null", description: spec.redirect?.description, headers: LOCATION } }
        : status === 204
          ? { ...NO_CONTENT, ...(spec.okWithBody ? { 200: spec.okWithBody } : {}) }
          : {
              [status]: spec.total ? { ...spec.response, headers: totalCountHeader(spec.total) } : spec.response,
              ...spec.otherSuccesses,
            };
    const call = group.downstream[spec.rpc.client][spec.rpc.method] as (
      request: unknown,
      options: CallOptions,
    ) => Promise<Call<C, M>["response"]>;
    const onRequest = hooksOf(guard, scopeOfRoute(spec.rpc.client, spec.rpc.method, spec.method));
    const errorCodes = impliedErrors({ ...spec, guard });

    scope.route({
      method: spec.method,
      url: spec.url,
      ...(onRequest.length > 0 ? { onRequest } : {}),
      config: { rpc: `${spec.rpc.client}.${spec.rpc.method}`, guard, errorCodes, secretQuery: spec.secretQuery },
      schema: {
        tags: [group.tag],
        operationId: spec.operationId ?? spec.rpc.method,
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        // A public route says so: no `security` would mean "as the document's default".
        security: guard === "public" ? PUBLIC : BEARER,
        ...(spec.consumes ? { consumes: spec.consumes } : {}),
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.querystring ? { querystring: spec.querystring } : {}),
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body ? { body: spec.body } : {}),
        response: { ...success, ...errorResponses(errorCodes) },
      },
      handler: async (request, reply) => {
        const typed = request as unknown as FastifyRequest<R>;
        const fetch = () =>
          inRequestTrace(request, () =>
            call.call(group.downstream[spec.rpc.client], rpcRequest(typed), callOptionsOf(request)),
          );
        const listHeaders = (answer: unknown) => (spec.total ? listPageHeaders(request.url, answer as ListPage) : {});
        if (cacheScope && group.cache) {
          // What a caller sees differs by role and by organization (the token's `org`).
          const caller = request.caller?.claims;
          const key = `${scope.prefix}${spec.url} ${caller ? `${caller.org} ${caller.role}` : "public"} ${cacheScope.key(request)}`;
          const cached = await group.cache.serve(key, cacheScope.tags(request), async () => {
            const answer = await fetch();
            reply.code(status);
            // Serialized once, by the route's own response schema, as an uncached answer is.
            const body = reply.serialize(send ? send(answer, reply, typed) : answer) as string;
            const headers = listHeaders(answer);
            return { body: Buffer.from(body), headers };
          });
          return reply.code(status).headers(cached.headers).type(JSON_CONTENT_TYPE).send(cached.body);
        }
        const answer = await fetch();
        if (spec.invalidates) group.cache?.invalidate(CACHE_SCOPES[spec.invalidates].tags(request));
        reply.headers(listHeaders(answer));
        reply.code(status);
        if (spec.redirect) {
          send?.(answer, reply, typed);
          return reply.header("location", spec.redirect.location(answer)).send();
        }
        if (status === 204) {
          const body = send?.(answer, reply, typed);
          return body === undefined ? reply.send() : reply.code(200).send(body);
        }
        return reply.send(send ? send(answer, reply, typed) : answer);
      },
    });
  };
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The RPC a declared route calls ("trees.listTrees") and the guard it took from the table. */
    rpc?: string;
    guard?: Guard;
    /** Every `detail` code the route documents: the gateway logs any other it answers with. */
    errorCodes?: readonly ErrorCode[];
    /** The query carries secrets (a sign-in's code and state): the request log shows the path only. */
    secretQuery?: boolean;
  }
}

/**
 * Serves, as the contract derives them, the routes of the table that no group binds: a route
 * whose proto says all it needs is served without a line in the gateway. Call it before the
 * groups register (it notes the RPCs they bind as they declare them), and register what it
 * returns after them.
 */
export function unboundRoutes(
  app: FastifyInstance,
  group: Omit<RouteGroup, "tag" | "cache"> & { caches?: Partial<Record<Client, ResponseCache | undefined>> },
): (scope: FastifyInstance) => Promise<void> {
  const bound = new Set<string>();
  app.addHook("onRoute", (route) => {
    if (route.config?.rpc) bound.add(route.config.rpc);
  });
  return async (scope) => {
    for (const entry of HTTP_ROUTES) {
      const client = entry.client as Client;
      if (bound.has(`${client}.${entry.rpc}`)) continue;
      const route = routesOf({ ...group, tag: client, cache: group.caches?.[client] });
      route(scope, { rpc: { client, method: entry.rpc as RpcOf<typeof client> } } as RouteSpec<Client, never, object>);
    }
  };
}
