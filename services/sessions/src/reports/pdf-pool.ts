/**
 * PDF reports rendered in a bounded pool of worker threads, never on the service's event loop: a
 * report of long notes in alternating scripts took the loop for hundreds of milliseconds, and every
 * other request waited. Which report renders next, and which is refused, is render-queue.ts; here
 * are the threads. A report whose caller gives up (its deadline passed) stops: waiting, it leaves
 * the queue; rendering, its worker is told to stop (and ended if it does not), and its place is
 * free once the worker is. A worker that dies fails its own report only; the next report starts
 * a new one.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { AppError, type Logger } from "@tdt/kit";
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import type { PdfAnswer, PdfRequest, PdfWorkerData } from "./pdf-worker.js";
import { type RenderLimits, RenderQueue } from "./render-queue.js";
import type { ReportImages } from "./report-images.js";

export interface PdfJob {
  /** Whose report it is: a user's share of the pool is counted by this. */
  owner: string;
  /** The organization it is of: an organization's share of the pool is counted by this. */
  organization?: string | undefined;
  session: Session;
  trees: Tree[];
  /** The images the report prints, by media id. */
  images?: ReportImages | undefined;
  /** Aborted when the caller stops waiting; the reason is what the render rejects with. */
  signal?: AbortSignal | undefined;
}

/** What renders a PDF report: the pool, or (in tests of other things) pdfReport itself. */
export interface PdfRenderer {
  render(job: PdfJob): Promise<Buffer>;
}

interface Pending extends PdfJob {
  id: number;
  resolve(pdf: Buffer): void;
  reject(error: unknown): void;
  /** The caller has its answer, or gave up: nothing more goes to it. */
  replied: boolean;
  stopListening(): void;
  started: number;
}

/** A worker thread, the report it renders, and where the pool asks it to stop (pdf-worker.ts). */
interface Thread {
  worker: Worker;
  stop: Int32Array;
  job?: Pending | undefined;
  /** While a stopped report is ending: the timer that ends its worker should it go on. */
  stopping?: NodeJS.Timeout | undefined;
}

/**
 * How long a stopped render may take to notice: it looks between pieces of text, and a piece
 * takes a few hundred milliseconds at most, unless pdfkit is breaking one very long word. Room
 * too for a worker that a loaded machine runs seldom (it yields to requests).
 */
const STOP_GRACE_MS = 1000;

/**
 * The worker's compiled file: beside this one in dist, and from source (the tests run src) the
 * build's copy, since a worker thread runs JavaScript.
 */
function compiledWorker(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/reports/pdf-worker.js", here) : new URL("./pdf-worker.js", here);
}

export interface PdfPoolOptions extends RenderLimits {
  log: Logger;
  /** The worker's script: the compiled pdf-worker.js unless a test wraps it. */
  workerFile?: URL;
  /** A worker's heap: a report that needs more ends its worker, not the service. */
  workerHeapMb?: number;
  /** How long a stopped render may go on before its worker is ended (STOP_GRACE_MS). */
  stopGraceMs?: number;
}

export class PdfPool implements PdfRenderer {
  private readonly queue: RenderQueue<Pending>;
  private readonly idle: Thread[] = [];
  private readonly busy = new Set<Thread>();
  private readonly workerFile: URL;
  /** The last report's id: ids fit the Int32 of a worker's stop flag, and wrap. */
  private lastId = 0;
  /** Workers started so far: more than the pool's size means some died or were ended. */
  private started = 0;
  /** A moving mean of how long a report takes, for a refused caller's Retry-After. */
  private meanMs = 1000;
  private closed = false;

  constructor(private readonly options: PdfPoolOptions) {
    this.queue = new RenderQueue(options);
    this.workerFile = options.workerFile ?? compiledWorker();
    if (!existsSync(fileURLToPath(this.workerFile))) {
      throw new Error(`${fileURLToPath(this.workerFile)} is missing: build first (npx tsc -b services/sessions)`);
    }
  }

