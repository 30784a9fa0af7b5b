/**
 * The RPCs that change nothing, declared once from the generated definitions (a renamed RPC
 * stops the build): only these are retried on UNAVAILABLE (see docs/decisions.md, "Which calls
 * are retried"). A write is never on this list, even one that looks safe to repeat: a refresh
 * or a step whose answer was lost has already happened.
 */
import { HealthService } from "@tdt/proto/grpc/health/v1/health";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";

export const READ_ONLY_CALLS: ReadonlySet<string> = new Set([
  HealthService.check.path,
  AuthServiceService.getMe.path,
  AuthServiceService.getJwks.path,
  AuthServiceService.getSessionPolicy.path,
  AuthServiceService.listLoginSessions.path,
  AuthServiceService.listUsers.path,
  TreesServiceService.listTrees.path,
  TreesServiceService.listCategories.path,
  TreesServiceService.searchTrees.path,
  TreesServiceService.getTree.path,
  TreesServiceService.listTreeVersions.path,
  TreesServiceService.getPublishedTree.path,
  MediaServiceService.getMedia.path,
  SessionsServiceService.listSessions.path,
  SessionsServiceService.getSession.path,
  SessionsServiceService.exportSession.path,
]);
