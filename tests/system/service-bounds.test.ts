/**
 * Every service enforces its own input bounds: each over-limit input, sent straight to the
 * service over gRPC (no gateway), is INVALID_ARGUMENT with a problem at its field, and a
 * search query past the limit is refused before the database spends anything on it.
 */
import type { ServiceError } from "@grpc/grpc-js";
import { createServiceClient, GrpcStatus, MAX_NESTING_DEPTH, type Problem, readServiceError } from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { TreeInput, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree, type TreeBody } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A tree document as the gRPC message the gateway would send. */
const treeInput = (overrides: Partial<TreeBody> = {}) => TreeInput.fromPartial(printerTree(overrides) as never);

let running: SystemWithAdmin;
let auth: ReturnType<typeof createServiceClient<typeof AuthServiceService>>;
let trees: ReturnType<typeof createServiceClient<typeof TreesServiceService>>;
let sessions: ReturnType<typeof createServiceClient<typeof SessionsServiceService>>;
let engineer: string;
let treeId: string;
let sessionId: string;

const long = (length: number) => "a".repeat(length);

beforeAll(async () => {
  running = await startSystemWithAdmin();
  const { client, system } = running;
  engineer = await client.engineer(running.admin);
  const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: { ...printerTree(), status: "published" },
  });
  treeId = tree.body.id;
  const session = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
    token: engineer,
    json: { tree_id: treeId },
  });
  sessionId = session.body.id;
  auth = createServiceClient(AuthServiceService, system.addresses.auth, { timeoutMs: 30_000 });
  trees = createServiceClient(TreesServiceService, system.addresses.trees, { timeoutMs: 30_000 });
  sessions = createServiceClient(SessionsServiceService, system.addresses.sessions, { timeoutMs: 30_000 });
});

afterAll(async () => {
  auth?.close();
  trees?.close();
  sessions?.close();
  await running?.stop();
});

/** How a direct call was refused: its status and where its problems are. */
async function refusal(call: Promise<unknown>): Promise<{ code: GrpcStatus; locs: Problem["loc"][]; types: string[] }> {
  const error = await call.then(
    () => undefined,
    (failure: ServiceError) => failure,
  );
  if (!error) throw new Error("expected the call to be refused");
  const read = readServiceError(error);
  return {
    code: read.code,
    locs: (read.problems ?? []).map((problem) => problem.loc),
    types: (read.problems ?? []).map((problem) => problem.type),
  };
}

const as = () => ({ requestId: "bounds", accessToken: engineer });

