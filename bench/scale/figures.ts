/**
 * The figures of issue 31, measured through the gateway with 16 concurrent clients (bench/measure.ts's
 * load generator), each for SCALE_SECONDS: what each costs with this much data behind it.
 */
import { loadavg } from "node:os";
import { type LoadResult, load, type Probe } from "../measure.js";
import { searchUnrepeated } from "../tree-corpus.js";
import { PASSWORD, sessionIdOf, treeIdOf } from "./corpus.js";
import type { LoadRecord } from "./load.js";
import type { ScaleSystem } from "./system.js";

export const WORKERS = 16;
const PAGE = 50;
const DEEP_PAGE = 1000;

export interface Figure {
  name: string;
  goal: { p95: number } | undefined;
  result: LoadResult;
  /** How the deep page was reached, or what else the row needs said. */
  note: string;
}

/** The next page's cursor an answer carries: in its body beside the items, or in a header (Link, …); "" at the end, undefined when the gateway has no cursors. */
export function nextCursorOf(body: unknown, headers: Headers): string | undefined {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const value = (body as Record<string, unknown>).next_cursor;
    if (typeof value === "string") return value;
  }
  const link = headers.get("link");
  if (link) {
    const next = link.split(",").find((part) => /rel="?next"?/.test(part));
    const url = next?.match(/<([^>]*)>/)?.[1];
    if (url) return new URL(url, "http://x").searchParams.get("cursor") ?? undefined;
    return "";
  }
  for (const name of ["x-next-cursor", "next-cursor"]) {
    const value = headers.get(name);
    if (value !== null) return value;
  }
  return undefined;
}

/** The items of a list answer: the body itself, or its `trees`/`sessions`/`items` beside a cursor. */
function itemsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const record = (body ?? {}) as Record<string, unknown>;
  for (const key of ["trees", "sessions", "items"]) if (Array.isArray(record[key])) return record[key] as unknown[];
  return [];
}

/** Which figures to measure, and what watches each (bench/scale/profile.ts). */
export interface FigureOptions {
  /** Only the figures whose name this accepts are measured (every one when absent). */
  only?: (name: string) => boolean;
  /** A probe for each figure measured (bench/cpu.ts's meter), told when its steps start and end. */
  probe?: (name: string) => Probe | undefined;
}

