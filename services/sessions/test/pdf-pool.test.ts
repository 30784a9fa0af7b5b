/**
 * The PDF pool with real worker threads (the compiled worker: build first): reports render off
 * the event loop, a full pool refuses with a code and a Retry-After, a caller that gives up stops
 * its render, and a worker that fails or dies takes only its own report with it.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@tdt/kit";
import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { pdfText } from "@tdt/test-support/pdf";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterEach, describe, expect, it } from "vitest";
import { PdfPool, type PdfPoolOptions } from "../src/reports/pdf-pool.js";

const tree = {
  id: "t",
  title: "Printer",
  version: 1,
  nodes: [{ id: "q", type: "question", title: "Q", body: "", options: [] }],
} as unknown as Tree;

/** `length` characters taking turns from `pair`. */
const alternating = (pair: string, length: number) =>
  Array.from({ length }, (_, index) => pair[index % 2] as string).join("");

function sessionWith(notes: string, stepNotes: string[] = []): Session {
  return {
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    tree_id: "t",
    tree_version: 1,
    tree_title: "Printer",
    user_id: "u",
    user_name: "",
    user_email: "",
    locale: "en",
    status: "completed",
    outcome: "resolved",
    current_node: undefined,
    steps: stepNotes.map((note, index) => ({
      seq: index + 1,
      node_id: "q",
      node_title: "Q",
      option_id: "",
      option_label: "",
      note,
      entered_at: "2026-01-01T10:00:00.000Z",
      left_at: "2026-01-01T10:01:00.000Z",
      duration_ms: 60_000,
      tree_id: "t",
      tree_version: 1,
    })),
    notes,
    context: {},
    started_at: "2026-01-01T10:00:00.000Z",
    updated_at: "2026-01-01T10:01:00.000Z",
    completed_at: "2026-01-01T10:01:00.000Z",
  };
}

/** The real worker, made to crash or hang on request. */
const FAILING_WORKER = new URL("./fixtures/failing-pdf-worker.mjs", import.meta.url);

const pools: PdfPool[] = [];
function pool(options: Partial<PdfPoolOptions> = {}): PdfPool {
  const made = new PdfPool({ workers: 1, waitingLimit: 8, perUser: 8, log: testLogger(), ...options });
  pools.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((each) => each.close()));
});

const refusalOf = (rendering: Promise<unknown>) =>
  rendering.then(
    () => "rendered",
    (error: unknown) => (error instanceof AppError ? error : String(error)),
  );

/** pdf.js splits lines; compare with whitespace taken out. */
const squeeze = (text: string) => text.replace(/\s+/g, "");

