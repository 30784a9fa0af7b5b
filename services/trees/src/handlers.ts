import { type AccessClaims, type AccessTokenVerifier, AppError, authorizer, checks, type Handlers } from "@tdt/kit";
import { hasRole, TREES_ACCESS } from "@tdt/proto/contracts/access";
import type { GetTreeAnalyticsResponse, TreeInput, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import type { AnalyticsQuery } from "./analytics.js";
import { authoringHandlers } from "./authoring-handlers.js";
import type { AuthoringStore } from "./authoring-store.js";
import { searchQueryProblems } from "./search-query.js";
import { assertLinksResolve, inputOf } from "./tree-input.js";
import type { Audience, TreeStore } from "./tree-store.js";

const notFound = () => new AppError("not_found");

function audienceOf(claims: AccessClaims): Audience {
  return hasRole(claims, "engineer") ? "authors" : "technicians";
}

function page(request: { skip: number; limit: number }, defaultLimit = 50) {
  return { skip: Math.max(0, request.skip || 0), limit: Math.min(Math.max(request.limit || defaultLimit, 1), 100) };
}

/** A tree named in the path must be named by a UUID (as the gateway's schema says). */
function checkTreeId(id: string): void {
  checks().uuid(["path", "id"], id).done();
}

/** Thin gRPC handlers: who may do what (SPEC §5.1), then the store. */
export function treesHandlers(
  store: TreeStore,
  authoring: AuthoringStore,
  verifier: AccessTokenVerifier,
  analytics: (query: AnalyticsQuery) => Promise<GetTreeAnalyticsResponse>,
): Handlers<typeof TreesServiceService> {
  const authorize = authorizer(verifier, TREES_ACCESS);
  const missingTrees = (ids: string[]) => store.missingTrees(ids);
  /** A new tree, as a create or an import sends it: every rule, and its links resolve. */
  const createChecked = async (sent: TreeInput | undefined, author: string, how: "created" | "imported") => {
    const tree = inputOf(sent);
    await assertLinksResolve(missingTrees, tree);
    return store.create(tree, author, how);
  };

  return {
    ...authoringHandlers(authoring, verifier, createChecked),

    async listTrees(request, ctx) {
      const claims = await authorize("listTrees", ctx);
      checks().contract("tdt.trees.v1.ListTreesRequest", request, ["query"]).done();
      // Archived trees are the authors' to see (and restore).
      if (request.archived && audienceOf(claims) !== "authors") throw new AppError("forbidden");
      return store.list(audienceOf(claims), request, page(request));
    },

    async listCategories(_request, ctx) {
      const claims = await authorize("listCategories", ctx);
      return { categories: await store.categories(audienceOf(claims)) };
    },

    async searchTrees(request, ctx) {
      const claims = await authorize("searchTrees", ctx);
      const check = checks().page({ limit: request.limit });
      check.problems.push(...searchQueryProblems(request.q));
      check.done();
      return {
        trees: await store.search(audienceOf(claims), request.q, page({ skip: 0, limit: request.limit }, 20).limit),
      };
    },

    async getTree(request, ctx) {
      const claims = await authorize("getTree", ctx);
      checks()
        .uuid(["path", "id"], request.id)
        .range(["query", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const tree = await store.get(audienceOf(claims), request.id, request.version);
      if (!tree) throw notFound();
      return { tree };
    },

    async listTreeVersions(request, ctx) {
      await authorize("listTreeVersions", ctx);
      checkTreeId(request.id);
      const versions = await store.versions(request.id);
      if (!versions) throw notFound();
      return { versions };
    },

    async createTree(request, ctx) {
      const claims = await authorize("createTree", ctx);
      return { tree: await createChecked(request.tree, claims.sub, "created") };
    },

    async updateTree(request, ctx) {
      const claims = await authorize("updateTree", ctx);
      checks()
        .uuid(["path", "id"], request.id)
        .range(["body", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const tree = inputOf(request.tree);
      await assertLinksResolve(missingTrees, tree);
      return { tree: await store.replace(request.id, request.version, tree, claims.sub) };
    },

    async deleteTree(request, ctx) {
      const claims = await authorize("deleteTree", ctx);
      checkTreeId(request.id);
      if (!(await store.softDelete(request.id, claims.sub))) throw notFound();
      return {};
    },

    async getPublishedTree(request, ctx) {
      await authorize("getPublishedTree", ctx);
      checks().uuid(["body", "tree_id"], request.id).done();
      const tree = await store.get("technicians", request.id);
      if (!tree) throw notFound();
      return { tree };
    },

    async getTreeAnalytics(request, ctx) {
      await authorize("getTreeAnalytics", ctx);
      checks()
        .uuid(["path", "id"], request.tree_id)
        .range(["query", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const from = request.from ? new Date(request.from) : undefined;
      const to = request.to ? new Date(request.to) : undefined;
      if (from && to && from > to) {
        throw AppError.invalid([{ loc: ["query", "to"], msg: "Must not be before from", type: "range" }]);
      }
      // A deleted or unknown tree has no analytics to show.
      if (!(await store.versions(request.tree_id))) throw notFound();
      return analytics({ treeId: request.tree_id, version: request.version, from, to });
    },
  };
}