  /** The PDF of `job`, rendered by a worker; refused with 429 or 503 and a Retry-After when the pool is full. */
  render(job: PdfJob): Promise<Buffer> {
    const { signal } = job;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(new AppError("service_unavailable"));
    this.lastId = (this.lastId % 0x7fffffff) + 1;
    const id = this.lastId;
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => this.abandon(pending, signal?.reason);
      const pending: Pending = {
        ...job,
        id,
        resolve,
        reject,
        replied: false,
        stopListening: () => signal?.removeEventListener("abort", onAbort),
        started: 0,
      };
      const refusal = this.queue.add(pending);
      if (refusal) {
        reject(new AppError(refusal, { retryAfterSeconds: this.retryAfterSeconds() }));
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pump();
    });
  }

  /** Workers alive and started so far, reports rendering and waiting: for the operator's log. */
  stats() {
    return { workers: this.idle.length + this.busy.size, workersStarted: this.started, ...this.queue.load };
  }

  /** Ends every worker; a report still in the pool fails (the service is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.idle, ...this.busy];
    for (const job of [...this.queue.withdrawAll(), ...threads.map((thread) => thread.job)]) {
      if (job) reply(job, () => job.reject(new AppError("service_unavailable")));
    }
    for (const thread of threads) {
      clearTimeout(thread.stopping);
      thread.job = undefined;
    }
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private pump(): void {
    if (this.closed) return;
    for (let job = this.queue.next(); job; job = this.queue.next()) this.start(job);
  }

  private start(job: Pending): void {
    const thread = this.idle.pop() ?? this.spawn();
    thread.job = job;
    this.busy.add(thread);
    job.started = performance.now();
    const request: PdfRequest = { id: job.id, session: job.session, trees: job.trees, images: job.images };
    try {
      thread.worker.postMessage(request);
    } catch (error) {
      // Nothing was sent (a value that cannot be copied to a thread): the worker is as it was.
      this.free(thread);
      reply(job, () => job.reject(error));
      this.release(job);
    }
  }

  private spawn(): Thread {
    const stop = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(this.workerFile, {
      workerData: { stop } satisfies PdfWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb ?? 128 },
    });
    const thread: Thread = { worker, stop: new Int32Array(stop) };
    this.started++;
    // The pool's own references keep it; a worker must never be what keeps the process up.
    worker.unref();
    worker.on("message", (answer: PdfAnswer) => this.answered(thread, answer));
    worker.on("error", (error) => this.lost(thread, error));
    worker.on("exit", (code) => this.lost(thread, new Error(`the PDF worker exited with code ${code}`)));
    return thread;
  }

  private answered(thread: Thread, answer: PdfAnswer): void {
    const job = thread.job;
    if (!job || job.id !== answer.id) return;
    this.free(thread);
    if ("pdf" in answer) {
      this.meanMs = 0.8 * this.meanMs + 0.2 * (performance.now() - job.started);
      const pdf = Buffer.from(answer.pdf.buffer, answer.pdf.byteOffset, answer.pdf.byteLength);
      reply(job, () => job.resolve(pdf));
    } else {
      reply(job, () => job.reject(new Error(`the PDF report failed to render: ${answer.error}`)));
    }
    this.release(job);
  }

  /** A worker that died (a crash, its heap exceeded): its report fails; the next report starts another. */
  private lost(thread: Thread, error: Error): void {
    const idleAt = this.idle.indexOf(thread);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    const job = thread.job;
    if (!job) return;
    clearTimeout(thread.stopping);
    thread.job = undefined;
    this.busy.delete(thread);
    if (!job.replied) this.options.log.error({ err: error, owner: job.owner }, "a PDF worker died; its report failed");
    reply(job, () => job.reject(new Error(`the PDF worker died: ${error.message}`)));
    this.release(job);
  }

  /**
   * The caller gave up, and hears so at once. A waiting report leaves the queue; a rendering one
   * is asked to stop, and its worker is ended if it has not within the grace. The worker's
   * place is free only once it is.
   */
  private abandon(job: Pending, reason: unknown): void {
    reply(job, () => job.reject(reason));
    if (this.queue.withdraw(job)) return;
    const thread = [...this.busy].find((each) => each.job === job);
    if (!thread) return;
    Atomics.store(thread.stop, 0, job.id);
    thread.stopping = setTimeout(() => {
      if (thread.job !== job) return;
      this.options.log.warn({ owner: job.owner }, "a stopped PDF render went on; its worker is ended");
      thread.job = undefined;
      this.busy.delete(thread);
      void thread.worker.terminate();
      this.release(job);
    }, this.options.stopGraceMs ?? STOP_GRACE_MS);
    thread.stopping.unref();
  }

  /** A thread whose report ended is idle again. */
  private free(thread: Thread): void {
    clearTimeout(thread.stopping);
    thread.stopping = undefined;
    thread.job = undefined;
    this.busy.delete(thread);
    this.idle.push(thread);
  }

  /** A report's place in the pool is free: the next one starts. */
  private release(job: Pending): void {
    this.queue.finished(job);
    this.pump();
  }

  /** Seconds until the pool has worked through what is in it now, at the mean pace (at least 1). */
  private retryAfterSeconds(): number {
    const { rendering, waiting } = this.queue.load;
    return Math.max(1, Math.ceil((((rendering + waiting) / this.options.workers) * this.meanMs) / 1000));
  }
}

/** Answers a report's caller once; later outcomes (a stopped render ending, say) go nowhere. */
function reply(job: Pending, outcome: () => void): void {
  if (job.replied) return;
  job.replied = true;
  job.stopListening();
  outcome();
}
