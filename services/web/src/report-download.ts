/** A session's report as a file the browser saves (the export answers `Content-Disposition: attachment`). */
import { answerOf, api, type ReportFormat } from "./api.js";
import { saveFile } from "./save-file.js";

const EXTENSIONS: Record<ReportFormat, string> = { json: "json", markdown: "md", csv: "csv", pdf: "pdf" };

export async function downloadReport(sessionId: string, format: ReportFormat): Promise<void> {
  const result = await api.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id: sessionId }, query: { format } },
    parseAs: "blob",
  });
  const blob = answerOf(result) as unknown as Blob;
  const disposition = result.response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `session-${sessionId}.${EXTENSIONS[format]}`;
  saveFile(blob, name);
}
