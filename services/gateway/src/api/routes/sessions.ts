import { type AccessTokenVerifier, AppError } from "@tdt/kit";
import { mayListSessions } from "@tdt/proto/contracts/access";
import { acceptedLanguages } from "@tdt/proto/contracts/tree-languages";
import type {
  ListSessionSummariesRequest,
  ListSessionsRequest,
  Session,
  StartSessionRequest,
} from "@tdt/proto/tdt/sessions/v1/sessions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { attachment } from "../../edge/attachment.js";
import { callerOf } from "../../edge/authenticate.js";
import { acceptEmptyJsonBody } from "../../edge/optional-json-body.js";
import { requestSchema } from "../contract-schemas.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf } from "../route.js";
import { uuid } from "../schemas/common.js";
import { REPORT_FORMATS, REPORT_MEDIA_TYPES, REPORT_SCHEMAS, type ReportFormat } from "../schemas/sessions.js";
import { sessionDocumentOf } from "../session-documents.js";

export interface SessionsRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
}

const ID_PARAMS = { type: "object", required: ["id"], properties: { id: uuid } } as const;
const EXPORT = "tdt.sessions.v1.ExportSessionRequest";
/** The export's format in the query: the message's field, without the body's examples. */
const { examples: _, ...EXPORT_QUERY } = requestSchema(EXPORT, ["id"]);

/** A body that may be left out: fastify reads an empty JSON body as `null` in its scope. */
const orNull = (schema: object) => ({ ...schema, type: ["object", "null"] });

/** A session as HTTP carries it (`null` for what has not happened). */
const sessionOf = (answer: { session?: Session | undefined }) => sessionDocumentOf(present(answer.session, "session"));

/**
 * Both lists take the same query. The service decides with the same rule; asking it here spares a
 * call that cannot succeed.
 */
function mayList(
  request: FastifyRequest<{ Querystring: ListSessionsRequest & ListSessionSummariesRequest }>,
): ListSessionsRequest & ListSessionSummariesRequest {
  if (!mayListSessions(callerOf(request).claims, request.query)) throw new AppError("forbidden");
  return request.query;
}

type WithId<T = unknown> = FastifyRequest<{ Params: { id: string } } & T>;

/** SPEC §6 over the SessionsService: each route calls the RPC of the same purpose. */
export async function sessionsRoutes(
  app: FastifyInstance,
  { downstream, verifier }: SessionsRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "sessions", downstream, verifier });

  route(app, {
    rpc: { client: "sessions", method: "listSessions" },
    request: mayList,
    send: (answer) => answer.sessions.map(sessionDocumentOf),
  });

  route(app, { rpc: { client: "sessions", method: "listSessionSummaries" }, request: mayList });

  route(app, { rpc: { client: "sessions", method: "getSession" }, send: sessionOf });

  route(app, {
    rpc: { client: "sessions", method: "startSession" },
    // The language asked for, else the browser's: the first tag of its Accept-Language.
    request: (request: FastifyRequest<{ Body: StartSessionRequest }>) => ({
      ...request.body,
      locale: request.body.locale || acceptedLanguages(request.headers["accept-language"])[0] || "",
    }),
    send: sessionOf,
  });

  route(app, { rpc: { client: "sessions", method: "stepSession" }, send: sessionOf });

  // Completing and exporting need no body: their scope reads an empty JSON body as none.
  await app.register(async (scope) => {
    acceptEmptyJsonBody(scope);

    route(scope, {
      rpc: { client: "sessions", method: "completeSession" },
      body: orNull(requestSchema("tdt.sessions.v1.CompleteSessionRequest", ["id"])),
      send: sessionOf,
    });

    route(scope, {
      rpc: { client: "sessions", method: "exportSession" },
      params: ID_PARAMS,
      querystring: EXPORT_QUERY,
      body: orNull(requestSchema(EXPORT, ["id"])),
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
          .header("content-disposition", attachment(report.filename, "report"));
        return report.content;
      },
    });
  });
}