describe("each service's own bounds, over gRPC without the gateway", () => {
  it("auth: email, passwords, refresh tokens, client details, ids and pages", async () => {
    const client = { user_agent: "test", ip: "127.0.0.1" };
    const cases: Array<[() => Promise<unknown>, Problem["loc"]]> = [
      [() => auth.login({ email: long(321), password: "x", client }, as()), ["body", "email"]],
      [() => auth.login({ email: "a@b.co", password: long(1025), client }, as()), ["body", "password"]],
      [
        () => auth.login({ email: "a@b.co", password: "x", client: { ...client, user_agent: long(513) } }, as()),
        ["header", "user-agent"],
      ],
      [
        () => auth.register({ email: long(321), password: "password-1", full_name: "A", client }, as()),
        ["body", "email"],
      ],
      [
        () => auth.register({ email: "ok@example.com", password: long(129), full_name: "A", client }, as()),
        ["body", "password"],
      ],
      [
        () => auth.register({ email: "ok@example.com", password: "password-1", full_name: long(201), client }, as()),
        ["body", "full_name"],
      ],
      [() => auth.refresh({ refresh_token: long(8193), client }, as()), ["body", "refresh_token"]],
      [() => auth.logout({ all: false, refresh_token: long(8193) }, as()), ["body", "refresh_token"]],
      [() => auth.revokeLoginSession({ sid: "not-a-uuid" }, as()), ["path", "sid"]],
      [
        () => auth.listUsers({ skip: 0, limit: 101 }, { requestId: "bounds", accessToken: running.admin }),
        ["query", "limit"],
      ],
      [
        () => auth.listUsers({ skip: -1, limit: 10 }, { requestId: "bounds", accessToken: running.admin }),
        ["query", "skip"],
      ],
      [
        () => auth.updateUser({ id: "../admin", role: "admin" }, { requestId: "bounds", accessToken: running.admin }),
        ["path", "id"],
      ],
    ];
    for (const [call, loc] of cases) {
      const refused = await refusal(call());
      expect(refused.code, JSON.stringify(loc)).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(refused.locs, JSON.stringify(loc)).toContainEqual(loc);
    }
  });

  it("trees: search length and word count, filters, ids, versions and pages", async () => {
    const cases: Array<[() => Promise<unknown>, Problem["loc"]]> = [
      [() => trees.searchTrees({ q: long(201), limit: 10 }, as()), ["query", "q"]],
      [() => trees.searchTrees({ q: Array(17).fill("printer").join(" "), limit: 10 }, as()), ["query", "q"]],
      [() => trees.searchTrees({ q: "printer", limit: 101 }, as()), ["query", "limit"]],
      [
        () => trees.listTrees({ category: long(101), skip: 0, limit: 10, archived: false }, as()),
        ["query", "category"],
      ],
      [() => trees.listTrees({ tag: long(51), skip: 0, limit: 10, archived: false }, as()), ["query", "tag"]],
      [() => trees.listTrees({ status: "deleted", skip: 0, limit: 10, archived: false }, as()), ["query", "status"]],
      [() => trees.listTrees({ skip: -5, limit: 10, archived: false }, as()), ["query", "skip"]],
      [() => trees.listTrees({ skip: 0, limit: 1000, archived: false }, as()), ["query", "limit"]],
      [() => trees.getTree({ id: "nope" }, as()), ["path", "id"]],
      [() => trees.getTree({ id: treeId, version: -1 }, as()), ["query", "version"]],
      [() => trees.listTreeVersions({ id: "nope" }, as()), ["path", "id"]],
      [() => trees.updateTree({ id: treeId, version: 0, tree: treeInput() }, as()), ["body", "version"]],
      [() => trees.createTree({ tree: treeInput({ title: long(201) }) }, as()), ["body", "title"]],
      [() => trees.createTree({ tree: treeInput({ change_note: long(1001) }) }, as()), ["body", "change_note"]],
      [() => trees.createTree({ tree: treeInput({ tags: [long(51)] }) }, as()), ["body", "tags", 0]],
      [() => trees.getPublishedTree({ id: "nope" }, as()), ["body", "tree_id"]],
      // Authoring, straight to the service: ids, revisions, notes, decisions, diff ends, drafts' limits.
      [() => trees.getTreeDraft({ id: "nope" }, as()), ["path", "id"]],
      [
        () => trees.saveTreeDraft({ id: treeId, draft_revision: -1, tree: treeInput() }, as()),
        ["body", "draft_revision"],
      ],
      [
        () => trees.saveTreeDraft({ id: treeId, draft_revision: 0, tree: treeInput({ title: long(201) }) }, as()),
        ["body", "title"],
      ],
      [() => trees.saveTreeDraft({ id: treeId, draft_revision: 0, tree: undefined }, as()), ["body"]],
      [
        () => trees.publishTreeDraft({ id: treeId, draft_revision: 0, change_note: "" }, as()),
        ["body", "draft_revision"],
      ],
      [
        () => trees.publishTreeDraft({ id: treeId, draft_revision: 1, change_note: long(1001) }, as()),
        ["body", "change_note"],
      ],
      [() => trees.rollbackTree({ id: treeId, version: 0, change_note: "" }, as()), ["body", "version"]],
      [
        () => trees.reviewTreeDraft({ id: treeId, draft_revision: 1, decision: "maybe", comment: "" }, as()),
        ["body", "decision"],
      ],
      [
        () => trees.reviewTreeDraft({ id: treeId, draft_revision: 1, decision: "approve", comment: long(2001) }, as()),
        ["body", "comment"],
      ],
      [() => trees.diffTree({ id: treeId, from: "v1" }, as()), ["query", "from"]],
      [() => trees.diffTree({ id: treeId, to: "99999999999" }, as()), ["query", "to"]],
      [() => trees.exportTree({ id: treeId, version: 0 }, as()), ["query", "version"]],
      [() => trees.archiveTree({ id: "nope" }, as()), ["path", "id"]],
      [
        () => trees.importTree({ tree: { ...treeInput(), format: "zip", format_version: 1 } }, as()),
        ["body", "format"],
      ],
    ];
    for (const [call, loc] of cases) {
      const refused = await refusal(call());
      expect(refused.code, JSON.stringify(loc)).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(refused.locs, JSON.stringify(loc)).toContainEqual(loc);
    }
  });

  it("sessions: ids, filters, pages, notes, context size, depth and keys", async () => {
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < MAX_NESTING_DEPTH; level++) deep = { a: deep };
    const cases: Array<[() => Promise<unknown>, Problem["loc"]]> = [
      [() => sessions.getSession({ id: "nope" }, as()), ["path", "id"]],
      [() => sessions.listSessions({ all: false, user_id: "nope", skip: 0, limit: 10 }, as()), ["query", "user_id"]],
      [() => sessions.listSessions({ all: false, tree_id: "nope", skip: 0, limit: 10 }, as()), ["query", "tree_id"]],
      [() => sessions.listSessions({ all: false, status: "weird", skip: 0, limit: 10 }, as()), ["query", "status"]],
      [() => sessions.listSessions({ all: false, skip: 0, limit: 101 }, as()), ["query", "limit"]],
      [() => sessions.startSession({ tree_id: "nope", locale: "" }, as()), ["body", "tree_id"]],
      [() => sessions.startSession({ tree_id: treeId, locale: "de_DE" }, as()), ["body", "locale"]],
      [
        () => sessions.startSession({ tree_id: treeId, context: { ticket: long(10_001) }, locale: "" }, as()),
        ["body", "context"],
      ],
      [
        () => sessions.startSession({ tree_id: treeId, context: { "tick\u0000et": "1" }, locale: "" }, as()),
        ["body", "context", "tick\u0000et"],
      ],
      [
        () =>
          sessions.stepSession({ id: sessionId, op: "note", node_id: "", option_id: "", notes: long(10_001) }, as()),
        ["body", "notes"],
      ],
      [
        () => sessions.stepSession({ id: sessionId, op: "answer", node_id: long(65), option_id: "yes" }, as()),
        ["body", "node_id"],
      ],
      [() => sessions.stepSession({ id: "nope", op: "back", node_id: "", option_id: "" }, as()), ["path", "id"]],
      [
        () => sessions.completeSession({ id: sessionId, outcome: "unresolved", notes: long(10_001) }, as()),
        ["body", "notes"],
      ],
      [() => sessions.exportSession({ id: sessionId, format: "docx" }, as()), ["query", "format"]],
    ];
    for (const [call, loc] of cases) {
      const refused = await refusal(call());
      expect(refused.code, JSON.stringify(loc)).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(refused.locs, JSON.stringify(loc)).toContainEqual(loc);
    }
    const tooDeep = await refusal(sessions.startSession({ tree_id: treeId, context: deep, locale: "" }, as()));
    expect(tooDeep.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(tooDeep.types).toEqual(["too_deep"]);
    expect(tooDeep.locs[0]?.slice(0, 3)).toEqual(["body", "context", "a"]);
  });

  it("trees refuses a 20 KB and a 200 KB search at once, and still answers the same search within bounds", async () => {
    const randomLetters = (length: number) =>
      Array.from({ length }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("");
    // Refused by its length alone, before any database work (speed is measured in bench/, not here).
    for (const size of [20_000, 200_000]) {
      const refused = await refusal(trees.searchTrees({ q: randomLetters(size), limit: 20 }, as()));
      expect(refused).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, types: ["string_too_long"] });
      expect(refused.locs).toEqual([["query", "q"]]);
    }
    const found = await trees.searchTrees({ q: "printer", limit: 20 }, as());
    expect(found.trees.map((tree) => tree.id)).toContain(treeId);
  });

  it("the gateway answers the same limits with 422 at the same field", async () => {
    const q = Array(17).fill("printer").join(" ");
    const words = await running.client.call("GET", `/api/v1/trees/search?q=${encodeURIComponent(q)}`, {
      token: engineer,
    });
    expect(words.status).toBe(422);
    expect(words.body).toEqual({ detail: [{ loc: ["query", "q"], msg: "At most 16 words", type: "too_many_words" }] });
    const length = await running.client.call("GET", `/api/v1/trees/search?q=${long(201)}`, { token: engineer });
    expect(length.status).toBe(422);
    expect(length.body).toMatchObject({ detail: [{ loc: ["query", "q"], type: "string_too_long" }] });
  });
});
