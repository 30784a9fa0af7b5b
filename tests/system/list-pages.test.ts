/**
 * Lists at any depth (issue 31, docs/decisions/scale.md): the tree and session lists page by
 * cursor through `Link: <…>; rel="next"`, every row once and in order whatever is written
 * meanwhile or however many rows share a start time, with bad cursors refused as a 422 and
 * totals counted up to 10,000 (past it X-Total-Count is left out).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiResponse } from "../support/api.js";
import { engineerWithTree, queryDatabase, type SystemWithAdmin, startSystemWithAdmin } from "../support/system.js";
import { printerTree } from "../support/trees.js";

let running: SystemWithAdmin;
let engineer: string;
let treeId: string;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ engineer, treeId } = await engineerWithTree(running));
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

interface Row {
  id: string;
}

/** The next page's path from a list's `Link` header, or undefined on the last page. */
function nextOf(response: ApiResponse<unknown>): string | undefined {
  const link = response.headers.get("link");
  if (!link) return undefined;
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  if (!match?.[1]) throw new Error(`not a next link: ${link}`);
  return match[1];
}

/** Every row of a list, page by page through its Link headers, with what each page said. */
async function walk(path: string, token: string, between?: () => Promise<void>) {
  const ids: string[] = [];
  const pages: Array<ApiResponse<Row[]>> = [];
  let next: string | undefined = path;
  while (next) {
    const page: ApiResponse<Row[]> = await running.client.call<Row[]>("GET", next, { token });
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    pages.push(page);
    ids.push(...page.body.map((row) => row.id));
    next = nextOf(page);
    if (next && between) await between();
  }
  return { ids, pages };
}

const startSession = async (token: string) => {
  const started = await running.client.call<Row>("POST", "/api/v1/sessions", { token, json: { tree_id: treeId } });
  expect(started.status).toBe(201);
  return started.body.id;
};

