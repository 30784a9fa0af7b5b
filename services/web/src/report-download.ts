/** A session's report as a file the browser saves (the export answers `Content-Disposition: attachment`). */
import { answerOf, api, type ReportFormat } from "./api.js";

const EXTENSIONS: Record<ReportFormat, string> = { json: "json", markdown: "md", csv: "csv", pdf: "pdf" };

export async function downloadReport(sessionId: string, format: ReportFormat): Promise<void> {
  const result = await api.POST("/api/v1/sessions/{id}/export", {
    params: { path: { id: sessionId }, query: { format } },
    parseAs: "blob",
  });
  const blob = answerOf(result) as unknown as Blob;
  const disposition = result.response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `session-${sessionId}.${EXTENSIONS[format]}`;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Freed once the browser has surely read it (revoking at once can cancel the download).
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
