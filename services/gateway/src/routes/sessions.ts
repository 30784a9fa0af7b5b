import { type AccessTokenVerifier, AppError, hasRole } from "@tdt/kit";
import type { ListSessionsRequest, StartSessionRequest } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callerOf, callOptionsOf, requireUser } from "../authenticate.js";
import { type Downstream, present } from "../downstream.js";
import { acceptEmptyJsonBody } from "../optional-json-body.js";
import { BEARER, bounds, PAGE_PARAMETERS, ref, totalCountHeader, uuid } from "../schemas/common.js";
import { BODY_ERRORS, DOWNSTREAM_ERRORS, errorResponses } from "../schemas/errors.js";
import {
  OUTCOMES,
  REPORT_FORMATS,
  REPORT_MEDIA_TYPES,
  type ReportFormat,
  SESSION_STATUSES,
} from "../schemas/sessions.js";
import { type StepOperation, sessionDocumentOf, stepRequestOf } from "../session-documents.js";

export interface SessionsRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
}

const TAGS = ["sessions"];

const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;
const SESSION = ref("Session");
const format = { type: "string", enum: REPORT_FORMATS, description: "The report's format (default json)" } as const;

/** A session's owner alone may change it: an engineer or admin who may see it gets 403. */
const CHANGE_ERRORS = errorResponses(...BODY_ERRORS, 401, 403, 404, 409, ...DOWNSTREAM_ERRORS);

/** Engineers and admins may list another user's sessions or everyone's (the service checks too). */
function assertMayList(request: FastifyRequest<{ Querystring: ListSessionsRequest }>): void {
  const { claims } = callerOf(request);
  const { all, user_id } = request.query;
  const others = all || (user_id !== undefined && user_id !== claims.sub);
  if (others && !hasRole(claims, "engineer")) throw new AppError("forbidden", "forbidden");
}

/** A download named `filename`, kept to characters every header and file system take. */
function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]+/g, "_") || "report"}"`;
}

