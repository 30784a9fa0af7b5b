import {
  type AccessClaims,
  type AccessTokenVerifier,
  AppError,
  authorizer,
  checks,
  type Handlers,
  type Problem,
} from "@tdt/kit";
import { TREES_ACCESS } from "@tdt/proto/contracts/access";
import type { Tree, TreeInput, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { type AuthoringStore, type ContentRef, PORTABLE_FORMAT, PORTABLE_FORMAT_VERSION } from "./authoring-store.js";
import type { WithinOrganization } from "./organization-scope.js";
import { inputOf } from "./tree-input.js";
import type { TreeStore } from "./tree-store.js";
import { validateTree } from "./validation.js";

type AuthoringMethods =
  | "getTreeDraft"
  | "saveTreeDraft"
  | "discardTreeDraft"
  | "publishTreeDraft"
  | "rollbackTree"
  | "getTreeSettings"
  | "setTreeSettings"
  | "reviewTreeDraft"
  | "archiveTree"
  | "restoreTree"
  | "getTreeHistory"
  | "diffTree"
  | "exportTree"
  | "importTree";

const INT32_MAX = 2 ** 31 - 1;

/**
 * What a draft may not be, even unfinished: past a limit (lengths, counts), a value off a closed
 * list, or a malformed link. The rules that need a finished tree (every node reachable, each path
 * ending at a solution, fields a type needs) are checked when it is published.
 */
const DRAFT_REFUSES = new Set([
  "string_too_long",
  "too_many_nodes",
  "too_many_tags",
  "enum",
  "uuid",
  "unexpected_field",
]);

function draftProblems(tree: TreeInput): Problem[] {
  return validateTree(tree).filter((problem) => DRAFT_REFUSES.has(problem.type));
}

/** `from`/`to` of a diff: a version number or `draft`; a 422 at `loc` for anything else. */
function contentRef(value: string | undefined, loc: Problem["loc"], problems: Problem[]): ContentRef | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "draft") return "draft";
  const version = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : Number.NaN;
  if (version <= INT32_MAX) return { version };
  problems.push({ loc, msg: "A version number or `draft`", type: "version_or_draft" });
  return undefined;
}

