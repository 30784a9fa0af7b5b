import type { AccessTokenVerifier } from "@tdt/kit";
import { FIELD_RULES } from "@tdt/proto/tdt/contract";
import type { GetTreeRequest, ListTreesRequest, SearchTreesRequest } from "@tdt/proto/tdt/trees/v1/trees";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { GatewayCaches } from "../app.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { bounds, INT32_MAX, PAGE_PARAMETERS, ref, uuid } from "../schemas/common.js";
import { TREE_STATUSES, TreeInputSchema, TreeUpdateSchema } from "../schemas/trees.js";
import { tagsOfTree } from "../tree-changes.js";
import { acceptTreesReadBack, type TreeBody, treeDocumentOf, treeInputOf } from "../tree-documents.js";

export interface TreesRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  /** `trees` keeps the answers of the reads below until the tree they show changes (response-cache.ts). */
  caches?: GatewayCaches | undefined;
}

/**
 * The trees service's bounds, which it enforces for callers that skip the gateway: both sides
 * read them from the contract (trees.proto's field options).
 * The word count of a search (16) is judged by the service alone.
 */
const SEARCH_QUERY_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.SearchTreesRequest"].q.string.max_len;
const SEARCH_LIMIT_MAX = FIELD_RULES["tdt.trees.v1.SearchTreesRequest"].limit.int32.lte;
const CATEGORY_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.ListTreesRequest"].category.string.max_len;
const TAG_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.ListTreesRequest"].tag.string.max_len;

const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;
const SUMMARIES = { type: "array", items: ref("TreeSummary") } as const;

type WithId<T = unknown> = FastifyRequest<{ Params: { id: string } } & T>;

/** A read of lists or search: its answer is named by its (validated, defaulted) query, and any tree change makes it stale. */
const BY_QUERY = { key: (request: FastifyRequest) => JSON.stringify(request.query ?? {}), tags: () => ["trees"] };
/** A read of one tree: named by the tree and the query, stale when that tree changes. */
const BY_TREE = {
  key: (request: WithId) => JSON.stringify([request.params.id, request.query ?? {}]),
  tags: (request: WithId) => tagsOfTree(request.params.id),
};

