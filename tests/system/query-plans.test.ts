/**
 * The plans of the hot queries (issue 31, docs/decisions/scale.md, "Plans in tests"): on a trees
 * and a sessions database migrated as the services migrate them and filled, as their owner, with
 * enough rows that the planner faces large tables, each hot path is run through the services' own
 * stores as the services' roles, every statement it sends is recorded (postgres.js's `debug`), and
 * each select is explained with its own parameters in a transaction of the same organization. No
 * plan may read a large table by a sequential scan. Each path's plan (node types and indexes) is
 * printed, so a reader sees what was checked.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  appRoleOf,
  DEFAULT_ORGANIZATION_ID,
  encodeCursor,
  inOrganization,
  migrate,
  OUTBOX_MIGRATIONS,
  type Page,
  pageOf,
  shareOwnerPassword,
} from "@tdt/kit";
import { createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStore } from "../../services/sessions/src/session-store.js";
import { readAnalytics } from "../../services/trees/src/analytics.js";
import { type TreeStores, withinOrganization } from "../../services/trees/src/organization-scope.js";
import type { TreeAnnouncer } from "../../services/trees/src/tree-events.js";

const log = testLogger("query-plans");
const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/** The organization every path runs in, and a second one sharing every table with it. */
const ORG = DEFAULT_ORGANIZATION_ID;
const OTHER_ORG = "b0000000-0000-4000-8000-000000000002";

/** The tables that grow with use: a sequential scan of one on a hot path is a failure. */
const LARGE_TABLES = new Set([
  "sessions",
  "tree_versions",
  "trees",
  "analytics_sessions",
  "analytics_entries",
  "analytics_stays",
  "analytics_rollup",
  "search_words",
]);

/** Deterministic names for generated rows: the same ids, words and times on every run. */
const orgOf = (i: string) => `(case when ${i} % 2 = 0 then '${ORG}'::uuid else '${OTHER_ORG}'::uuid end)`;
const idOf = (kind: string, n: string) => `md5('${kind}-' || ${n})::uuid`;
/** A made-up word of eight letters a–p, for titles, descriptions and the typo dictionary. */
const wordOf = (n: string) => `translate(substr(md5('word-' || ${n}), 1, 8), '0123456789', 'ghijklmnop')`;
/** `wordOf(n)` as the fill spells it. */
const wordAt = (n: number) =>
  md5(`word-${n}`)
    .slice(0, 8)
    .replace(/[0-9]/g, (digit) => "ghijklmnop"[Number(digit)] ?? "");
