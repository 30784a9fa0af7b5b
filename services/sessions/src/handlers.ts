import {
  type AccessClaims,
  type AccessTokenVerifier,
  AppError,
  authorizer,
  callSignal,
  checks,
  type Handlers,
  isServiceError,
  type Logger,
  pageOf,
  type RequestContext,
  readServiceError,
  type ServiceClient,
} from "@tdt/kit";
import { hasRole, mayListSessions, SESSIONS_ACCESS } from "@tdt/proto/contracts/access";
import { LOCALE, sessionLocale } from "@tdt/proto/contracts/tree-languages";
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import type {
  ListSessionSummariesRequest,
  ListSessionsRequest,
  SessionsServiceService,
} from "@tdt/proto/tdt/sessions/v1/sessions";
import type { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import type { Tree, TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { markdownReport } from "./reports/markdown.js";
import type { PdfRenderer } from "./reports/pdf-pool.js";
import { renderReport } from "./reports/report.js";
import { fetchReportImages, reportMediaIds } from "./reports/report-images.js";
import {
  isUuid,
  type ListColumns,
  type ListedRow,
  type SessionRow,
  type SessionStore,
  toSession,
  toSessionSummary,
} from "./session-store.js";
import { SessionTrees, type TreeSources } from "./session-trees.js";
import { startValues } from "./session-variables.js";
import { applyStep, completeState, type SessionState, type StepOp, startState, type TreeBook } from "./step-engine.js";
import { pinnedWith } from "./tree-languages.js";

const notFound = () => new AppError("not_found");
const MAX_CONTEXT_BYTES = 10_000;

/** A session named in the path must be named by a UUID (as the gateway's schema says). */
function checkSessionId(id: string): void {
  checks().uuid(["path", "id"], id).done();
}

/** Owners, engineers and admins see a session; to anyone else it does not exist. */
function canSee(claims: AccessClaims, row: SessionRow): boolean {
  return row.user_id === claims.sub || hasRole(claims, "engineer");
}

function stepOp(request: {
  op: string;
  node_id: string;
  option_id: string;
  note?: string | undefined;
  notes?: string | undefined;
  values?: Record<string, unknown> | undefined;
}): StepOp {
  switch (request.op) {
    case "submit":
      return { op: "submit", node_id: request.node_id, values: request.values ?? {}, note: request.note };
    case "answer":
      return { op: "answer", node_id: request.node_id, option_id: request.option_id, note: request.note };
    case "continue":
      return { op: "continue", node_id: request.node_id, note: request.note };
    case "back":
      return { op: "back" };
    case "note":
      return { op: "note", notes: request.notes ?? "" };
    default:
      throw AppError.invalid([
        { loc: ["body", "op"], msg: "Must be answer, continue, submit, back or note", type: "enum" },
      ]);
  }
}

/** Thin gRPC handlers: who may act (SPEC §6), then the step engine and the store. */
export function sessionsHandlers(deps: {
  store: SessionStore;
  trees: ServiceClient<typeof TreesServiceService>;
  /** The images a PDF report prints (the trees service's, read as the caller); none: printed without. */
  media?: Pick<ServiceClient<typeof MediaServiceService>, "getMedia"> | undefined;
  /** Asked once per started session who its technician is (their name and email, for reports). */
  auth: Pick<ServiceClient<typeof AuthServiceService>, "getMe">;
  verifier: AccessTokenVerifier;
  /** Renders PDF reports off the event loop (the worker pool), a caller's share at a time. */
  pdfs: PdfRenderer;
  log?: Logger;
}): Handlers<typeof SessionsServiceService> {
  const { trees, auth, verifier, pdfs } = deps;
  /** The sessions of the caller's organization: the database shows it no other's. */
  const storeOf = (claims: AccessClaims) => deps.store.of(claims.org);
  const authorize = authorizer(verifier, SESSIONS_ACCESS);
  type Rpc = keyof typeof SESSIONS_ACCESS;

  /**
   * Where the trees of a session come from: what a link enters is the tree's latest published
   * version as the caller sees it (none: null, and the step is a 409).
   */
  const treesFor = (ctx: RequestContext, store: SessionStore): TreeSources => ({
    store,
    latest: async (treeId) => {
      try {
        const { tree, translations } = await trees.getPublishedTree(
          { id: treeId },
          { requestId: ctx.requestId, accessToken: ctx.accessToken },
        );
        return tree ? pinnedWith(tree, translations) : null;
      } catch (error) {
        if (isServiceError(error) && readServiceError(error).detail === "not_found") return null;
        throw error;
      }
    },
  });

  /** The session as answered: its current node is in whichever tree it stands in. */
  const answer = async (row: SessionRow, ctx: RequestContext, store: SessionStore) =>
    toSession(row, await SessionTrees.toShow(row, treesFor(ctx, store)));

  const visible = async (rpc: Rpc, ctx: RequestContext, id: string) => {
    const claims = await authorize(rpc, ctx);
    checkSessionId(id);
    const store = storeOf(claims);
    const row = await store.get(id);
    if (!row || !canSee(claims, row)) throw notFound();
    return { claims, row, store };
  };

  /**
   * Changes are the owner's alone; others who may see the session get 403. Who may see and who
   * owns a session never change, so any copy of it answers that; the change itself is computed
   * from the copy and written only if the session is still as the copy says (`changeFrom`).
   * Every tree the change can look up is loaded first: the session's, and those `op` walks into.
   */
  const changeAsOwner = async (
    rpc: Rpc,
    ctx: RequestContext,
    id: string,
    op: StepOp | undefined,
    change: (row: SessionRow, book: TreeBook) => SessionState,
    /** A completion: its event carries the report in Markdown, as the export renders it. */
    reported = false,
  ) => {
    const claims = await authorize(rpc, ctx);
    checkSessionId(id);
    const store = storeOf(claims);
    const seen = await store.latest(id);
    if (!seen || !canSee(claims, seen.row)) throw notFound();
    if (seen.row.user_id !== claims.sub) throw new AppError("forbidden");
    const book = await SessionTrees.all(seen.row, treesFor(ctx, store), op);
    const reportOf = reported
      ? (after: SessionRow) =>
          markdownReport(toSession(after, book), [
            book.root,
            ...Object.entries(after.pins ?? {}).map(([treeId, version]) => book.version(treeId, version)),
          ])
      : undefined;
    const row = await store.changeFrom(seen, (current) => change(current, book), reportOf);
    if (!row) throw notFound();
    // Shown as a read shows it: a change judged again on a newer state of the session (another
    // came first) can leave it standing in a tree this book did not load.
    return { session: await answer(row, ctx, store) };
  };

  /** A page of the sessions the caller may list, as ListSessions and ListSessionSummaries ask. */
  async function listed<K extends ListColumns>(
    method: "listSessions" | "listSessionSummaries",
    request: ListSessionsRequest | ListSessionSummariesRequest,
    ctx: RequestContext,
    columns: K,
  ) {
    const claims = await authorize(method, ctx);
    if (!mayListSessions(claims, request)) throw new AppError("forbidden");
    checks()
      .uuid(["query", "user_id"], request.user_id, { optional: true })
      .uuid(["query", "tree_id"], request.tree_id, { optional: true })
      .contract(
        method === "listSessions"
          ? "tdt.sessions.v1.ListSessionsRequest"
          : "tdt.sessions.v1.ListSessionSummariesRequest",
        request,
        ["query"],
      )
      .done();
    const store = storeOf(claims);
    const userId = request.all ? undefined : (request.user_id ?? claims.sub);
    // A token's subject that is no UUID owns nothing here.
    if (userId !== undefined && !isUuid(userId)) {
      return { rows: [] as ListedRow<K>[], store, total: 0, total_capped: false, next_cursor: "" };
    }
    const from = request.from ? new Date(request.from) : undefined;
    const to = request.to ? new Date(request.to) : undefined;
    if (from && to && from > to) {
      throw AppError.invalid([{ loc: ["query", "to"], msg: "Must not be before from", type: "range" }]);
    }
    const { rows, nextCursor, total, total_capped } = await store.list(
      { userId, status: request.status, treeId: request.tree_id, outcome: request.outcome, from, to },
      pageOf(request),
      columns,
    );
    return { rows, store, total, total_capped, next_cursor: nextCursor };
  }

  return {
    async listSessions(request, ctx) {
      const { rows, store, ...page } = await listed("listSessions", request, ctx, "full");
      const shown = await SessionTrees.toShowAll(rows, treesFor(ctx, store));
      return { sessions: rows.map((row, i) => toSession(row, shown[i] as SessionTrees)), ...page };
    },

    async listSessionSummaries(request, ctx) {
      const { rows, store: _, ...page } = await listed("listSessionSummaries", request, ctx, "brief");
      return { sessions: rows.map(toSessionSummary), ...page };
    },

    async getSession(request, ctx) {
      const { row, store } = await visible("getSession", ctx, request.id);
      return { session: await answer(row, ctx, store) };
    },

    async startSession(request, ctx) {
      const claims = await authorize("startSession", ctx);
      const context = request.context ?? {};
      if (Buffer.byteLength(JSON.stringify(context)) > MAX_CONTEXT_BYTES) {
        throw AppError.invalid([
          { loc: ["body", "context"], msg: `At most ${MAX_CONTEXT_BYTES} bytes of JSON`, type: "too_large" },
        ]);
      }
      const check = checks().uuid(["body", "tree_id"], request.tree_id);
      if (request.locale && !LOCALE.test(request.locale)) {
        check.problems.push({
          loc: ["body", "locale"],
          msg: "A language tag such as de or pt-BR",
          type: "locale_pattern",
        });
      }
      check.done();
      const asCaller = { requestId: ctx.requestId, accessToken: ctx.accessToken };
      // The trees service answers as the caller sees it: an unknown, deleted or unpublished tree is
      // a 404. Auth says who the technician is, once for the session's life; without an answer
      // the session starts anyway, and its report shows the user id.
      const [{ tree: published, translations }, technician] = await Promise.all([
        trees.getPublishedTree({ id: request.tree_id }, asCaller),
        auth.getMe({}, asCaller).then(
          ({ user }) => ({ name: user?.full_name ?? "", email: user?.email ?? "" }),
          (error: unknown) => {
            deps.log?.warn({ err: error }, "technician's name not known; the report shows the user id");
            return { name: "", email: "" };
          },
        ),
      ]);
      if (!published) throw notFound();
      const tree = pinnedWith(published, translations);
      const locale = sessionLocale(request.locale ? [request.locale] : [], published.translations, published.language);
      const now = new Date();
      const store = storeOf(claims);
      const values = startValues(tree, request.variables);
      const book = await SessionTrees.toStart(tree, treesFor(ctx, store), values, locale);
      const state = startState(book, now, values);
      const row = await store.create(tree, claims.sub, state, context, now, technician, locale);
      return { session: toSession(row, book) };
    },

    async stepSession(request, ctx) {
      checks().contract("tdt.sessions.v1.StepSessionRequest", request).done();
      const op = stepOp(request);
      const now = new Date();
      return changeAsOwner("stepSession", ctx, request.id, op, (row, book) => applyStep(row, book, op, now));
    },

    async completeSession(request, ctx) {
      const now = new Date();
      return changeAsOwner(
        "completeSession",
        ctx,
        request.id,
        undefined,
        (row, book) => completeState(row, book, { outcome: request.outcome, notes: request.notes }, now),
        true,
      );
    },

    async exportSession(request, ctx) {
      const { claims, row, store } = await visible("exportSession", ctx, request.id);
      const book = await SessionTrees.all(row, treesFor(ctx, store));
      const session = toSession(row, book);
      // Every tree the session went through, for the report to name each step's.
      const linked = Object.entries(row.pins ?? {}).map(([treeId, version]) => book.version(treeId, version));
      // The pool counts shares by who asks (an engineer exporting many sessions is one) and by
      // their organization (one organization's many users leave room for the others').
      const renderPdf = async (shown: typeof session, used: Tree[]) =>
        pdfs.render({
          owner: claims.sub,
          organization: claims.org,
          session: shown,
          trees: used,
          images: await fetchReportImages(reportMediaIds(shown, used), async (id) => {
            if (!deps.media) return undefined;
            const { media, content } = await deps.media.getMedia(
              { id },
              { requestId: ctx.requestId, accessToken: ctx.accessToken },
            );
            return media ? { content, contentType: media.content_type } : undefined;
          }),
          signal: callSignal(),
        });
      return renderReport(session, [book.root, ...linked], request.format || "json", renderPdf);
    },
  };
}
