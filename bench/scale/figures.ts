/**
 * The figures of issue 31, measured through the gateway with 16 concurrent clients (bench/measure.ts's
 * load generator), each for SCALE_SECONDS: what each costs with this much data behind it.
 */
import { loadavg } from "node:os";
import { type LoadResult, load } from "../measure.js";
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

export async function measureFigures(system: ScaleSystem, record: LoadRecord, seconds: number): Promise<Figure[]> {
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
  const log = (figure: Figure) => {
    // The machine is shared: how busy it was over the last minute, beside each figure.
    const busy = `load ${loadavg()[0]?.toFixed(1)}`;
    const failures = [...failed].map(([key, count]) => `${count}× ${key}`).join(", ");
    failed.clear();
    figure.note = [figure.note, failures && `failed: ${failures}`, busy].filter(Boolean).join("; ");
    figures.push(figure);
    const r = figure.result;
    console.log(
      `[figures] ${figure.name}: ${r.perSecond.toFixed(1)} req/s, p50 ${r.p50.toFixed(1)} p95 ${r.p95.toFixed(1)} p99 ${r.p99.toFixed(1)} ms, ${r.failures} failures${figure.note ? ` (${figure.note})` : ""}`,
    );
  };
  /** GETs of `path` (or of each worker's own) by 16 clients; a request counts when it answers 200 and its body is read. */
  const failed = new Map<string, number>();
  const measure = (
    path: (worker: number, n: number) => string,
    tokens: (worker: number) => string,
    method = "GET",
    workers = WORKERS,
  ) =>
    load({
      workers,
      seconds,
      setup: async (worker) => ({ worker, n: 0 }),
      step: async (state) => {
        const response = await fetch(`${system.url}${path(state.worker, state.n++)}`, {
          method,
          headers: { authorization: `Bearer ${tokens(state.worker)}` },
        });
        const body = await response.text();
        if (response.status !== 200) {
          const code = /"(?:code|detail|error)"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? "";
          const key = `${response.status}${code ? ` ${code}` : ""}`;
          failed.set(key, (failed.get(key) ?? 0) + 1);
        }
        return response.status === 200;
      },
    });

  // Search no cache can answer: bench/tree-corpus.ts's never-repeated word and prefix searches.
  log({
    name: "search, never repeated (word and prefix)",
    goal: { p95: 50 },
    result: await searchUnrepeated(client, technicians[0] as string, WORKERS, seconds),
    note: "",
  });

  // The lists at their first page and at the 1,000th (or their last, when shorter).
  for (const list of [
    { name: "tree list", path: "/api/v1/trees?" },
    { name: "sessions list (admin, all)", path: "/api/v1/sessions?all=true&" },
    { name: "sessions in brief (admin, all)", path: "/api/v1/sessions/summaries?all=true&" },
  ]) {
    log({
      name: `${list.name}, page 1`,
      goal: { p95: 20 },
      result: await measure(
        () => `${list.path}limit=${PAGE}`,
        () => admin,
      ),
      note: "",
    });
    const deep = await deepPage(system, list.path, admin);
    log({
      name: `${list.name}, page ${DEEP_PAGE.toLocaleString("en")} (or its last)`,
      goal: { p95: 20 },
      result: await measure(
        () => deep.path,
        () => admin,
      ),
      note: deep.note,
    });
  }

  const busiest = treeIdOf(plan.busiest);
  log({
    name: "a technician's own sessions, page 1",
    goal: { p95: 30 },
    result: await measure(
      () => `/api/v1/sessions?limit=${PAGE}`,
      (worker) => technicians[worker] as string,
    ),
    note: "16 technicians, each their own",
  });
  log({
    name: "a technician's own sessions in brief, page 1",
    goal: { p95: 30 },
    result: await measure(
      () => `/api/v1/sessions/summaries?limit=${PAGE}`,
      (worker) => technicians[worker] as string,
    ),
    note: "16 technicians, each their own",
  });
  log({
    name: "sessions by tree (the busiest), page 1",
    goal: { p95: 30 },
    result: await measure(
      () => `/api/v1/sessions?all=true&tree_id=${busiest}&limit=${PAGE}`,
      () => admin,
    ),
    note: "",
  });
  log({
    name: "sessions by outcome (escalated), page 1",
    goal: { p95: 30 },
    result: await measure(
      () => `/api/v1/sessions?all=true&outcome=escalated&limit=${PAGE}`,
      () => admin,
    ),
    note: "",
  });
  const to = new Date(plan.end - 30 * 86_400_000);
  const from = new Date(to.getTime() - 7 * 86_400_000);
  log({
    name: "sessions by time range (a week), page 1",
    goal: { p95: 30 },
    result: await measure(
      () => `/api/v1/sessions?all=true&from=${from.toISOString()}&to=${to.toISOString()}&limit=${PAGE}`,
      () => admin,
    ),
    note: "",
  });
  log({
    name: "analytics of the busiest tree",
    goal: { p95: 50 },
    result: await measure(
      () => `/api/v1/trees/${busiest}/analytics`,
      (worker) => engineers[worker] as string,
    ),
    note: `${busiestEvents(record).toLocaleString("en")} step events over its sessions`,
  });
  const long = sessionIdOf(0);
  log({
    name: "report of the 500-step session, JSON",
    goal: { p95: 50 },
    result: await measure(
      () => `/api/v1/sessions/${long}/export?format=json`,
      (worker) => engineers[worker] as string,
      "POST",
    ),
    note: "16 engineers",
  });
  log({
    name: "report of the 500-step session, PDF",
    goal: { p95: 500 },
    result: await measure(
      () => `/api/v1/sessions/${long}/export?format=pdf`,
      (worker) => engineers[worker] as string,
      "POST",
    ),
    note: "16 engineers",
  });
  const one = await measure(
    () => `/api/v1/sessions/${long}/export?format=pdf`,
    () => engineers[0] as string,
    "POST",
    1,
  );
  log({ name: "report of the 500-step session, PDF, 1 client", goal: undefined, result: one, note: "for comparison" });
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

/** The step events of the busiest tree's sessions, as loaded (the projection's entries and stays of its sessions). */
function busiestEvents(record: LoadRecord): number {
  return record.busiest_events ?? 0;
}