describe("lists paged by cursor", () => {
  it("walk every tree once, in the order of one long page, through Link headers", async () => {
    for (let i = 0; i < 23; i++) {
      const made = await running.client.call("POST", "/api/v1/trees", {
        token: engineer,
        json: printerTree({ title: `Paged tree ${i}` }),
      });
      expect(made.status).toBe(201);
    }
    const whole = await running.client.call<Row[]>("GET", "/api/v1/trees?limit=100", { token: engineer });
    expect(whole.body.length).toBe(24);
    expect(nextOf(whole)).toBeUndefined();
    const { ids, pages } = await walk("/api/v1/trees?limit=5", engineer);
    expect(ids).toEqual(whole.body.map((tree) => tree.id));
    expect(pages.map((page) => page.body.length)).toEqual([5, 5, 5, 5, 4]);
    for (const page of pages) expect(page.headers.get("x-total-count")).toBe("24");
    // The next link keeps the query and says where to start.
    expect(nextOf(pages[0] as ApiResponse<Row[]>)).toMatch(/^\/api\/v1\/trees\?limit=5&cursor=[\w-]+$/);
    // A skip-based page links on by cursor too, from where it stopped.
    const skipped = await running.client.call<Row[]>("GET", "/api/v1/trees?skip=20&limit=2", { token: engineer });
    const rest = await walk(nextOf(skipped) as string, engineer);
    expect([...skipped.body.map((tree) => tree.id), ...rest.ids]).toEqual(ids.slice(20));
  });

  it("walk sessions that share one start time, every one once, whatever starts meanwhile", async () => {
    const technician = (await running.client.user("pager")).tokens.access_token;
    const before: string[] = [];
    for (let i = 0; i < 17; i++) before.push(await startSession(technician));
    // Seventeen sessions with the same started_at: only the id orders them.
    await queryDatabase(running.system.databases.sessions.url, async (sql) => {
      await sql`update sessions set started_at = '2026-12-01T10:00:00.123456Z' where id = any(${before}::uuid[])`;
    });
    const started: string[] = [];
    const { ids } = await walk("/api/v1/sessions?limit=4", technician, async () => {
      started.push(await startSession(technician));
    });
    // New sessions are newer than every page already read: none appears, none is read twice.
    expect(ids).toEqual([...before].sort());
    expect(new Set(ids).size).toBe(17);
    expect(started).toHaveLength(4);
    // An offset walk over the same writes repeats rows: what the cursor is for.
    const offsetIds: string[] = [];
    for (let skip = 0; skip < 21; skip += 4) {
      const page = await running.client.call<Row[]>("GET", `/api/v1/sessions?limit=4&skip=${skip}`, {
        token: technician,
      });
      offsetIds.push(...page.body.map((row) => row.id));
      await startSession(technician);
    }
    expect(new Set(offsetIds).size).toBeLessThan(offsetIds.length);
  });

  it("refuses cursors it did not give, and a cursor with skip, with 422 at the query", async () => {
    const first = await running.client.call<Row[]>("GET", "/api/v1/sessions?all=true&limit=1", { token: engineer });
    const cursor = new URL(nextOf(first) as string, running.system.url).searchParams.get("cursor") as string;
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const bad = [
      "not-a-cursor",
      "%00%00",
      forged(["2026-12-01T10:00:00Z", "00000000-0000-4000-8000-000000000001"]), // no microseconds
      forged(["2026-12-01T10:00:00.000000Z", "not-a-uuid"]),
      forged(["2026-13-45T10:00:00.000000Z", "00000000-0000-4000-8000-000000000001"]),
      forged({ at: "2026-12-01T10:00:00.000000Z" }),
      forged(["2026-12-01T10:00:00.000000Z", "00000000-0000-4000-8000-000000000001", "x"]),
      "A".repeat(201),
    ];
    for (const list of ["/api/v1/sessions?all=true", "/api/v1/trees?limit=50"]) {
      for (const value of bad) {
        const answer = await running.client.call<{ detail: unknown }>(
          "GET",
          `${list}&cursor=${value.startsWith("%") ? value : encodeURIComponent(value)}`,
          { token: engineer },
        );
        expect(answer.status, `${list} ${value}`).toBe(422);
        expect(JSON.stringify(answer.body.detail)).toContain('"cursor"');
      }
      const both = await running.client.call<{ detail: Array<{ loc: string[] }> }>(
        "GET",
        `${list}&skip=1&cursor=${cursor}`,
        { token: engineer },
      );
      expect(both.status).toBe(422);
      expect(both.body.detail.map((problem) => problem.loc)).toEqual([["query", "skip"]]);
    }
  });

  it("positions a page by a forged cursor, never widens it: a technician still sees only their own", async () => {
    const technician = (await running.client.user("forger")).tokens.access_token;
    const own = [await startSession(technician), await startSession(technician)];
    const othersNewest = await startSession((await running.client.user("other")).tokens.access_token);
    const forged = Buffer.from(JSON.stringify(["2999-01-01T00:00:00.000000Z", othersNewest])).toString("base64url");
    const page = await running.client.call<Row[]>("GET", `/api/v1/sessions?cursor=${forged}`, { token: technician });
    expect(page.status).toBe(200);
    expect(page.body.map((row) => row.id).sort()).toEqual([...own].sort());
  });

  it("counts up to 10,000: past it X-Total-Count is left out and the pages go on", async () => {
    const technician = (await running.client.user("busy")).tokens.access_token;
    const seed = await startSession(technician);
    // 10,050 more sessions of the organization, written as the service would have, a minute apart.
    await queryDatabase(running.system.databases.sessions.url, async (sql) => {
      await sql`
        insert into sessions
        select (jsonb_populate_record(null::sessions, to_jsonb(s) || jsonb_build_object(
          'id', gen_random_uuid(),
          'started_at', s.started_at - make_interval(mins => g),
          'updated_at', s.started_at - make_interval(mins => g)))).*
        from sessions s cross join generate_series(1, 10050) g
        where s.id = ${seed}`;
    });
    const everyone = await running.client.call<Row[]>("GET", "/api/v1/sessions?all=true&limit=100", {
      token: engineer,
    });
    expect(everyone.status).toBe(200);
    expect(everyone.headers.get("x-total-count")).toBeNull();
    expect(everyone.body).toHaveLength(100);
    expect(nextOf(everyone)).toMatch(/^\/api\/v1\/sessions\?all=true&limit=100&cursor=/);
    // The busy technician's own list counts past the cap too; a quiet one's is exact.
    const own = await running.client.call<Row[]>("GET", "/api/v1/sessions?limit=1", { token: technician });
    expect(own.headers.get("x-total-count")).toBeNull();
    const quiet = (await running.client.user("quiet")).tokens.access_token;
    await startSession(quiet);
    const quietList = await running.client.call<Row[]>("GET", "/api/v1/sessions", { token: quiet });
    expect(quietList.headers.get("x-total-count")).toBe("1");
    expect(nextOf(quietList)).toBeUndefined();
    // The 101st page by cursor ends where an offset says it should.
    let page = own;
    for (let i = 0; i < 100; i++)
      page = await running.client.call<Row[]>("GET", nextOf(page) as string, { token: technician });
    const byOffset = await running.client.call<Row[]>("GET", "/api/v1/sessions?limit=1&skip=100", {
      token: technician,
    });
    expect(page.body.map((row) => row.id)).toEqual(byOffset.body.map((row) => row.id));
  }, 120_000);
});