/** SPEC §5.1 over the TreesService: each route calls the RPC of the same purpose. */
export async function treesRoutes(
  app: FastifyInstance,
  { downstream, verifier, caches }: TreesRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "trees", downstream, verifier, cache: caches?.trees });

  route(app, {
    method: "GET",
    url: "",
    summary: "List trees, newest first",
    description: "Technicians see published trees only; the `status` filter is for engineers and admins.",
    rpc: { client: "trees", method: "listTrees" },
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        category: { type: "string", maxLength: CATEGORY_MAX_LENGTH, description: "Only trees of this category" },
        tag: { type: "string", maxLength: TAG_MAX_LENGTH, description: "Only trees with this tag" },
        status: { type: "string", enum: TREE_STATUSES },
        ...PAGE_PARAMETERS,
      },
    },
    request: (request: FastifyRequest<{ Querystring: ListTreesRequest }>) => request.query,
    response: { description: "One page of summaries; the total is in `X-Total-Count`", ...SUMMARIES },
    total: "matching trees",
    send: (answer) => answer.trees,
    cache: BY_QUERY,
  });

  route(app, {
    method: "GET",
    url: "/categories",
    summary: "The categories in use, sorted",
    rpc: { client: "trees", method: "listCategories" },
    request: () => ({}),
    response: {
      description: "Category names of the trees the caller can see",
      type: "array",
      items: { type: "string" },
      examples: [["Email", "Network", "Printers"]],
    },
    send: (answer) => answer.categories,
    cache: BY_QUERY,
  });

  route(app, {
    method: "GET",
    url: "/search",
    summary: "Search trees, best match first",
    description:
      "Full text over titles, descriptions, tags, categories and node text; the last word matches as a prefix.",
    rpc: { client: "trees", method: "searchTrees" },
    querystring: {
      type: "object",
      required: ["q"],
      additionalProperties: false,
      properties: {
        q: {
          type: "string",
          minLength: 1,
          maxLength: SEARCH_QUERY_MAX_LENGTH,
          description: `At most ${SEARCH_QUERY_MAX_LENGTH} characters and 16 words`,
        },
        limit: { type: "integer", minimum: 1, maximum: SEARCH_LIMIT_MAX, default: 20 },
      },
    },
    request: (request: FastifyRequest<{ Querystring: SearchTreesRequest }>) => request.query,
    response: { description: "Matching summaries, best first", ...SUMMARIES },
    send: (answer) => answer.trees,
    cache: BY_QUERY,
  });

  route(app, {
    method: "GET",
    url: "/:id",
    summary: "A tree, at its latest version or at `version`",
    description: "Technicians see the latest published version only.",
    rpc: { client: "trees", method: "getTree" },
    params: ID_PARAMS,
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: { version: { type: "integer", minimum: 1, maximum: INT32_MAX } },
    },
    request: ({ params, query }: WithId<{ Querystring: Omit<GetTreeRequest, "id"> }>) => ({ id: params.id, ...query }),
    response: { description: "The tree", ...ref("Tree") },
    send: (answer) => treeDocumentOf(present(answer.tree, "tree")),
    errors: ["not_found"],
    cache: BY_TREE,
  });

  route(app, {
    method: "GET",
    url: "/:id/versions",
    summary: "A tree's version history, newest first (engineer, admin)",
    rpc: { client: "trees", method: "listTreeVersions" },
    params: ID_PARAMS,
    request: ({ params }: WithId) => ({ id: params.id }),
    response: { description: "Every version", type: "array", items: ref("TreeVersion") },
    send: (answer) => answer.versions,
    errors: ["not_found"],
  });

  route(app, {
    method: "GET",
    url: "/:id/analytics",
    summary: "What technicians did with a tree: outcomes, time, choices per node, common paths (engineer, admin)",
    description:
      "From the session events, within about a second of each step. Filter by the version the sessions ran on " +
      "and by when they started (`from` inclusive, `to` exclusive).",
    rpc: { client: "trees", method: "getTreeAnalytics" },
    params: ID_PARAMS,
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        version: { type: "integer", ...bounds("tdt.trees.v1.GetTreeAnalyticsRequest", "version"), maximum: INT32_MAX },
        from: { type: "string", format: "date-time" },
        to: { type: "string", format: "date-time" },
      },
    },
    request: ({ params, query }: WithId<{ Querystring: { version?: number; from?: string; to?: string } }>) => ({
      tree_id: params.id,
      version: query.version,
      from: query.from,
      to: query.to,
    }),
    response: { description: "The tree's analytics", ...ref("TreeAnalytics") },
    errors: ["not_found"],
  });

  // An author may send back a tree as read: each write's scope drops what the service sets.
  await app.register(async (scope) => {
    acceptTreesReadBack(scope, TreeInputSchema);
    route(scope, {
      method: "POST",
      url: "",
      summary: "Create a tree at version 1 (engineer, admin)",
      rpc: { client: "trees", method: "createTree" },
      body: ref("TreeInput"),
      request: ({ body }: FastifyRequest<{ Body: TreeBody }>) => ({ tree: treeInputOf(body) }),
      status: 201,
      response: { description: "The new tree", ...ref("Tree") },
      send: (answer) => treeDocumentOf(present(answer.tree, "tree")),
      invalidates: () => ["trees"],
    });
  });

  await app.register(async (scope) => {
    acceptTreesReadBack(scope, TreeUpdateSchema);
    route(scope, {
      method: "PUT",
      url: "/:id",
      summary: "Replace a tree with a new immutable version (engineer, admin)",
      description:
        "The body names the `version` it was edited from; if another edit came first the answer is " +
        "409 `version_conflict` and nothing is written.",
      rpc: { client: "trees", method: "updateTree" },
      params: ID_PARAMS,
      body: ref("TreeUpdate"),
      request: ({ params, body }: WithId<{ Body: TreeBody & { version: number } }>) => ({
        id: params.id,
        version: body.version,
        tree: treeInputOf(body),
      }),
      response: { description: "The tree at its new version", ...ref("Tree") },
      send: (answer) => treeDocumentOf(present(answer.tree, "tree")),
      errors: ["not_found", "version_conflict"],
      invalidates: ({ params }) => tagsOfTree(params.id),
    });
  });

  route(app, {
    method: "DELETE",
    url: "/:id",
    summary: "Delete a tree (admin)",
    description: "Gone from lists and search; sessions that use it keep working.",
    rpc: { client: "trees", method: "deleteTree" },
    params: ID_PARAMS,
    request: ({ params }: WithId) => ({ id: params.id }),
    status: 204,
    errors: ["not_found"],
    invalidates: ({ params }) => tagsOfTree(params.id),
  });
}
