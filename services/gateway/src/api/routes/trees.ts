import type { AccessTokenVerifier } from "@tdt/kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { GatewayCaches } from "../../app.js";
import { attachment } from "../../edge/attachment.js";
import { documentOf, requestSchema } from "../contract-schemas.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { ref, uuid } from "../schemas/common.js";
import { sessionCountsBody } from "../schemas/session-counts.js";
import { TreeDraftSaveSchema, TreeInputSchema, TreeUpdateSchema } from "../schemas/trees.js";
import { acceptTreesReadBack, type TreeBody, treeInputOf } from "../tree-documents.js";

export interface TreesRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  /** `trees` keeps the answers of the reads below until the tree they show changes (response-cache.ts). */
  caches?: GatewayCaches | undefined;
}

/** The path's tree, where the request names it otherwise (`tree_id`) or the binding builds the request. */
const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;

type WithId<T = unknown> = FastifyRequest<{ Params: { id: string } } & T>;

/** SPEC §5.1 over the TreesService: each route calls the RPC of the same purpose. */
export async function treesRoutes(
  app: FastifyInstance,
  { downstream, verifier, caches }: TreesRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "trees", downstream, verifier, cache: caches?.trees });

  route(app, { rpc: { client: "trees", method: "listTrees" } });

  route(app, { rpc: { client: "trees", method: "listCategories" } });

  route(app, { rpc: { client: "trees", method: "searchTrees" } });

  route(app, { rpc: { client: "trees", method: "getTree" } });

  route(app, { rpc: { client: "trees", method: "listTreeVersions" } });

  route(app, {
    rpc: { client: "trees", method: "getTreeAnalytics" },
    params: ID_PARAMS,
    querystring: requestSchema("tdt.trees.v1.GetTreeAnalyticsRequest", ["tree_id"]),
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
    });
  });

  route(app, { rpc: { client: "trees", method: "deleteTree" } });

  // Authoring (docs/decisions/drafts.md): the routes not bound here are the table's as derived.
  await app.register(async (scope) => {
    acceptTreesReadBack(scope, TreeDraftSaveSchema, ["tdt.trees.v1.Tree", "tdt.trees.v1.TreeDraft"]);
    route(scope, {
      rpc: { client: "trees", method: "saveTreeDraft" },
      body: ref("TreeDraftSave"),
      request: ({ params, body }: WithId<{ Body: Partial<TreeBody> & { draft_revision: number } }>) => ({
        id: params.id,
        draft_revision: body.draft_revision,
        tree: treeInputOf({ title: "", category: "", root_node_id: "", nodes: [], ...body }),
      }),
    });
  });

  route(app, {
    rpc: { client: "trees", method: "exportTree" },
    send: (answer, reply) => {
      const tree = present(answer.tree, "tree");
      reply.header("content-disposition", attachment(`${tree.title}.tree.json`, "tree.json"));
      return documentOf("tdt.trees.v1.PortableTree", tree);
    },
  });

  route(app, {
    rpc: { client: "trees", method: "importTree" },
    body: ref("PortableTreeInput"),
    request: ({ body }: FastifyRequest<{ Body: TreeBody & { format: string; format_version: number } }>) => {
      const { status: _, change_note: __, ...content } = treeInputOf(body);
      return { tree: { format: body.format, format_version: body.format_version, ...content } };
    },
  });
}