describe("sessions in brief (GET /api/v1/sessions/summaries)", () => {
  /** What a summary keeps of a full session, field for field. */
  const briefOf = (session: Record<string, unknown>) => {
    const { current_node, steps: _steps, notes: _notes, variables: _variables, locale: _locale, ...rest } = session;
    return { ...rest, current_node_id: (current_node as { id: string }).id };
  };

  it("list what the full list lists, in its order and pages, each session without its steps or current node", async () => {
    const technician = (await running.client.user("brief")).tokens.access_token;
    const call = <T>(method: string, path: string, json?: unknown) =>
      running.client.call<T>(method, path, { token: technician, ...(json ? { json } : {}) });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const started = await call<Row>("POST", "/api/v1/sessions", {
        tree_id: treeId,
        context: { ticket: `INC-${i}` },
      });
      ids.push(started.body.id);
    }
    // Some walked, one completed: the summaries say where each stands.
    for (const id of ids.slice(0, 3)) {
      expect(
        (await call("PUT", `/api/v1/sessions/${id}`, { op: "answer", node_id: "power", option_id: "yes" })).status,
      ).toBe(200);
    }
    expect((await call("POST", `/api/v1/sessions/${ids[0]}/complete`, { outcome: "escalated" })).status).toBe(200);

    const full = await call<Array<Record<string, unknown>>>("GET", "/api/v1/sessions?limit=100");
    const brief = await call<Array<Record<string, unknown>>>("GET", "/api/v1/sessions/summaries?limit=100");
    expect(brief.status).toBe(200);
    expect(full.body).toHaveLength(7);
    expect(brief.body).toEqual(full.body.map(briefOf));
    expect(brief.headers.get("x-total-count")).toBe("7");
    const completed = brief.body.find((session) => session.id === ids[0]);
    expect(completed).toMatchObject({ status: "completed", outcome: "escalated", current_node_id: "paper" });
    expect(completed?.completed_at).toEqual(expect.any(String));
    const fresh = brief.body.find((session) => session.id === ids[6]);
    expect(fresh).toMatchObject({ status: "in_progress", outcome: null, completed_at: null, current_node_id: "power" });
    expect(fresh?.context).toEqual({ ticket: "INC-6" });

    // Paged by cursor through its own Link headers, as the full list pages.
    const { ids: walked, pages } = await walk("/api/v1/sessions/summaries?limit=3", technician);
    expect(walked).toEqual(full.body.map((session) => session.id));
    expect(nextOf(pages[0] as ApiResponse<Row[]>)).toMatch(/^\/api\/v1\/sessions\/summaries\?limit=3&cursor=[\w-]+$/);

    // The same filters.
    for (const query of ["status=completed", "outcome=escalated", "status=in_progress", `tree_id=${treeId}`]) {
      const fullFiltered = await call<Row[]>("GET", `/api/v1/sessions?${query}`);
      const briefFiltered = await call<Row[]>("GET", `/api/v1/sessions/summaries?${query}`);
      expect(
        briefFiltered.body.map((row) => row.id),
        query,
      ).toEqual(fullFiltered.body.map((row) => row.id));
    }
  });

  it("keep to who may list what: everyone's for engineers only, and bad queries are a 422", async () => {
    const technician = (await running.client.user("brief-nosy")).tokens.access_token;
    for (const query of ["all=true", `user_id=${crypto.randomUUID()}`]) {
      const refused = await running.client.call("GET", `/api/v1/sessions/summaries?${query}`, { token: technician });
      expect(refused.status, query).toBe(403);
      expect(refused.body).toEqual({ detail: "forbidden" });
    }
    const everyone = await running.client.call<Row[]>("GET", "/api/v1/sessions/summaries?all=true&limit=5", {
      token: engineer,
    });
    expect(everyone.status).toBe(200);
    expect(everyone.body).toHaveLength(5);
    for (const query of ["cursor=not-a-cursor", "limit=101", "status=paused", "tree_id=nope", "skip=-1"]) {
      const bad = await running.client.call<{ detail: Array<{ loc: string[] }> }>(
        "GET",
        `/api/v1/sessions/summaries?all=true&${query}`,
        { token: engineer },
      );
      expect(bad.status, query).toBe(422);
      expect(bad.body.detail[0]?.loc[0]).toBe("query");
    }
    const anonymous = await running.client.call("GET", "/api/v1/sessions/summaries");
    expect(anonymous.status).toBe(401);
  });
});
