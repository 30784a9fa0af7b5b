/**
 * What the packed client types a download as: each report format as what it is. Compiled (strict,
 * never run) beside the README's examples in the folder ../packed-client.test.ts installs the
 * tarball into; the `@ts-expect-error` lines are types the package must not give.
 */
import { createApiClient, downloadReport, type Schemas } from "@tdt/api-client";

const api = createApiClient({ baseUrl: "https://tdt.example.com" });

export async function everyFormat(sessionId: string): Promise<Array<Blob | string | Schemas["SessionReport"]>> {
  const pdf = await downloadReport(api, sessionId, "pdf");
  const csv = await downloadReport(api, sessionId, "csv");
  const markdown = await downloadReport(api, sessionId, "markdown");
  const json = await downloadReport(api, sessionId, "json");
  if (!pdf.data || !csv.data || !markdown.data || !json.data) return [];
  const file: Blob = pdf.data;
  const rows: string = csv.data;
  const text: string = markdown.data;
  const report: Schemas["SessionReport"] = json.data;
  // @ts-expect-error a PDF is bytes, not text
  const notText: string = pdf.data;
  // @ts-expect-error the JSON report is read as its object
  const notBytes: Blob = json.data;

  // The export called directly: `parseAs` decides, as openapi-fetch documents.
  const query = (format: "pdf" | "csv") => ({ params: { path: { id: sessionId }, query: { format } } });
  const blob = await api.POST("/api/v1/sessions/{id}/export", { ...query("pdf"), parseAs: "blob" });
  const bytes = await api.POST("/api/v1/sessions/{id}/export", { ...query("pdf"), parseAs: "arrayBuffer" });
  const lines = await api.POST("/api/v1/sessions/{id}/export", { ...query("csv"), parseAs: "text" });
  const asBlob: Blob | undefined = blob.data;
  const asBytes: ArrayBuffer | undefined = bytes.data;
  const asText: string | undefined = lines.data;
  return [file, rows, text, report, notText, notBytes, asBlob ?? "", new Blob([asBytes ?? ""]), asText ?? ""];
}
