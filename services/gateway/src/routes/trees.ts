import type { AccessTokenVerifier } from "@tdt/kit";
import { FIELD_RULES } from "@tdt/proto/tdt/contract";
import type { GetTreeRequest, ListTreesRequest, SearchTreesRequest } from "@tdt/proto/tdt/trees/v1/trees";
import type { FastifyInstance } from "fastify";
import { callOptionsOf, requireRole, requireUser } from "../authenticate.js";
import { type Downstream, present } from "../downstream.js";
import { BEARER, INT32_MAX, NO_CONTENT, PAGE_PARAMETERS, ref, totalCountHeader, uuid } from "../schemas/common.js";
import { BODY_ERRORS, DOWNSTREAM_ERRORS, errorResponses } from "../schemas/errors.js";
import { TREE_STATUSES } from "../schemas/trees.js";
import { type TreeBody, treeDocumentOf, treeInputOf } from "../tree-documents.js";

export interface TreesRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
}

const TAGS = ["trees"];

/**
 * Copies of the trees service's own bounds (SEARCH_LIMITS, TREE_LIMITS), which it enforces for
 * callers that skip the gateway: both read them from the contract (trees.proto's field options).
 * The word count of a search (16) is judged by the service alone.
 */
const SEARCH_QUERY_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.SearchTreesRequest"].q.string.max_len;
const SEARCH_LIMIT_MAX = FIELD_RULES["tdt.trees.v1.SearchTreesRequest"].limit.int32.lte;
const CATEGORY_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.ListTreesRequest"].category.string.max_len;
const TAG_MAX_LENGTH = FIELD_RULES["tdt.trees.v1.ListTreesRequest"].tag.string.max_len;

const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;
const SUMMARIES = { type: "array", items: ref("TreeSummary") } as const;

/** SPEC §5.1 over the TreesService: each route calls the RPC of the same purpose. */
export async function treesRoutes(app: FastifyInstance, { downstream, verifier }: TreesRoutesOptions): Promise<void> {
  const { trees } = downstream;
  const user = requireUser(verifier);
  // The trees service checks roles too; checking here spares it calls that cannot succeed.
  const author = [user, requireRole("engineer")];
  const admin = [user, requireRole("admin")];

  app.get<{ Querystring: ListTreesRequest }>(
    "",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "List trees, newest first",
        description: "Technicians see published trees only; the `status` filter is for engineers and admins.",
        security: BEARER,
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
        response: {
          200: {
            description: "One page of summaries; the total is in `X-Total-Count`",
            headers: totalCountHeader("matching trees"),
            ...SUMMARIES,
          },
          ...errorResponses(401, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { trees: summaries, total } = await trees.listTrees(request.query, callOptionsOf(request));
      return reply.header("x-total-count", String(total)).send(summaries);
    },
  );

  app.get(
    "/categories",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "The categories in use, sorted",
        security: BEARER,
        response: {
          200: {
            description: "Category names of the trees the caller can see",
            type: "array",
            items: { type: "string" },
          },
          ...errorResponses(401, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => (await trees.listCategories({}, callOptionsOf(request))).categories,
  );

  app.get<{ Querystring: SearchTreesRequest }>(
    "/search",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "Search trees, best match first",
        description:
          "Full text over titles, descriptions, tags, categories and node text; the last word matches as a prefix.",
        security: BEARER,
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
        response: {
          200: { description: "Matching summaries, best first", ...SUMMARIES },
          ...errorResponses(401, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => (await trees.searchTrees(request.query, callOptionsOf(request))).trees,
  );

  app.get<{ Params: { id: string }; Querystring: Omit<GetTreeRequest, "id"> }>(
    "/:id",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "A tree, at its latest version or at `version`",
        description: "Technicians see the latest published version only.",
        security: BEARER,
        params: ID_PARAMS,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { version: { type: "integer", minimum: 1, maximum: INT32_MAX } },
        },
        response: {
          200: { description: "The tree", ...ref("Tree") },
          ...errorResponses(401, 404, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => {
      const { tree } = await trees.getTree({ id: request.params.id, ...request.query }, callOptionsOf(request));
      return treeDocumentOf(present(tree, "tree"));
    },
  );

  app.get<{ Params: { id: string } }>(
    "/:id/versions",
    {
      onRequest: author,
      schema: {
        tags: TAGS,
        summary: "A tree's version history, newest first (engineer, admin)",
        security: BEARER,
        params: ID_PARAMS,
        response: {
          200: { description: "Every version", type: "array", items: ref("TreeVersion") },
          ...errorResponses(401, 403, 404, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => (await trees.listTreeVersions({ id: request.params.id }, callOptionsOf(request))).versions,
  );

  app.post<{ Body: TreeBody }>(
    "",
    {
      onRequest: author,
      schema: {
        tags: TAGS,
        summary: "Create a tree at version 1 (engineer, admin)",
        security: BEARER,
        body: ref("TreeInput"),
        response: {
          201: { description: "The new tree", ...ref("Tree") },
          ...errorResponses(...BODY_ERRORS, 401, 403, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { tree } = await trees.createTree({ tree: treeInputOf(request.body) }, callOptionsOf(request));
      return reply.code(201).send(treeDocumentOf(present(tree, "tree")));
    },
  );

  app.put<{ Params: { id: string }; Body: TreeBody & { version: number } }>(
    "/:id",
    {
      onRequest: author,
      schema: {
        tags: TAGS,
        summary: "Replace a tree with a new immutable version (engineer, admin)",
        description:
          "The body names the `version` it was edited from; if another edit came first the answer is " +
          "409 `version_conflict` and nothing is written.",
        security: BEARER,
        params: ID_PARAMS,
        body: ref("TreeUpdate"),
        response: {
          200: { description: "The tree at its new version", ...ref("Tree") },
          ...errorResponses(...BODY_ERRORS, 401, 403, 404, 409, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => {
      const replacement = { id: request.params.id, version: request.body.version, tree: treeInputOf(request.body) };
      const { tree } = await trees.updateTree(replacement, callOptionsOf(request));
      return treeDocumentOf(present(tree, "tree"));
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/:id",
    {
      onRequest: admin,
      schema: {
        tags: TAGS,
        summary: "Delete a tree (admin)",
        description: "Gone from lists and search; sessions that use it keep working.",
        security: BEARER,
        params: ID_PARAMS,
        response: { ...NO_CONTENT, ...errorResponses(401, 403, 404, 422, ...DOWNSTREAM_ERRORS) },
      },
    },
    async (request, reply) => {
      await trees.deleteTree({ id: request.params.id }, callOptionsOf(request));
      return reply.code(204).send();
    },
  );
}