describe("the PDF pool", () => {
  it("renders off the event loop: the loop stays free while a large report renders", async () => {
    const pdfs = pool();
    const notes = alternating("a漢", 10_000);
    await pdfs.render({ owner: "u", session: sessionWith("warm"), trees: [tree] });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const pdf = await pdfs.render({ owner: "u", session: sessionWith(notes, [notes, notes]), trees: [tree] });
    const renderMs = performance.now() - started;
    delay.disable();
    expect(squeeze(await pdfText(new Uint8Array(pdf))).split(notes)).toHaveLength(4);
    // On the loop, the render would have held it for its whole length.
    expect(delay.max / 1e6).toBeLessThan(renderMs / 2);
  });

  it("refuses past the waiting limit (503 exports_busy) and past a user's share (429 rate_limited), with a Retry-After", async () => {
    const pdfs = pool({ workers: 1, waitingLimit: 1, perUser: 2 });
    const heavy = sessionWith(alternating("a漢", 10_000));
    const first = pdfs.render({ owner: "alice", session: heavy, trees: [tree] });
    const second = pdfs.render({ owner: "alice", session: heavy, trees: [tree] });
    const third = await refusalOf(pdfs.render({ owner: "alice", session: heavy, trees: [tree] }));
    expect(third).toMatchObject({ code: "rate_limited" });
    const full = await refusalOf(pdfs.render({ owner: "bob", session: heavy, trees: [tree] }));
    expect(full).toMatchObject({ code: "exports_busy" });
    expect((full as AppError).extra.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await Promise.all([first, second]);
    // Room again once they are done.
    await expect(pdfs.render({ owner: "bob", session: heavy, trees: [tree] })).resolves.toBeInstanceOf(Buffer);
  });

  it("drops a waiting report whose caller gave up, before it starts", async () => {
    const pdfs = pool();
    const heavy = sessionWith(alternating("a漢", 10_000), [alternating("a漢", 10_000)]);
    const rendering = pdfs.render({ owner: "alice", session: heavy, trees: [tree] });
    const gaveUp = new AbortController();
    const waiting = pdfs.render({ owner: "bob", session: heavy, trees: [tree], signal: gaveUp.signal });
    expect(pdfs.stats()).toMatchObject({ rendering: 1, waiting: 1 });
    gaveUp.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    expect(pdfs.stats()).toMatchObject({ rendering: 1, waiting: 0 });
    await rendering;
  });

  it("stops a rendering report whose caller gave up, and its worker serves the next", async () => {
    // Grace enough for a loaded machine: the worker is to stop by itself, not be ended.
    const pdfs = pool({ stopGraceMs: 10_000 });
    await pdfs.render({ owner: "u", session: sessionWith("warm 打印 ż"), trees: [tree] });
    // Latin with accents and Han: no font has both, so every character is a run of its own.
    const manyRuns = alternating("ż漢", 10_000);
    const gaveUp = new AbortController();
    const stopped = pdfs.render({
      owner: "u",
      session: sessionWith(manyRuns, [manyRuns, manyRuns, manyRuns, manyRuns]),
      trees: [tree],
      signal: gaveUp.signal,
    });
    await sleep(100);
    const abortedAt = performance.now();
    gaveUp.abort(new Error("deadline"));
    await expect(stopped).rejects.toThrow("deadline");
    // The caller hears at once; the worker stops at its next run and is free again.
    expect(performance.now() - abortedAt).toBeLessThan(50);
    await expect(pdfs.render({ owner: "u", session: sessionWith("next"), trees: [tree] })).resolves.toBeInstanceOf(
      Buffer,
    );
    expect(pdfs.stats()).toMatchObject({ workers: 1, workersStarted: 1 });
  });

  it("ends a worker that does not stop in time, and starts another", async () => {
    // As pdfkit breaking one very long word would: a render that does not look at its flag.
    const pdfs = pool({ workerFile: FAILING_WORKER, stopGraceMs: 200 });
    const gaveUp = new AbortController();
    const stopped = pdfs.render({ owner: "u", session: sessionWith("hang"), trees: [tree], signal: gaveUp.signal });
    await sleep(100);
    gaveUp.abort(new Error("deadline"));
    await expect(stopped).rejects.toThrow("deadline");
    const next = pdfs.render({ owner: "u", session: sessionWith("next"), trees: [tree] });
    // The worker's place is taken until it is ended.
    expect(pdfs.stats()).toMatchObject({ rendering: 1, waiting: 1 });
    await expect(next).resolves.toBeInstanceOf(Buffer);
    expect(pdfs.stats()).toMatchObject({ workers: 1, workersStarted: 2 });
  });

  it("answers a report that fails to render with an error, and keeps its worker", async () => {
    const pdfs = pool();
    const broken = { ...sessionWith("x"), steps: null } as unknown as Session;
    await expect(pdfs.render({ owner: "u", session: broken, trees: [tree] })).rejects.toThrow(/failed to render/);
    const notCopyable = { ...sessionWith("x"), context: { f: () => 1 } } as unknown as Session;
    await expect(pdfs.render({ owner: "u", session: notCopyable, trees: [tree] })).rejects.toThrow(
      /could not be cloned/,
    );
    await expect(pdfs.render({ owner: "u", session: sessionWith("fine"), trees: [tree] })).resolves.toBeInstanceOf(
      Buffer,
    );
    expect(pdfs.stats()).toMatchObject({ workers: 1, workersStarted: 1 });
  });

  it("fails only the report of a worker that dies, and replaces the worker", async () => {
    const pdfs = pool({ workerFile: FAILING_WORKER });
    const crash = pdfs.render({ owner: "u", session: sessionWith("crash"), trees: [tree] });
    const after = pdfs.render({ owner: "v", session: sessionWith("after the crash"), trees: [tree] });
    await expect(crash).rejects.toThrow(/worker died/);
    const pdf = await after;
    expect(squeeze(await pdfText(new Uint8Array(pdf)))).toContain("afterthecrash");
    expect(pdfs.stats()).toMatchObject({ workers: 1, workersStarted: 2, rendering: 0, waiting: 0 });
  });
});