/** `idOf(kind, n)` as the fill makes it. */
const idAt = (kind: string, n: number) =>
  md5(`${kind}-${n}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

/**
 * Sessions: 300,000 over two organizations, 2,000 technicians (1,000 each, 150 sessions apiece)
 * and 5,000 trees, one of them busy (a tenth of its organization's sessions); started 90 s apart
 * over ten months, in the order they were written. 5 % in progress, 15 % abandoned, the rest
 * completed: resolved, unresolved or escalated.
 */
const BUSY_TREE = 0;
const SESSIONS_FILL = [
  `insert into tree_snapshots (org_id, tree_id, version, document)
   select ${orgOf("i")}, ${idOf("tree", "i")}, 1, '{}'::jsonb from generate_series(0, 4999) i`,
  `insert into sessions (id, org_id, user_id, tree_id, tree_version, tree_title, status, outcome, current_node_id,
     steps, started_at, updated_at, completed_at)
   select ${idOf("session", "i")}, ${orgOf("i")}, ${idOf("user", "(k % 1000) * 2 + i % 2")}, ${idOf("tree", "t")}, 1,
     'Tree ' || t,
     case when i % 20 = 0 then 'in_progress' when i % 20 < 4 then 'abandoned' else 'completed' end,
     case when i % 20 >= 4 then (array['resolved', 'resolved', 'resolved', 'unresolved', 'escalated'])[(i / 20) % 5 + 1] end,
     'q', '[]'::jsonb, at, at, case when i % 20 >= 4 then at + interval '5 minutes' end
   from generate_series(0, 299999) i,
     lateral (select i / 2 as k, timestamptz '2026-01-01 00:00:00+00' + i * interval '90 seconds' as at) g,
     lateral (select case when i % 2 = 0 and k % 10 = 0 then ${BUSY_TREE} else (k * 7919 % 2500) * 2 + i % 2 end as t) tree`,
];

/**
 * Trees: 30,000 over two organizations, each with three versions a few days apart (the latest a
 * draft for a tenth of them, 1 % archived), titled and described with made-up words so that one
 * word matches a handful of trees; every word of theirs in the typo dictionary, with 20,000 more
 * per organization.
 */
const TREES_FILL = [
  `insert into trees (id, org_id, created_by, created_at, latest_version, published_version, deleted_at)
   select ${idOf("tree", "i")}, ${orgOf("i")}, ${idOf("author", "i % 50")},
     timestamptz '2025-01-01 00:00:00+00' + i * interval '10 minutes', 3, case when i % 10 = 0 then 2 else 3 end,
     case when i % 100 = 7 then timestamptz '2026-06-01 00:00:00+00' end
   from generate_series(0, 29999) i`,
  `insert into tree_versions (tree_id, org_id, version, title, description, category, tags, status, root_node_id,
     change_note, nodes, node_count, created_by, created_at, rank_vector, search)
   select t.id, t.org_id, v, title, description, category, tags,
     case when v = 3 and i % 10 = 0 then 'draft' else 'published' end, 'q', '',
     jsonb_build_array(jsonb_build_object('id', 'q', 'type', 'solution', 'title', 'Check', 'body', node_text,
       'outcome', 'resolved')),
     1, t.created_by, t.created_at + (v - 1) * interval '3 days', described,
     described || setweight(to_tsvector('english', 'Check ' || node_text), 'D')
   from generate_series(0, 29999) i
     join trees t on t.id = ${idOf("tree", "i")}
     cross join generate_series(1, 3) v
     cross join lateral (select
       'Fault ' || ${wordOf("i % 3000")} || ' ' || ${wordOf("(i * 7 + v) % 3000")} as title,
       'When the ' || ${wordOf("(i * 13) % 3000")} || ' stops, check the printer paper and the '
         || ${wordOf("(i * 17 + v) % 3000")} as description,
       'Category ' || i % 40 as category,
       array[${wordOf("3000 + i % 300")}, 'office'] as tags,
       'Look at the ' || ${wordOf("(i * 19) % 3000")} || ' tray; replace the ' || ${wordOf("(i * 23 + v) % 3000")}
         as node_text) texts
     cross join lateral (select
       setweight(to_tsvector('english', title), 'A') ||
       setweight(to_tsvector('english', category || ' ' || array_to_string(tags, ' ')), 'B') ||
       setweight(to_tsvector('english', description), 'C') as described) ranked
   order by t.created_at + (v - 1) * interval '3 days'`,
  `insert into search_words (org_id, word)
   select distinct org_id, word from tree_versions,
     lateral regexp_split_to_table(lower(title || ' ' || description || ' ' || category || ' '
       || array_to_string(tags, ' ') || ' ' || (nodes -> 0 ->> 'title') || ' ' || (nodes -> 0 ->> 'body')), '[^a-z0-9]+') word
   where length(word) >= 3`,
  // Analyzed whole (300 × 300 sampled rows, more than its 90,000): its estimates, and so the
  // plans that join it, are the same on every run rather than a sample's.
  "alter table tree_versions alter column tree_id set statistics 300",
  `insert into search_words (org_id, word)
   select o, ${wordOf("100000 + n")} from generate_series(1, 20000) n, unnest(array['${ORG}', '${OTHER_ORG}']::uuid[]) o
   on conflict do nothing`,
];

/**
 * The analytics projection, beside the trees (filled at the same time): 100,000 sessions over two
 * organizations, a fifth of the default organization's on the busy tree, the rest over 4,000
 * trees (about 22 each); five entries and four stays each.
 */
const ANALYTICS_FILL = [
  `insert into analytics_sessions (session_id, org_id, tree_id, tree_version, started_at, status, outcome, ended_at,
     end_node_id, duration_ms)
   select ${idOf("analytics", "i")}, ${orgOf("i")},
     ${idOf("tree", `case when i % 2 = 0 and (i / 2) % 5 = 0 then ${BUSY_TREE} else ((i / 2) * 7919 % 2000) * 2 + i % 2 end`)},
     3, timestamptz '2026-01-01 00:00:00+00' + i * interval '4 minutes',
     case when i % 10 = 0 then 'abandoned' else 'completed' end,
     case when i % 10 <> 0 then (array['resolved', 'unresolved', 'escalated'])[i % 3 + 1] end,
     timestamptz '2026-01-01 00:05:00+00' + i * interval '4 minutes', 'n' || i % 5, 300000 + i % 1000
   from generate_series(0, 99999) i`,
  `insert into analytics_entries (event_id, org_id, session_id, at, node_id)
   select ${idOf("entry", "i || '-' || j")}, ${orgOf("i")}, ${idOf("analytics", "i")},
     timestamptz '2026-01-01 00:00:00+00' + i * interval '4 minutes' + j * interval '1 minute', 'n' || j
   from generate_series(0, 99999) i, generate_series(0, 4) j`,
  `insert into analytics_stays (event_id, org_id, session_id, node_id, option_id, time_ms)
   select ${idOf("stay", "i || '-' || j")}, ${orgOf("i")}, ${idOf("analytics", "i")}, 'n' || j,
     'o' || (i + j) % 3, 60000 + (i * 7 + j) % 5000
   from generate_series(0, 99999) i, generate_series(0, 3) j`,
  // What the consumer adds to the per-tree aggregates as it writes those rows (migration 0015).
  "select analytics_rollup_add(array(select session_id from analytics_sessions), 1)",
];

/** One statement as the code sent it. */
interface Statement {
  query: string;
  parameters: unknown[];
  types: number[];
}

/** A node of `EXPLAIN (FORMAT JSON)`'s plan. */
interface PlanNode {
  "Node Type": string;
  "Function Name"?: string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Subplan Name"?: string;
  Plans?: PlanNode[];
}

interface Explained {
  statement: Statement;
  plan: PlanNode;
}

interface Service {
  database: { name: string; url: string };
  /** The owner's connection: migrations and the fill. */
  owner: Sql;
  /** The service's role, every statement recorded while `recording` is set. */
  app: Sql;
  /** The service's role, unrecorded: what explains. */
  explainer: Sql;
}

let recording: Statement[] | undefined;
let trees: Service;
let sessions: Service;
const cleanups: Array<() => Promise<unknown>> = [];

/** A fresh database migrated as `runService` migrates it, and connections to it as its owner and as its role. */
async function serviceDatabase(name: "trees" | "sessions"): Promise<Service> {
  const database = await createDatabase(`plans_${name}`);
  cleanups.push(() => dropDatabase(database.name));
  // Two: the trees database is filled by two statements at once.
  const owner = postgres(database.url, { max: 2, onnotice: () => {} });
  cleanups.push(() => owner.end());
  const role = appRoleOf(name);
  const migrations = fileURLToPath(new URL(`../../services/${name}/migrations`, import.meta.url));
  await migrate(owner, migrations, log, OUTBOX_MIGRATIONS, async (connection) => {
    await shareOwnerPassword(connection, role, database.url);
  });
  const asRole = new URL(database.url);
  asRole.username = role;
  const app = postgres(asRole.toString(), {
    max: 2,
    onnotice: () => {},
    debug: (_connection, query, parameters, types) => {
      recording?.push({ query, parameters: [...parameters], types: [...types] });
    },
  });
  const explainer = postgres(asRole.toString(), { max: 1, onnotice: () => {} });
  cleanups.push(
    () => app.end(),
    () => explainer.end(),
  );
  return { database, owner, app, explainer };
}

async function fill(service: Service, statements: string[]) {
  for (const statement of statements) await service.owner.unsafe(statement);
}

beforeAll(async () => {
  const started = Date.now();
  [trees, sessions] = await Promise.all([serviceDatabase("trees"), serviceDatabase("sessions")]);
  const migrated = Date.now();
  await Promise.all([fill(trees, TREES_FILL), fill(trees, ANALYTICS_FILL), fill(sessions, SESSIONS_FILL)]);
  await Promise.all([trees.owner`vacuum analyze`, sessions.owner`vacuum analyze`]);
  const seconds = (from: number, to = Date.now()) => `${((to - from) / 1000).toFixed(1)} s`;
  console.log(`migrated in ${seconds(started, migrated)}, filled and analyzed in ${seconds(migrated)}`);
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The statements `work` sends. */
async function recorded(work: () => Promise<unknown>): Promise<Statement[]> {
  recording = [];
  try {
    await work();
    return recording;
  } finally {
    recording = undefined;
  }
}

/**
 * The code's reads, as opposed to the transaction's own statements (begin, the organization's
 * setting) and postgres.js's look-up of array types on a new connection.
 */
const isRead = (statement: Statement) =>
  /^\s*(select|with)\b/i.test(statement.query) &&
  !/^\s*select set_config\(/i.test(statement.query) &&
  !/\bfrom pg_catalog\.pg_type\b/i.test(statement.query);

/** The plan `service`'s role gets for `statement`, with its parameters, in a transaction of `org`. */
async function explain(service: Service, org: string, statement: Statement): Promise<PlanNode> {
  const { explainer } = service;
  const parameters = statement.parameters.map((value, index) => {
    const type = statement.types[index] ?? 0;
    return type === 0 ? value : explainer.typed(value, type);
  });
  return explainer.begin(async (tx) => {
    await tx`select set_config('app.org_id', ${org}, true)`;
    const [row] = await tx.unsafe(`explain (format json) ${statement.query}`, parameters as never[]);
    const output = (row as Record<string, unknown>)["QUERY PLAN"];
    const parsed = (typeof output === "string" ? JSON.parse(output) : output) as Array<{ Plan: PlanNode }>;
    return (parsed[0] as { Plan: PlanNode }).Plan;
  });
}

/**
 * The reads that run as the owner inside security-definer functions (trees migration 0014: the
 * wall would keep their operators from their indexes), whose plans EXPLAIN does not show.
 */
const DEFINER_FUNCTIONS = new Set(["tree_versions_matching", "search_words_corrected"]);

/**
 * The plans of the statements a read's definer functions run: the read is run as the owner in a
 * transaction of `org` with auto_explain logging nested statements to this client.
 */
async function nestedPlans(service: Service, org: string, statement: Statement): Promise<Explained[]> {
  const notices: string[] = [];
  const watcher = postgres(service.database.url, { max: 1, onnotice: (notice) => notices.push(notice.message) });
  try {
    const parameters = statement.parameters.map((value, index) => {
      const type = statement.types[index] ?? 0;
      return type === 0 ? value : watcher.typed(value, type);
    });
    await watcher.begin(async (tx) => {
      await tx.unsafe("load 'auto_explain'");
      await tx.unsafe("set local auto_explain.log_min_duration = 0");
      await tx.unsafe("set local auto_explain.log_nested_statements = on");
      await tx.unsafe("set local auto_explain.log_format = 'json'");
      await tx.unsafe("set local client_min_messages = log");
      await tx`select set_config('app.org_id', ${org}, true)`;
      await tx.unsafe(statement.query, parameters as never[]);
    });
  } finally {
    await watcher.end();
  }
  return notices.flatMap((message) => {
    const start = message.indexOf("{");
    if (start < 0) return [];
    const logged = JSON.parse(message.slice(start)) as { "Query Text": string; Plan: PlanNode };
    if (logged["Query Text"].trim() === statement.query.trim()) return [];
    return [{ statement: { query: logged["Query Text"], parameters: [], types: [] }, plan: logged.Plan }];
  });
}

/** Every node of a plan, depth first, with its depth. */
function nodesOf(plan: PlanNode, depth = 0): Array<{ node: PlanNode; depth: number }> {
  return [{ node: plan, depth }, ...(plan.Plans ?? []).flatMap((child) => nodesOf(child, depth + 1))];
}

/** The sequential scans of large tables in a plan. */
function seqScansOf(plan: PlanNode): string[] {
  return nodesOf(plan)
    .map(({ node }) => node)
    .filter((node) => node["Node Type"] === "Seq Scan" && LARGE_TABLES.has(node["Relation Name"] ?? ""))
    .map((node) => `Seq Scan on ${node["Relation Name"]}`);
}

/** A plan as lines: each node's type, and the index or table it reads. */
function planLines(plan: PlanNode): string[] {
  return nodesOf(plan).map(({ node, depth }) => {
    const on = node["Index Name"]
      ? ` using ${node["Index Name"]}${node["Relation Name"] ? ` on ${node["Relation Name"]}` : ""}`
      : node["Relation Name"]
        ? ` on ${node["Relation Name"]}`
        : "";
    const role = node["Subplan Name"] ? ` [${node["Subplan Name"]}]` : "";
    return `${"  ".repeat(depth + 2)}${node["Node Type"]}${on}${role}`;
  });
}

const oneLine = (query: string) => query.replace(/\s+/g, " ").trim();

/**
 * Runs `work` (a hot path through the service's own code) recording what it sends, explains each
 * read it sent, prints the plans, and answers the sequential scans of large tables in them.
 */
async function seqScansOfPath(service: Service, org: string, path: string, work: () => Promise<unknown>) {
  const reads = (await recorded(work)).filter(isRead);
  expect(reads.length, `${path}: no select was sent`).toBeGreaterThan(0);
  const explained: Explained[] = [];
  for (const statement of reads) {
    const plan = await explain(service, org, statement);
    explained.push({ statement, plan });
    const callsDefiner = nodesOf(plan).some(({ node }) => DEFINER_FUNCTIONS.has(node["Function Name"] ?? ""));
    if (callsDefiner) {
      const nested = await nestedPlans(service, org, statement);
      expect(nested.length, `${path}: the definer function's own statement was not seen`).toBeGreaterThan(0);
      explained.push(...nested);
    }
  }
  const lines = [`${path}:`];
  for (const { statement, plan } of explained) {
    lines.push(`  ${oneLine(statement.query).slice(0, 150)}`, ...planLines(plan));
  }
  console.log(lines.join("\n"));
  return explained.flatMap(({ statement, plan }) =>
    seqScansOf(plan).map((scan) => `${scan} in: ${oneLine(statement.query)}`),
  );
}