/** SPEC §6 over the SessionsService: each route calls the RPC of the same purpose. */
export async function sessionsRoutes(
  app: FastifyInstance,
  { downstream, verifier }: SessionsRoutesOptions,
): Promise<void> {
  const { sessions } = downstream;
  const user = requireUser(verifier);

  app.get<{ Querystring: ListSessionsRequest }>(
    "",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "List sessions, newest first",
        description:
          "The caller's own sessions; engineers and admins may ask for another user's (`user_id`) or everyone's " +
          "(`all=true`), which is a 403 for a technician.",
        security: BEARER,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            user_id: { ...uuid, description: "Engineers and admins: this user's sessions" },
            all: { type: "boolean", default: false, description: "Engineers and admins: everyone's sessions" },
            status: { type: "string", enum: SESSION_STATUSES },
            tree_id: { ...uuid, description: "Only sessions through this tree" },
            ...PAGE_PARAMETERS,
          },
        },
        response: {
          200: {
            description: "One page of sessions; the total is in `X-Total-Count`",
            headers: totalCountHeader("matching sessions"),
            type: "array",
            items: SESSION,
          },
          ...errorResponses(401, 403, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      assertMayList(request);
      const { sessions: page, total } = await sessions.listSessions(request.query, callOptionsOf(request));
      return reply.header("x-total-count", String(total)).send(page.map(sessionDocumentOf));
    },
  );

  app.get<{ Params: { id: string } }>(
    "/:id",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "A session (its owner, engineers, admins)",
        security: BEARER,
        params: ID_PARAMS,
        response: {
          200: { description: "The session", ...SESSION },
          ...errorResponses(401, 404, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => {
      const { session } = await sessions.getSession({ id: request.params.id }, callOptionsOf(request));
      return sessionDocumentOf(present(session, "session"));
    },
  );

  app.post<{ Body: StartSessionRequest }>(
    "",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "Start a session at the root of a tree's current published version, which it pins",
        description: "An unknown, deleted or unpublished tree is a 404.",
        security: BEARER,
        body: {
          type: "object",
          required: ["tree_id"],
          additionalProperties: false,
          properties: {
            tree_id: uuid,
            context: {
              type: "object",
              additionalProperties: true,
              description: "What the session is about (ticket, device, customer...): any JSON object",
            },
          },
        },
        response: {
          201: { description: "The new session", ...SESSION },
          ...errorResponses(...BODY_ERRORS, 401, 404, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { session } = await sessions.startSession(request.body, callOptionsOf(request));
      return reply.code(201).send(sessionDocumentOf(present(session, "session")));
    },
  );

  app.put<{ Params: { id: string }; Body: StepOperation }>(
    "/:id",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "Take one step (the owner): answer, continue, back or note",
        description:
          "`node_id` must name the current node, else 409 `stale_step`: a retried step is refused, never applied " +
          "twice. An unknown option is a 422 at `option_id`; a completed session is 409 `session_completed`.",
        security: BEARER,
        params: ID_PARAMS,
        body: ref("StepOperation"),
        response: { 200: { description: "The session after the step", ...SESSION }, ...CHANGE_ERRORS },
      },
    },
    async (request) => {
      const step = stepRequestOf(request.params.id, request.body);
      return sessionDocumentOf(present((await sessions.stepSession(step, callOptionsOf(request))).session, "session"));
    },
  );

  // Completing and exporting need no body: their scope reads an empty JSON body as none.
  await app.register(async (scope) => {
    acceptEmptyJsonBody(scope);

    scope.post<{ Params: { id: string }; Body: { outcome?: string; notes?: string } | null }>(
      "/:id/complete",
      {
        onRequest: user,
        schema: {
          tags: TAGS,
          summary: "Complete a session (the owner)",
          description:
            "At a solution the outcome defaults to the solution's; elsewhere `unresolved` or `escalated` must be " +
            "given (422 at `outcome`). `notes`, when given, replace the session's notes. The body is optional.",
          security: BEARER,
          params: ID_PARAMS,
          body: {
            type: ["object", "null"],
            additionalProperties: false,
            properties: {
              outcome: { type: "string", enum: OUTCOMES },
              notes: {
                type: "string",
                ...bounds("tdt.sessions.v1.CompleteSessionRequest", "notes"),
                description: "The session's notes, replaced",
              },
            },
          },
          response: { 200: { description: "The completed session", ...SESSION }, ...CHANGE_ERRORS },
        },
      },
      async (request) => {
        const completion = { id: request.params.id, ...request.body };
        const { session } = await sessions.completeSession(completion, callOptionsOf(request));
        return sessionDocumentOf(present(session, "session"));
      },
    );

    scope.post<{
      Params: { id: string };
      Querystring: { format?: ReportFormat };
      Body: { format?: ReportFormat } | null;
    }>(
      "/:id/export",
      {
        onRequest: user,
        schema: {
          tags: TAGS,
          summary: "Export a session's report as a download (its owner, engineers, admins)",
          description:
            "The format comes from `?format=` or else a JSON body `{format}` (the query wins; default json). " +
            "The body is optional.",
          security: BEARER,
          params: ID_PARAMS,
          querystring: { type: "object", additionalProperties: false, properties: { format } },
          body: { type: ["object", "null"], additionalProperties: false, properties: { format } },
          response: {
            200: {
              description: "The report, as a file named in `Content-Disposition`",
              headers: {
                "content-disposition": { type: "string", description: 'attachment; filename="session-….pdf"' },
              },
              content: Object.fromEntries(
                REPORT_FORMATS.map((name) => [
                  REPORT_MEDIA_TYPES[name],
                  { schema: { type: "string", format: "binary", description: `The ${name} report` } },
                ]),
              ),
            },
            ...errorResponses(...BODY_ERRORS, 401, 404, ...DOWNSTREAM_ERRORS),
          },
        },
      },
      async (request, reply) => {
        const chosen = request.query.format ?? request.body?.format ?? "json";
        const report = await sessions.exportSession({ id: request.params.id, format: chosen }, callOptionsOf(request));
        return reply
          .type(report.content_type || "application/octet-stream")
          .header("content-disposition", attachment(report.filename))
          .send(report.content);
      },
    );
  });
}