export async function measureFigures(
  system: ScaleSystem,
  record: LoadRecord,
  seconds: number,
  options: FigureOptions = {},
): Promise<Figure[]> {
  const { client } = system;
  const plan = record.plan;
  const login = async (email: string) => (await client.login(email, PASSWORD)).access_token;
  const admin = await login("admin0@alpha.scale.example");
  const engineers = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) => login(`engineer${i}@alpha.scale.example`)),
  );
  const technicians = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) => login(`tech${i}@alpha.scale.example`)),
  );
  const figures: Figure[] = [];
  const failed = new Map<string, number>();
  /** The answers (200) of the figure being measured (by measure(), not the search's own loop): their bytes. */
  const answered = { count: 0, bytes: 0 };
  /** The probe of the figure being measured. */
  let probe: Probe | undefined;
  /** Measures the figure `name` unless it is not chosen; `note` is read after it ran. */
  const figure = async (
    name: string,
    goal: Figure["goal"],
    run: () => Promise<LoadResult>,
    note: string | (() => string) = "",
  ) => {
    if (options.only && !options.only(name)) return;
    failed.clear();
    answered.count = 0;
    answered.bytes = 0;
    probe = options.probe?.(name);
    const result = await run();
    // The machine is shared: how busy it was over the last minute, beside each figure.
    const busy = `load ${loadavg()[0]?.toFixed(1)}`;
    const failures = [...failed].map(([key, count]) => `${count}× ${key}`).join(", ");
    const said = typeof note === "function" ? note() : note;
    const size = answered.count > 0 ? `answers of ${kilobytes(answered.bytes / answered.count)}` : "";
    const measured: Figure = {
      name,
      goal,
      result,
      note: [said, size, failures && `failed: ${failures}`, busy].filter(Boolean).join("; "),
    };
    figures.push(measured);
    console.log(
      `[figures] ${name}: ${result.perSecond.toFixed(1)} req/s, p50 ${result.p50.toFixed(1)} p95 ${result.p95.toFixed(1)} p99 ${result.p99.toFixed(1)} ms, ${result.failures} failures${measured.note ? ` (${measured.note})` : ""}`,
    );
  };
  /** GETs of `path` (or of each worker's own) by 16 clients; a request counts when it answers 200 and its body is read. */
  const measure = (
    path: (worker: number, n: number) => string,
    tokens: (worker: number) => string,
    method = "GET",
    workers = WORKERS,
  ) =>
    load({
      workers,
      seconds,
      probe,
      setup: async (worker) => ({ worker, n: 0 }),
      step: async (state) => {
        const response = await fetch(`${system.url}${path(state.worker, state.n++)}`, {
          method,
          headers: { authorization: `Bearer ${tokens(state.worker)}` },
        });
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (response.status === 200) {
          answered.bytes += bytes.length;
          answered.count += 1;
        }
        const body = new TextDecoder().decode(bytes);
        if (response.status !== 200) {
          const code = /"(?:code|detail|error)"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? "";
          const key = `${response.status}${code ? ` ${code}` : ""}`;
          failed.set(key, (failed.get(key) ?? 0) + 1);
        }
        return response.status === 200;
      },
    });

  // Search no cache can answer: bench/tree-corpus.ts's never-repeated word and prefix searches.
  await figure("search, never repeated (word and prefix)", { p95: 50 }, () =>
    searchUnrepeated(client, technicians[0] as string, WORKERS, seconds, probe),
  );

  // The lists at their first page and at the 1,000th (or their last, when shorter).
  for (const list of [
    { name: "tree list", path: "/api/v1/trees?" },
    { name: "sessions list (admin, all)", path: "/api/v1/sessions?all=true&" },
    { name: "sessions in brief (admin, all)", path: "/api/v1/sessions/summaries?all=true&" },
  ]) {
    await figure(`${list.name}, page 1`, { p95: 20 }, () =>
      measure(
        () => `${list.path}limit=${PAGE}`,
        () => admin,
      ),
    );
    let deep: { path: string; note: string } | undefined;
    await figure(
      `${list.name}, page ${DEEP_PAGE.toLocaleString("en")} (or its last)`,
      { p95: 20 },
      async () => {
        const page = await deepPage(system, list.path, admin);
        deep = page;
        return measure(
          () => page.path,
          () => admin,
        );
      },
      () => deep?.note ?? "",
    );
  }

  const busiest = treeIdOf(plan.busiest);
  await figure(
    "a technician's own sessions, page 1",
    { p95: 30 },
    () =>
      measure(
        () => `/api/v1/sessions?limit=${PAGE}`,
        (worker) => technicians[worker] as string,
      ),
    "16 technicians, each their own",
  );
  await figure(
    "a technician's own sessions in brief, page 1",
    { p95: 30 },
    () =>
      measure(
        () => `/api/v1/sessions/summaries?limit=${PAGE}`,
        (worker) => technicians[worker] as string,
      ),
    "16 technicians, each their own",
  );
  await figure("sessions by tree (the busiest), page 1", { p95: 30 }, () =>
    measure(
      () => `/api/v1/sessions?all=true&tree_id=${busiest}&limit=${PAGE}`,
      () => admin,
    ),
  );
  await figure("sessions by outcome (escalated), page 1", { p95: 30 }, () =>
    measure(
      () => `/api/v1/sessions?all=true&outcome=escalated&limit=${PAGE}`,
      () => admin,
    ),
  );
  const to = new Date(plan.end - 30 * 86_400_000);
  const from = new Date(to.getTime() - 7 * 86_400_000);
  await figure("sessions by time range (a week), page 1", { p95: 30 }, () =>
    measure(
      () => `/api/v1/sessions?all=true&from=${from.toISOString()}&to=${to.toISOString()}&limit=${PAGE}`,
      () => admin,
    ),
  );
  await figure(
    "analytics of the busiest tree",
    { p95: 50 },
    () =>
      measure(
        () => `/api/v1/trees/${busiest}/analytics`,
        (worker) => engineers[worker] as string,
      ),
    `${busiestEvents(record).toLocaleString("en")} step events over its sessions`,
  );
  const long = sessionIdOf(0);
  for (const [format, p95] of [
    ["JSON", 50],
    ["PDF", 500],
  ] as const) {
    await figure(
      `report of the 500-step session, ${format}`,
      { p95 },
      () =>
        measure(
          () => `/api/v1/sessions/${long}/export?format=${format.toLowerCase()}`,
          (worker) => engineers[worker] as string,
          "POST",
        ),
      "16 engineers",
    );
  }
  await figure(
    "report of the 500-step session, PDF, 1 client",
    undefined,
    () =>
      measure(
        () => `/api/v1/sessions/${long}/export?format=pdf`,
        () => engineers[0] as string,
        "POST",
        1,
      ),
    "for comparison",
  );
  // "Neither blocking other routes": the lightest list while 16 engineers keep asking for PDFs
  // (each asking again as soon as it is answered or refused), beside the same list alone above.
  await figure(
    "tree list, page 1, beside 16 clients asking for the PDF",
    undefined,
    async () => {
      let rendering = true;
      const pdfs = Promise.all(
        engineers.map(async (token) => {
          while (rendering) {
            const response = await fetch(`${system.url}/api/v1/sessions/${long}/export?format=pdf`, {
              method: "POST",
              headers: { authorization: `Bearer ${token}` },
            });
            await response.arrayBuffer();
          }
        }),
      );
      try {
        return await measure(
          () => `/api/v1/trees?limit=${PAGE}`,
          () => admin,
        );
      } finally {
        rendering = false;
        await pdfs;
      }
    },
    "for comparison with the tree list alone",
  );
  return figures;
}

