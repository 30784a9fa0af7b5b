/**
 * A worker thread of the PDF pool (pdf-pool.ts): renders one report at a time, as the pool sends
 * them, off the service's event loop. A report that fails to render is an answer, not a crash; one
 * the pool stops (its caller gave up) ends at its next piece of text.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { pdfReport } from "./pdf.js";
import type { ReportImages } from "./report-images.js";

export interface PdfRequest {
  id: number;
  session: Session;
  trees: Tree[];
  /** The images the report prints, by media id (report-images.ts). */
  images?: ReportImages | undefined;
}

export type PdfAnswer = { id: number; pdf: Uint8Array } | { id: number; error: string };

export interface PdfWorkerData {
  /** One Int32: the id of the report the pool wants stopped (read while rendering, when no message can arrive). */
  stop: SharedArrayBuffer;
}

/**
 * This thread below the service's other work in the CPU's eyes (nice 10): a request waiting for a
 * core goes before a report. On Linux a thread is a task of its own, named in /proc/thread-self;
 * elsewhere the thread keeps its priority.
 */
function yieldToRequests(): void {
  try {
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), 10);
  } catch {
    // Not Linux, or not allowed: reports then share the CPU evenly with requests.
  }
}

const port = parentPort;
if (!port) throw new Error("pdf-worker.js runs as a worker thread of the PDF pool");
const stop = new Int32Array((workerData as PdfWorkerData).stop);
yieldToRequests();

port.on("message", async ({ id, session, trees, images }: PdfRequest) => {
  let answer: PdfAnswer;
  try {
    answer = { id, pdf: await pdfReport(session, trees, () => Atomics.load(stop, 0) === id, images) };
  } catch (error) {
    answer = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(answer);
});
