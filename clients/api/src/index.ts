import createClient, { type ClientOptions, type FetchResponse } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { Middleware } from "openapi-fetch";
export type { components, paths };
export type Schemas = components["schemas"];

/**
 * openapi-fetch reads every answer as JSON unless a call's `parseAs` says otherwise, so answers
 * are typed by their JSON media type; `parseAs: "text" | "blob" | "arrayBuffer"` types the others.
 */
type ReadByDefault = `${string}/json`;

/** A typed client of the TDT API: every path, body, answer and error code as the gateway documents them. */
export function createApiClient(options: ClientOptions = {}) {
  return createClient<paths, ReadByDefault>(options);
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** How each report format is read: the JSON report as its object, Markdown and CSV as text, the PDF as a Blob. */
const READ_AS = { json: "json", markdown: "text", csv: "text", pdf: "blob" } as const;

export type ReportFormat = keyof typeof READ_AS;

/** A report's answer: `data` is what its format is (`SessionReport`, `string` or `Blob`), `error` one the export documents. */
export type ReportDownload<F extends ReportFormat> = FetchResponse<
  paths["/api/v1/sessions/{id}/export"]["post"],
  { parseAs: (typeof READ_AS)[F] },
  ReadByDefault
>;

/**
 * A session's report in `format`, read as what it is. (A plain call to the export reads JSON
 * unless given the matching `parseAs`; this gives it.) The file name the gateway suggests is in
 * `response.headers.get("content-disposition")`.
 */
export function downloadReport<F extends ReportFormat>(
  client: ApiClient,
  sessionId: string,
  format: F,
  init: Omit<RequestInit, "body" | "method"> = {},
): Promise<ReportDownload<F>> {
  return client.POST("/api/v1/sessions/{id}/export", {
    ...init,
    params: { path: { id: sessionId }, query: { format } },
    parseAs: READ_AS[format],
  });
}