/**
 * The path of the 1,000th page of a list (its last when it has fewer): by `cursor` when the
 * gateway answers one (the cursors walked once to reach it), else by `skip`.
 */
async function deepPage(
  system: ScaleSystem,
  base: string,
  token: string,
): Promise<{ page: number; path: string; note: string }> {
  const first = await system.client.call<unknown>("GET", `${base}limit=${PAGE}`, { token });
  if (first.status !== 200) throw new Error(`${base}: ${first.status} ${JSON.stringify(first.body)}`);
  const total = Number(first.headers.get("x-total-count") ?? Number.NaN);
  let cursor = nextCursorOf(first.body, first.headers);
  if (cursor !== undefined) {
    let page = 1;
    let path = `${base}limit=${PAGE}`;
    const started = performance.now();
    while (cursor && page < DEEP_PAGE) {
      path = `${base}limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`;
      const answer = await system.client.call<unknown>("GET", path, { token });
      if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (itemsOf(answer.body).length === 0) break;
      page++;
      cursor = nextCursorOf(answer.body, answer.headers);
    }
    const walk = ((performance.now() - started) / 1000).toFixed(1);
    return { page, path, note: `page ${page} by cursor (walked to it in ${walk} s)` };
  }
  const pages = Number.isFinite(total) ? Math.max(1, Math.ceil(total / PAGE)) : DEEP_PAGE;
  const page = Math.min(DEEP_PAGE, pages);
  return {
    page,
    path: `${base}skip=${(page - 1) * PAGE}&limit=${PAGE}`,
    note: `page ${page} by skip=${(page - 1) * PAGE}`,
  };
}

/** A mean answer's size, as the notes print it. */
function kilobytes(bytes: number): string {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(bytes >= 10_240 ? 0 : 1)} KiB` : `${Math.round(bytes)} B`;
}

/** The step events of the busiest tree's sessions, as loaded (the projection's entries and stays of its sessions). */
function busiestEvents(record: LoadRecord): number {
  return record.busiest_events ?? 0;
}