/** Fails when a plan of the path reads a large table by a sequential scan. */
async function checkPath(service: Service, org: string, path: string, work: () => Promise<unknown>) {
  const found = await seqScansOfPath(service, org, path, work);
  expect(found, `${path}: sequential scans of large tables`).toEqual([]);
}

const announcer: TreeAnnouncer = {
  record: async () => {
    throw new Error("a read path announced a change");
  },
  publish: async () => {},
};

/** `work` with the trees service's stores of `org`, in one transaction of it, as a call runs. */
const withTrees = <T>(work: (stores: TreeStores) => Promise<T>, org = ORG) =>
  withinOrganization(trees.app, announcer)(org, work);

const sessionStore = (org = ORG) => new SessionStore(sessions.app).of(org);

/** A page of the default size, as a request without skip, limit or cursor asks. */
const firstPage = (): Page => pageOf({ limit: 0 });

/** The cursor of the row `offset` rows into `from`'s newest-first order, as a page would have given it. */
async function cursorInto(owner: Sql, from: string, time: string, id: string, where: string, offset: number) {
  const [row] = await owner.unsafe<{ at: string; id: string }[]>(
    `select to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, ${id}::text as id
     from ${from} where ${where} order by ${time} desc, ${id} offset ${offset} limit 1`,
  );
  if (!row) throw new Error(`no row ${offset} into ${from}`);
  return encodeCursor(row);
}

