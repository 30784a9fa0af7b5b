import { type AccessTokenVerifier, AppError } from "@tdt/kit";
import { mayListSessions } from "@tdt/proto/contracts/access";
import { OUTCOMES } from "@tdt/proto/contracts/outcomes";
import type { ListSessionsRequest } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callerOf } from "../../edge/authenticate.js";
import { acceptEmptyJsonBody } from "../../edge/optional-json-body.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { bounds, PAGE_PARAMETERS, ref, uuid } from "../schemas/common.js";
import { EXAMPLES } from "../schemas/examples.js";
import {
  REPORT_FORMATS,
  REPORT_MEDIA_TYPES,
  REPORT_SCHEMAS,
  type ReportFormat,
  SESSION_STATUSES,
} from "../schemas/sessions.js";
import { type StepOperation, sessionDocumentOf, stepRequestOf } from "../session-documents.js";

export interface SessionsRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
}

const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;
const SESSION = ref("Session");
const format = { type: "string", enum: REPORT_FORMATS, description: "The report's format (default json)" } as const;

type WithId<T = unknown> = FastifyRequest<{ Params: { id: string } } & T>;

/** A download named `filename`, kept to characters every header and file system take. */
function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]+/g, "_") || "report"}"`;
}

/** SPEC §6 over the SessionsService: each route calls the RPC of the same purpose. */
export async function sessionsRoutes(
  app: FastifyInstance,
  { downstream, verifier }: SessionsRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "sessions", downstream, verifier });

  route(app, {
    rpc: { client: "sessions", method: "listSessions" },
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        user_id: { ...uuid, description: "Engineers and admins: this user's sessions" },
        all: { type: "boolean", default: false, description: "Engineers and admins: everyone's sessions" },
        status: { type: "string", enum: SESSION_STATUSES },
        tree_id: { ...uuid, description: "Only sessions through this tree" },
        outcome: { type: "string", enum: OUTCOMES, description: "Only completed sessions with this outcome" },
        from: { type: "string", format: "date-time", description: "Only sessions started at or after this" },
        to: { type: "string", format: "date-time", description: "Only sessions started before this" },
        ...PAGE_PARAMETERS,
      },
    },
    // The service decides with the same rule; asking it here spares a call that cannot succeed.
    request: (request: FastifyRequest<{ Querystring: ListSessionsRequest }>) => {
      if (!mayListSessions(callerOf(request).claims, request.query)) throw new AppError("forbidden");
      return request.query;
    },
    response: { description: "One page of sessions; the total is in `X-Total-Count`", type: "array", items: SESSION },
    send: (answer) => answer.sessions.map(sessionDocumentOf),
  });

  route(app, {
    rpc: { client: "sessions", method: "getSession" },
    params: ID_PARAMS,
    response: { description: "The session", ...SESSION },
    send: (answer) => sessionDocumentOf(present(answer.session, "session")),
  });

  route(app, {
    rpc: { client: "sessions", method: "startSession" },
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
      examples: [{ tree_id: EXAMPLES.session.tree_id, context: EXAMPLES.session.context }],
    },
    response: { description: "The new session", ...SESSION },
    send: (answer) => sessionDocumentOf(present(answer.session, "session")),
  });

  route(app, {
    rpc: { client: "sessions", method: "stepSession" },
    params: ID_PARAMS,
    body: ref("StepOperation"),
    request: ({ params, body }: WithId<{ Body: StepOperation }>) => stepRequestOf(params.id, body),
    response: { description: "The session after the step", ...SESSION },
    send: (answer) => sessionDocumentOf(present(answer.session, "session")),
  });

  // Completing and exporting need no body: their scope reads an empty JSON body as none.
  await app.register(async (scope) => {
    acceptEmptyJsonBody(scope);

    route(scope, {
      rpc: { client: "sessions", method: "completeSession" },
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
        examples: [{ outcome: "resolved", notes: "Paper tray refilled; test page printed" }, { outcome: "escalated" }],
      },
      request: ({ params, body }: WithId<{ Body: { outcome?: string; notes?: string } | null }>) => ({
        id: params.id,
        ...body,
      }),
      response: { description: "The completed session", ...SESSION },
      send: (answer) => sessionDocumentOf(present(answer.session, "session")),
    });

    route(scope, {
      rpc: { client: "sessions", method: "exportSession" },
      params: ID_PARAMS,
      querystring: { type: "object", additionalProperties: false, properties: { format } },
      body: {
        type: ["object", "null"],
        additionalProperties: false,
        properties: { format },
        examples: [{ format: "pdf" }],
      },
      request: ({
        params,
        query,
        body,
      }: WithId<{ Querystring: { format?: ReportFormat }; Body: { format?: ReportFormat } | null }>) => ({
        id: params.id,
        format: query.format ?? body?.format ?? "json",
      }),
      response: {
        description: "The report, as a file named in `Content-Disposition`",
        headers: {
          "content-disposition": { type: "string", description: 'attachment; filename="session-….pdf"' },
        },
        content: Object.fromEntries(
          REPORT_FORMATS.map((name) => [REPORT_MEDIA_TYPES[name], { schema: REPORT_SCHEMAS[name] }]),
        ),
      },
      send: (report, reply) => {
        reply
          .type(report.content_type || "application/octet-stream")
          .header("content-disposition", attachment(report.filename));
        return report.content;
      },
    });
  });
}
