import { type AccessClaims, type AccessTokenVerifier, AppError, authorizer, checks, type Handlers } from "@tdt/kit";
import { hasRole, TREES_ACCESS } from "@tdt/proto/contracts/access";
import { currentOutcomeSpelling } from "@tdt/proto/contracts/outcomes";
import type { GetTreeAnalyticsResponse, TreeInput, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import type { AnalyticsQuery } from "./analytics.js";
import { searchQueryProblems } from "./search-query.js";
import type { Audience, TreeStore } from "./tree-store.js";
import { assertValidTree } from "./validation.js";

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

function inputOf(sent: TreeInput | undefined): TreeInput {
  if (!sent) throw AppError.invalid([{ loc: ["body"], msg: "Field required", type: "missing" }]);
  // An old outcome spelling (`escalate`) is read as today's: only today's are validated and stored.
  const tree = {
    ...sent,
    nodes: sent.nodes.map((node) =>
      node.outcome === undefined ? node : { ...node, outcome: currentOutcomeSpelling(node.outcome) },
    ),
  };
  assertValidTree(tree);
  return tree;
}

/** Every link must name a live tree: a 422 at each `tree_id` that does not. */
async function assertLinksResolve(store: TreeStore, tree: TreeInput): Promise<void> {
  const links = tree.nodes.flatMap((node, i) =>
    node.type === "link" && node.tree_id ? [{ i, id: node.tree_id }] : [],
  );
  const missing = new Set(await store.missingTrees(links.map((link) => link.id)));
  const problems = links
    .filter((link) => missing.has(link.id))
    .map((link) => ({ loc: ["body", "nodes", link.i, "tree_id"], msg: "No tree has this id", type: "unknown_tree" }));
  if (problems.length > 0) throw AppError.invalid(problems);
}

/** Thin gRPC handlers: who may do what (SPEC §5.1), then the store. */
export function treesHandlers(
  store: TreeStore,
  verifier: AccessTokenVerifier,
  analytics: (query: AnalyticsQuery) => Promise<GetTreeAnalyticsResponse>,
): Handlers<typeof TreesServiceService> {
  const authorize = authorizer(verifier, TREES_ACCESS);

  return {
    async listTrees(request, ctx) {
      const claims = await authorize("listTrees", ctx);
      checks().contract("tdt.trees.v1.ListTreesRequest", request, ["query"]).done();
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
      const tree = inputOf(request.tree);
      await assertLinksResolve(store, tree);
      return { tree: await store.create(tree, claims.sub) };
    },

    async updateTree(request, ctx) {
      const claims = await authorize("updateTree", ctx);
      checks()
        .uuid(["path", "id"], request.id)
        .range(["body", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const tree = inputOf(request.tree);
      await assertLinksResolve(store, tree);
      return { tree: await store.replace(request.id, request.version, tree, claims.sub) };
    },

    async deleteTree(request, ctx) {
      await authorize("deleteTree", ctx);
      checkTreeId(request.id);
      if (!(await store.softDelete(request.id))) throw notFound();
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