const userId = (n: number) => idAt("user", n);
const treeId = (n: number) => idAt("tree", n);

describe("the plans of the sessions service's hot queries", () => {
  // A technician of the default organization (even numbers are its).
  const technician = userId(42);

  it("a technician's own sessions", async () => {
    await checkPath(sessions, ORG, "sessions: own (user_id)", () =>
      sessionStore().list({ userId: technician }, firstPage(), "full"),
    );
  });

  it("a technician's own sessions, the next page by cursor", async () => {
    const first = await sessionStore().list({ userId: technician }, pageOf({ limit: 20 }), "full");
    expect(first.nextCursor).not.toBe("");
    await checkPath(sessions, ORG, "sessions: own (user_id), page by cursor", () =>
      sessionStore().list({ userId: technician }, pageOf({ limit: 20, cursor: first.nextCursor }), "full"),
    );
  });

  it("all sessions of the organization", async () => {
    await checkPath(sessions, ORG, "sessions: all", () => sessionStore().list({}, firstPage(), "full"));
  });

  it("all sessions of the organization in brief, a page deep in the list", async () => {
    const cursor = await cursorInto(sessions.owner, "sessions", "started_at", "id", `org_id = '${ORG}'`, 100_000);
    await checkPath(sessions, ORG, "sessions: all in brief, page by cursor 100,000 rows in", () =>
      sessionStore().list({}, pageOf({ limit: 50, cursor }), "brief"),
    );
  });

  it("all sessions, a page by cursor deep in the list", async () => {
    const cursor = await cursorInto(sessions.owner, "sessions", "started_at", "id", `org_id = '${ORG}'`, 100_000);
    await checkPath(sessions, ORG, "sessions: all, page by cursor 100,000 rows in", () =>
      sessionStore().list({}, pageOf({ limit: 50, cursor }), "full"),
    );
  });

  it("the sessions through the busy tree", async () => {
    await checkPath(sessions, ORG, "sessions: by tree_id (busy tree, 15,000 sessions)", () =>
      sessionStore().list({ treeId: treeId(BUSY_TREE) }, firstPage(), "full"),
    );
  });

  it("the sessions through a tree", async () => {
    await checkPath(sessions, ORG, "sessions: by tree_id (a tree of 60 sessions)", () =>
      sessionStore().list({ treeId: treeId(42) }, firstPage(), "full"),
    );
  });

  it("the sessions by outcome", async () => {
    await checkPath(sessions, ORG, "sessions: by outcome (escalated)", () =>
      sessionStore().list({ outcome: "escalated" }, firstPage(), "full"),
    );
  });

  it("the sessions started in a week", async () => {
    await checkPath(sessions, ORG, "sessions: by from/to (one week)", () =>
      sessionStore().list(
        { from: new Date("2026-05-04T00:00:00Z"), to: new Date("2026-05-11T00:00:00Z") },
        firstPage(),
        "full",
      ),
    );
  });
});

