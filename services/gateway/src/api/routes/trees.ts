import type { AccessTokenVerifier } from "@tdt/kit";
import { FIELD_RULES } from "@tdt/proto/tdt/contract";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { GatewayCaches } from "../../app.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { bounds, INT32_MAX, PAGE_PARAMETERS, ref, uuid } from "../schemas/common.js";
import { sessionCountsBody } from "../schemas/session-counts.js";
import { TREE_STATUSES, TreeInputSchema, TreeUpdateSchema } from "../schemas/trees.js";
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

/** SPEC §5.1 over the TreesService: each route calls the RPC of the same purpose. */
export async function treesRoutes(
  app: FastifyInstance,
  { downstream, verifier, caches }: TreesRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "trees", downstream, verifier, cache: caches?.trees });

  route(app, {
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
    response: { description: "One page of summaries; the total is in `X-Total-Count`", ...SUMMARIES },
  });

  route(app, {
    rpc: { client: "trees", method: "listCategories" },
    response: {
      description: "Category names of the trees the caller can see",
      type: "array",
      items: { type: "string" },
      examples: [["Email", "Network", "Printers"]],
    },
  });

  route(app, {
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
    response: { description: "Matching summaries, best first", ...SUMMARIES },
  });

  route(app, {
    rpc: { client: "trees", method: "getTree" },
    params: ID_PARAMS,
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: { version: { type: "integer", minimum: 1, maximum: INT32_MAX } },
    },
    response: { description: "The tree", ...ref("Tree") },
    send: (answer) => treeDocumentOf(present(answer.tree, "tree")),
  });

  route(app, {
    rpc: { client: "trees", method: "listTreeVersions" },
    params: ID_PARAMS,
    response: { description: "Every version", type: "array", items: ref("TreeVersion") },
  });

  route(app, {
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
    send: (answer) => ({ ...answer, sessions: sessionCountsBody(present(answer.sessions, "sessions")) }),
  });

  // An author may send back a tree as read: each write's scope drops what the service sets.
  await app.register(async (scope) => {
    acceptTreesReadBack(scope, TreeInputSchema);
    route(scope, {
      rpc: { client: "trees", method: "createTree" },
      body: ref("TreeInput"),
      request: ({ body }: FastifyRequest<{ Body: TreeBody }>) => ({ tree: treeInputOf(body) }),
      response: { description: "The new tree", ...ref("Tree") },
      send: (answer) => treeDocumentOf(present(answer.tree, "tree")),
    });
  });

  await app.register(async (scope) => {
    acceptTreesReadBack(scope, TreeUpdateSchema);
    route(scope, {
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
    });
  });

  route(app, {
    rpc: { client: "trees", method: "deleteTree" },
    params: ID_PARAMS,
  });
}
