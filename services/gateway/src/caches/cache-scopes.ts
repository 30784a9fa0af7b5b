import type { CacheScope } from "@tdt/proto/tdt/contract";
import type { FastifyRequest } from "fastify";
import { callerOf } from "../edge/authenticate.js";
import { tagsOfUser } from "./account-changes.js";
import { tagsOfTree, treeListsOf } from "./tree-changes.js";

type WithId = FastifyRequest<{ Params: { id: string } }>;

/**
 * What each `tdt.contract.v1.CacheScope` of the route table means here: how a kept answer is
 * named among its route's (the caller's role is added, as what a role sees differs) and the tags
 * that make it stale, which a change of the same scope drops.
 */
export const CACHE_SCOPES: Record<
  CacheScope,
  { key: (request: FastifyRequest) => string; tags: (request: FastifyRequest) => string[] }
> = {
  // Lists and searches, named by their (validated, defaulted) query: any change of a tree of the
  // caller's organization makes them stale (the key already has the organization: route.ts).
  trees: {
    key: (request) => JSON.stringify(request.query ?? {}),
    tags: (request) => [treeListsOf(callerOf(request).claims.org)],
  },
  // One tree, named by the tree and the query: stale when that tree changes.
  tree: {
    key: (request) => JSON.stringify([(request as WithId).params.id, request.query ?? {}]),
    tags: (request) => tagsOfTree((request as WithId).params.id, callerOf(request).claims.org),
  },
  user: {
    key: (request) => (request as WithId).params.id,
    tags: (request) => tagsOfUser((request as WithId).params.id),
  },
  caller: {
    key: (request) => callerOf(request).claims.sub,
    tags: (request) => tagsOfUser(callerOf(request).claims.sub),
  },
};