/** The authoring RPCs (docs/decisions/drafts.md): who may call each is the contract's (engineers and admins). */
export function authoringHandlers(
  within: WithinOrganization,
  verifier: AccessTokenVerifier,
  create: (store: TreeStore, tree: TreeInput | undefined, author: string, how: "imported") => Promise<Tree>,
): Pick<Handlers<typeof TreesServiceService>, AuthoringMethods> {
  const authorize = authorizer(verifier, TREES_ACCESS);
  const treeId = (id: string) => checks().uuid(["path", "id"], id);
  /** The authoring store of the caller's organization. */
  const as = <T>(claims: AccessClaims, work: (store: AuthoringStore) => Promise<T>) =>
    within(claims.org, ({ authoring }) => work(authoring));

  return {
    async getTreeDraft(request, ctx) {
      const claims = await authorize("getTreeDraft", ctx);
      treeId(request.id).done();
      return { draft: await as(claims, (store) => store.draft(request.id)) };
    },

    async saveTreeDraft(request, ctx) {
      const claims = await authorize("saveTreeDraft", ctx);
      treeId(request.id).contract("tdt.trees.v1.SaveTreeDraftRequest", request).done();
      const tree = inputOf(request.tree, draftProblems);
      return {
        draft: await as(claims, (store) => store.saveDraft(request.id, request.draft_revision, tree, claims.sub)),
      };
    },

    async discardTreeDraft(request, ctx) {
      const claims = await authorize("discardTreeDraft", ctx);
      treeId(request.id).done();
      await as(claims, (store) => store.discardDraft(request.id, claims.sub));
      return {};
    },

    async publishTreeDraft(request, ctx) {
      const claims = await authorize("publishTreeDraft", ctx);
      treeId(request.id).contract("tdt.trees.v1.PublishTreeDraftRequest", request).done();
      return {
        tree: await as(claims, (store) =>
          store.publish(request.id, request.draft_revision, request.change_note, claims.sub),
        ),
      };
    },

    async rollbackTree(request, ctx) {
      const claims = await authorize("rollbackTree", ctx);
      treeId(request.id).contract("tdt.trees.v1.RollbackTreeRequest", request).done();
      return {
        tree: await as(claims, (store) => store.rollback(request.id, request.version, request.change_note, claims.sub)),
      };
    },

    async getTreeSettings(request, ctx) {
      const claims = await authorize("getTreeSettings", ctx);
      treeId(request.id).done();
      return { settings: await as(claims, (store) => store.settings(request.id)) };
    },

    async setTreeSettings(request, ctx) {
      const claims = await authorize("setTreeSettings", ctx);
      treeId(request.id).done();
      return { settings: await as(claims, (store) => store.setSettings(request.id, request, claims.sub)) };
    },

    async reviewTreeDraft(request, ctx) {
      const claims = await authorize("reviewTreeDraft", ctx);
      const check = treeId(request.id).contract("tdt.trees.v1.ReviewTreeDraftRequest", request);
      if (!request.decision) check.problems.push({ loc: ["body", "decision"], msg: "Field required", type: "missing" });
      check.done();
      return {
        review: await as(claims, (store) =>
          store.review(request.id, request.draft_revision, request.decision, request.comment, claims.sub),
        ),
      };
    },

    async archiveTree(request, ctx) {
      const claims = await authorize("archiveTree", ctx);
      treeId(request.id).done();
      await as(claims, (store) => store.setArchived(request.id, true, claims.sub));
      return {};
    },

    async restoreTree(request, ctx) {
      const claims = await authorize("restoreTree", ctx);
      treeId(request.id).done();
      await as(claims, (store) => store.setArchived(request.id, false, claims.sub));
      return {};
    },

    async getTreeHistory(request, ctx) {
      const claims = await authorize("getTreeHistory", ctx);
      treeId(request.id).done();
      return {
        entries: await as(claims, async (store) => {
          if (!(await store.exists(request.id))) throw new AppError("not_found");
          return store.history(request.id);
        }),
      };
    },

    async diffTree(request, ctx) {
      const claims = await authorize("diffTree", ctx);
      const check = treeId(request.id).contract("tdt.trees.v1.DiffTreeRequest", request, ["query"]);
      const from = contentRef(request.from, ["query", "from"], check.problems);
      const to = contentRef(request.to, ["query", "to"], check.problems);
      check.done();
      return { diff: await as(claims, (store) => store.diff(request.id, from, to)) };
    },

    async exportTree(request, ctx) {
      const claims = await authorize("exportTree", ctx);
      treeId(request.id).contract("tdt.trees.v1.ExportTreeRequest", request, ["query"]).done();
      return { tree: await as(claims, (store) => store.exportTree(request.id, request.version)) };
    },

    async importTree(request, ctx) {
      const claims = await authorize("importTree", ctx);
      const sent = request.tree;
      const check = checks();
      if (sent?.format !== PORTABLE_FORMAT) {
        check.problems.push({ loc: ["body", "format"], msg: `Must be "${PORTABLE_FORMAT}"`, type: "format" });
      }
      if (sent?.format_version !== PORTABLE_FORMAT_VERSION) {
        check.problems.push({
          loc: ["body", "format_version"],
          msg: `This service reads format version ${PORTABLE_FORMAT_VERSION}`,
          type: "format_version",
        });
      }
      check.done();
      const { format: _, format_version: __, ...content } = sent as NonNullable<typeof sent>;
      return {
        tree: await within(claims.org, ({ store }) =>
          create(store, { ...content, status: "draft", change_note: "Imported" }, claims.sub, "imported"),
        ),
      };
    },
  };
}
