import {
  type AccessClaims,
  type AccessTokenVerifier,
  AppError,
  authorizer,
  checks,
  type Handlers,
  pageOf,
} from "@tdt/kit";
import { hasRole, TREES_ACCESS } from "@tdt/proto/contracts/access";
import type { Tree, TreeInput, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { readAnalytics } from "./analytics.js";
import { authoringHandlers } from "./authoring-handlers.js";
import type { WithinOrganization } from "./organization-scope.js";
import { searchQueryProblems } from "./search-query.js";
import { asVersionTranslations } from "./translations.js";
import { assertLinksResolve, inputOf } from "./tree-input.js";
import type { Audience, TreeStore } from "./tree-store.js";

const notFound = () => new AppError("not_found");

function audienceOf(claims: AccessClaims): Audience {
  return hasRole(claims, "engineer") ? "authors" : "technicians";
}

/** A tree named in the path must be named by a UUID (as the gateway's schema says). */
function checkTreeId(id: string): void {
  checks().uuid(["path", "id"], id).done();
}

/** A new tree, as a create or an import sends it: every rule, and its links resolve (within its organization). */
async function createChecked(
  store: TreeStore,
  sent: TreeInput | undefined,
  author: string,
  how: "created" | "imported",
): Promise<Tree> {
  const tree = inputOf(sent);
  await assertLinksResolve((ids) => store.missingTrees(ids), tree);
  return store.create(tree, author, how);
}

/**
 * Thin gRPC handlers: who may do what (SPEC §5.1), then the stores of the caller's organization
 * (`within`: one transaction the database walls off to it).
 */
export function treesHandlers(
  within: WithinOrganization,
  verifier: AccessTokenVerifier,
): Handlers<typeof TreesServiceService> {
  const authorize = authorizer(verifier, TREES_ACCESS);
  /** The stores of the caller's organization. */
  const as = <T>(claims: AccessClaims, work: (store: TreeStore) => Promise<T>) =>
    within(claims.org, ({ store }) => work(store));

  return {
    ...authoringHandlers(within, verifier, createChecked),

    async listTrees(request, ctx) {
      const claims = await authorize("listTrees", ctx);
      checks().contract("tdt.trees.v1.ListTreesRequest", request, ["query"]).done();
      // Archived trees are the authors' to see (and restore).
      if (request.archived && audienceOf(claims) !== "authors") throw new AppError("forbidden");
      return as(claims, (store) => store.list(audienceOf(claims), request, pageOf(request)));
    },

    async listCategories(_request, ctx) {
      const claims = await authorize("listCategories", ctx);
      return { categories: await as(claims, (store) => store.categories(audienceOf(claims))) };
    },

    async searchTrees(request, ctx) {
      const claims = await authorize("searchTrees", ctx);
      const check = checks().page({ limit: request.limit });
      check.problems.push(...searchQueryProblems(request.q));
      check.done();
      return {
        trees: await as(claims, (store) =>
          store.search(audienceOf(claims), request.q, pageOf({ limit: request.limit }, 20).limit),
        ),
      };
    },

    async getTree(request, ctx) {
      const claims = await authorize("getTree", ctx);
      checks()
        .uuid(["path", "id"], request.id)
        .range(["query", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const tree = await as(claims, (store) => store.get(audienceOf(claims), request.id, request.version));
      if (!tree) throw notFound();
      return { tree };
    },

    async listTreeVersions(request, ctx) {
      const claims = await authorize("listTreeVersions", ctx);
      checkTreeId(request.id);
      const versions = await as(claims, (store) => store.versions(request.id));
      if (!versions) throw notFound();
      return { versions };
    },

    async createTree(request, ctx) {
      const claims = await authorize("createTree", ctx);
      return { tree: await as(claims, (store) => createChecked(store, request.tree, claims.sub, "created")) };
    },

    async updateTree(request, ctx) {
      const claims = await authorize("updateTree", ctx);
      checks()
        .uuid(["path", "id"], request.id)
        .range(["body", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const tree = inputOf(request.tree);
      return {
        tree: await as(claims, async (store) => {
          await assertLinksResolve((ids) => store.missingTrees(ids), tree);
          return store.replace(request.id, request.version, tree, claims.sub);
        }),
      };
    },

    async deleteTree(request, ctx) {
      const claims = await authorize("deleteTree", ctx);
      checkTreeId(request.id);
      if (!(await as(claims, (store) => store.softDelete(request.id, claims.sub)))) throw notFound();
      return {};
    },

    async getPublishedTree(request, ctx) {
      const claims = await authorize("getPublishedTree", ctx);
      checks().uuid(["body", "tree_id"], request.id).done();
      return as(claims, async (store) => {
        const tree = await store.get("technicians", request.id);
        if (!tree) throw notFound();
        return { tree, translations: asVersionTranslations(await store.carriedTranslations(tree.id, tree.version)) };
      });
    },

    async listTreeTranslations(request, ctx) {
      const claims = await authorize("listTreeTranslations", ctx);
      checkTreeId(request.id);
      return { translations: await within(claims.org, ({ translations }) => translations.list(request.id)) };
    },

    async getTreeTranslation(request, ctx) {
      const claims = await authorize("getTreeTranslation", ctx);
      checkTreeId(request.id);
      return {
        translation: await within(claims.org, ({ translations }) => translations.get(request.id, request.locale)),
      };
    },

    async setTreeTranslation(request, ctx) {
      const claims = await authorize("setTreeTranslation", ctx);
      checkTreeId(request.id);
      checks().contract("tdt.trees.v1.SetTreeTranslationRequest", request).done();
      return {
        translation: await within(claims.org, ({ translations }) =>
          translations.set(request.id, request.locale, request.texts, claims.sub),
        ),
      };
    },

    async getTreeAnalytics(request, ctx) {
      const claims = await authorize("getTreeAnalytics", ctx);
      checks()
        .uuid(["path", "id"], request.tree_id)
        .range(["query", "version"], request.version, 1, 2 ** 31 - 1)
        .done();
      const from = request.from ? new Date(request.from) : undefined;
      const to = request.to ? new Date(request.to) : undefined;
      if (from && to && from > to) {
        throw AppError.invalid([{ loc: ["query", "to"], msg: "Must not be before from", type: "range" }]);
      }
      return within(claims.org, async ({ store, sql }) => {
        // A deleted or unknown tree has no analytics to show.
        if (!(await store.versions(request.tree_id))) throw notFound();
        return readAnalytics(sql, { treeId: request.tree_id, version: request.version, from, to });
      });
    },
  };
}