describe("the plans of the trees service's hot queries", () => {
  it("the tree list, as authors see it", async () => {
    await checkPath(trees, ORG, "trees: list (authors)", () =>
      withTrees(({ store }) => store.list("authors", {}, firstPage())),
    );
  });

  it("the tree list, as technicians see it", async () => {
    await checkPath(trees, ORG, "trees: list (technicians)", () =>
      withTrees(({ store }) => store.list("technicians", {}, firstPage())),
    );
  });

  it("the tree list, a page by cursor deep in it", async () => {
    const cursor = await cursorInto(
      trees.owner,
      "trees t join tree_versions v on v.tree_id = t.id and v.version = t.published_version",
      "v.created_at",
      "v.tree_id",
      `t.org_id = '${ORG}' and t.deleted_at is null`,
      10_000,
    );
    await checkPath(trees, ORG, "trees: list (technicians), page by cursor 10,000 rows in", () =>
      withTrees(({ store }) => store.list("technicians", {}, pageOf({ limit: 50, cursor }))),
    );
  });

  it("search for a word", async () => {
    await checkPath(trees, ORG, `trees: search "${wordAt(42)}" (technicians)`, () =>
      withTrees(({ store }) => store.search("technicians", wordAt(42), 20)),
    );
  });

  it("search for two words, the last one being typed", async () => {
    const query = `printer ${wordAt(42).slice(0, 5)}`;
    await checkPath(trees, ORG, `trees: search "${query}" (authors)`, () =>
      withTrees(({ store }) => store.search("authors", query, 20)),
    );
  });

  it("search finds its matches within the caller's organization in the index, never among every organization's", async () => {
    // "printer" is in every version of both organizations (the fill's descriptions).
    const reads = (await recorded(() => withTrees(({ store }) => store.search("technicians", "printer", 20)))).filter(
      isRead,
    );
    const matching = reads.find((statement) => statement.query.includes("tree_versions_matching"));
    expect(matching, "the search's matching statement").toBeDefined();
    const nested = await nestedPlans(trees, ORG, matching as Statement);
    const scans = nested
      .flatMap(({ plan }) => nodesOf(plan).map(({ node }) => node))
      .filter((node) => (node["Index Cond"] ?? "").includes("search @@"));
    expect(
      scans.map((node) => node["Index Name"]),
      "the full-text index scans of the matching",
    ).toEqual(["tree_versions_org_search"]);
    // The organization is a condition of the index scan, not a filter of what it found.
    expect(scans[0]?.["Index Cond"]).toMatch(/org_id = /);
  });

  it("search with a typo", async () => {
    const word = wordAt(42);
    const typo = `${word.slice(0, 3)}${word[4]}${word[3]}${word.slice(5)}`;
    await checkPath(trees, ORG, `trees: search "${typo}" (a typo of ${word})`, () =>
      withTrees(({ store }) => store.search("technicians", `${typo} tray`, 20)),
    );
  });

  it("the analytics of the busy tree (10,000 sessions, 90,000 entries and stays): from its aggregates", async () => {
    await checkPath(trees, ORG, "trees: analytics (the busy tree)", () =>
      withTrees(async ({ store, sql }) => {
        expect(await store.versions(treeId(BUSY_TREE))).toBeDefined();
        const answer = await readAnalytics(sql, { treeId: treeId(BUSY_TREE) });
        expect(answer.sessions?.started).toBe(10_000);
        return answer;
      }),
    );
  });

  it("the analytics of a tree", async () => {
    await checkPath(trees, ORG, "trees: analytics (a tree of 25 sessions)", () =>
      withTrees(async ({ store, sql }) => {
        expect(await store.versions(treeId(42))).toBeDefined();
        return readAnalytics(sql, { treeId: treeId(42) });
      }),
    );
  });

  it("the analytics of a tree, one version, over a month", async () => {
    await checkPath(trees, ORG, "trees: analytics (a tree of 25 sessions, version 3, one month: 2 of them)", () =>
      withTrees(async ({ store, sql }) => {
        expect(await store.versions(treeId(42))).toBeDefined();
        return readAnalytics(sql, {
          treeId: treeId(42),
          version: 3,
          from: new Date("2026-02-01T00:00:00Z"),
          to: new Date("2026-03-01T00:00:00Z"),
        });
      }),
    );
  });
});

describe("the plan checker", () => {
  it("finds a sequential scan of a large table", async () => {
    const unindexed = () =>
      inOrganization(sessions.app, ORG, (tx) => tx`select id from sessions where notes = ${"x"} limit 50`);
    expect(await seqScansOfPath(sessions, ORG, "control: sessions by notes (no index)", unindexed)).toEqual([
      "Seq Scan on sessions in: select id from sessions where notes = $1 limit 50",
    ]);
  });
});
