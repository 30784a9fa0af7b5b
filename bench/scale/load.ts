/**
 * The bulk loader of `npm run bench:scale` (issue 31): into a fraction's own databases
 * (`tdt_scale10_*` for 10 %), the rows the services' write paths would write for 100,000 trees ×
 * fraction, a million sessions × fraction by 2,000 technicians in two organizations, and their
 * ~10 step events each (the analytics projection), with COPY. How each row is made: rows.ts.
 *
 *   npx tsx bench/scale/load.ts 0.001      (loads tdt_scale0.1_*: the prefix names the percentage)
 *
 * The schema is the services' own: they create and migrate their databases at a first start on
 * the empty databases (and auth makes the platform admin); the loader then writes as the owner
 * (`postgres`), which the organization wall does not bind, with foreign keys and secondary
 * indexes set aside while it copies and put back as they were (their definitions read from the
 * catalog), then ANALYZE. A row in `<prefix>bench.scale_load` records the finished load.
 */
import postgres, { type Sql } from "postgres";
import { createOrganization, joinOnly } from "../../services/auth/src/organizations.js";
import { hashPassword } from "../../services/auth/src/passwords.js";
import { CopyStream, json, textArray } from "./copy.js";
import {
  people as everyPerson,
  ORGANIZATIONS,
  PASSWORD,
  type Plan,
  planOf,
  random,
  sessionTreeOf,
  stableUuid,
} from "./corpus.js";
import {
  type Directory,
  type GeneratedSession,
  generateSession,
  type LoadedTree,
  loadedTree,
  project,
} from "./rows.js";
import {
  ADMIN,
  databaseNames,
  ownerUrl,
  SERVICES_WITH_DATABASES,
  serverSql,
  startScaleSystemPatiently,
} from "./system.js";

export const prefixOf = (fraction: number) => `tdt_scale${+(fraction * 100).toFixed(3)}_`.replace(".", "_");

/** What a finished load recorded. */
export interface LoadRecord {
  fraction: number;
  plan: Plan;
  orgIds: [string, string];
  seconds: Record<string, number>;
  rows: Record<string, number>;
  bytes: Record<string, number>;
  /** The step events of the busiest tree's sessions. */
  busiest_events?: number;
  /** Session numbers the read-back check looks at, by kind. */
  samples: Record<string, number[]>;
  loaded_at: string;
}

const log = (message: string) => console.log(`[load ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The record of a finished load of `prefix`, if there is one. */
export async function finishedLoad(prefix: string): Promise<LoadRecord | undefined> {
  const names = databaseNames(prefix);
  const exists = await serverSql(
    async (sql) => (await sql`select 1 from pg_database where datname = ${names.bench}`).length > 0,
  );
  if (!exists) return undefined;
  const sql = postgres(ownerUrl(names.bench), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ record: LoadRecord }[]>`
      select record from scale_load where finished order by loaded_at desc limit 1`.catch(() => []);
    return row?.record;
  } finally {
    await sql.end();
  }
}

/** The people's ids, names and addresses (ids fixed by the corpus: the same on every load). */
export function directory(): Directory {
  const list = everyPerson();
  return new Map(
    list.map((person, i) => [
      person.key,
      { id: stableUuid(0xa11, i), email: person.email, full_name: person.full_name },
    ]),
  );
}

/** Drops and makes again the fraction's databases: only those named with its prefix. */
async function freshDatabases(prefix: string): Promise<void> {
  const names = databaseNames(prefix);
  await serverSql(async (sql) => {
    for (const name of Object.values(names)) {
      if (!name.startsWith("tdt_scale")) throw new Error(`not a scale database: ${name}`);
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.unsafe(`create database "${name}"`);
    }
  });
}

/** Runs `work` with the foreign keys and the secondary indexes of `tables` set aside, then puts them back. */
async function withoutConstraints(sql: Sql, tables: string[], work: () => Promise<void>): Promise<void> {
  const foreign = await sql<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint where contype = 'f' and conrelid::regclass::text = any(${tables})`;
  const indexes = await sql<{ name: string; definition: string }[]>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid::regclass::text = any(${tables})
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`;
  for (const fk of foreign) await sql.unsafe(`alter table ${fk.table} drop constraint "${fk.name}"`);
  for (const index of indexes) await sql.unsafe(`drop index ${index.name}`);
  await work();
  const started = performance.now();
  for (const index of indexes) await sql.unsafe(index.definition);
  for (const fk of foreign) await sql.unsafe(`alter table ${fk.table} add constraint "${fk.name}" ${fk.definition}`);
  log(
    `indexes (${indexes.length}) and foreign keys (${foreign.length}) of ${tables.join(", ")} back in ${s(started)} s`,
  );
}

const s = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

export async function load(fraction: number): Promise<LoadRecord> {
  const prefix = prefixOf(fraction);
  const names = databaseNames(prefix);
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const plan = planOf(fraction, end);
  const seconds: Record<string, number> = {};
  const rows: Record<string, number> = {};
  const began = performance.now();
  log(`fraction ${fraction}: ${plan.trees} trees, ${plan.sessions} sessions, into ${prefix}*`);

  await freshDatabases(prefix);
  // The services make their schema (and auth its platform admin) on their first start.
  let phase = performance.now();
  const first = await startScaleSystemPatiently(prefix);
  await first.stop();
  seconds.migrate = +s(phase);
  log(`schema made by the services in ${seconds.migrate} s`);

  // The loader's connections need not wait for each commit to reach the disk, and build indexes in more memory.
  const connection = { synchronous_commit: "off", maintenance_work_mem: "512MB" };
  const auth = postgres(ownerUrl(names.auth), { max: 4, onnotice: () => {} });
  const trees = postgres(ownerUrl(names.trees), { max: 8, onnotice: () => {}, connection });
  const sessions = postgres(ownerUrl(names.sessions), { max: 8, onnotice: () => {}, connection });
  const bench = postgres(ownerUrl(names.bench), { max: 1, onnotice: () => {} });
  try {
    await bench`create table scale_load (
      loaded_at timestamptz not null default now(), finished boolean not null default false, record jsonb not null)`;

    // Auth: the two organizations (auth's createOrganization, the platform admin their creator),
    // their people as an accepted invitation makes them (users row, then auth's joinOnly).
    phase = performance.now();
    const people = directory();
    const personList = everyPerson();
    const [admin] = await auth<{ id: string }[]>`select id from users where email = ${ADMIN.email}`;
    if (!admin) throw new Error("the platform admin was not made");
    const orgIds = [] as unknown as [string, string];
    for (const org of ORGANIZATIONS) orgIds.push((await createOrganization(auth, org, admin.id)).id);
    const passwordHash = await hashPassword(PASSWORD);
    for (const person of personList) {
      const entry = people.get(person.key) as { id: string; email: string; full_name: string };
      await auth.begin(async (tx) => {
        // acceptInvite's insert, with the account's fixed id.
        await tx`
          insert into users (id, email, full_name, password_hash, role, email_verified_at)
          values (${entry.id}, ${entry.email}, ${entry.full_name}, ${passwordHash}, ${person.role}, now())`;
        await joinOnly(tx, entry.id, orgIds[person.org], person.role);
      });
    }
    seconds.auth = +s(phase);
    rows.users = personList.length;
    log(`auth: 2 organizations, ${personList.length} people in ${seconds.auth} s`);

    // One pass over the trees, a block at a time: each tree's rows (trees, versions staged for their
    // vectors, history), then the sessions of the block's trees, shuffled (with a share of the
    // busiest tree's, so that its sessions are spread over the table as time spreads them), with
    // their pinned tree copies and the analytics projection of their events.
    phase = performance.now();
    await trees.unsafe(`create unlogged table scale_versions_stage (
      tree_id uuid, version integer, title text, description text, category text, tags text[], status text,
      root_node_id text, change_note text, nodes jsonb, variables jsonb, language text, translations jsonb,
      node_count integer, created_by uuid, created_at timestamptz, org_id uuid, category_tags text, node_text text)`);
    const words: [Set<string>, Set<string>] = [new Set(), new Set()];
    const busiest: number[] = [];
    const completed: number[] = [];
    const inProgress: number[] = [];
    const samples: Record<string, number[]> = { long: [0], busiest, completed, in_progress: inProgress };
    let busiestEvents = 0;
    const walled = {
      trees: ["trees", "tree_versions", "tree_history"],
      analytics: ["analytics_sessions", "analytics_entries", "analytics_stays", "analytics_handled_events"],
      sessions: ["sessions", "tree_snapshots"],
    };
    await withoutConstraints(trees, [...walled.trees, ...walled.analytics], async () => {
      await withoutConstraints(sessions, walled.sessions, async () => {
        const c = await openStreams(trees, sessions);
        // Which tree each session runs on, then the sessions of each tree (a counting sort).
        const treeOf = new Int32Array(plan.sessions);
        const perTree = new Int32Array(plan.trees + 1);
        for (let n = 0; n < plan.sessions; n++) {
          const index = sessionTreeOf(plan, n, random(n * 31 + 7));
          treeOf[n] = index;
          perTree[index + 1] = (perTree[index + 1] as number) + 1;
        }
        for (let i = 0; i < plan.trees; i++) perTree[i + 1] = (perTree[i + 1] as number) + (perTree[i] as number);
        const filled = perTree.slice(0, plan.trees);
        const byTree = new Int32Array(plan.sessions);
        for (let n = 0; n < plan.sessions; n++) {
          const index = treeOf[n] as number;
          byTree[filled[index] as number] = n;
          filled[index] = (filled[index] as number) + 1;
        }
        const sessionsOf = (index: number) => byTree.subarray(perTree[index] as number, perTree[index + 1] as number);
        const kept = new Map<number, LoadedTree>();
        for (const index of [plan.busiest, plan.longLinked, plan.longRoot])
          kept.set(index, loadedTree(plan, index, people));
        const BLOCK = 1000;
        const blocks = Math.ceil(plan.trees / BLOCK);
        const busiestAll = sessionsOf(plan.busiest);
        const pinned = new Set<string>();
        const counts = { versions: 0, steps: 0, events: 0, busiest: 0 };
        let lastLog = performance.now();
        for (let block = 0; block < blocks; block++) {
          const inBlock = new Map(kept);
          const order: number[] = [];
          for (let index = block * BLOCK; index < Math.min(plan.trees, (block + 1) * BLOCK); index++) {
            const loaded = kept.get(index) ?? loadedTree(plan, index, people);
            inBlock.set(index, loaded);
            await writeTree(c, loaded, orgIds, words, counts);
            if (index !== plan.busiest) for (const n of sessionsOf(index)) order.push(n);
          }
          const share = busiestAll.subarray(
            Math.floor((block * busiestAll.length) / blocks),
            Math.floor(((block + 1) * busiestAll.length) / blocks),
          );
          for (const n of share) order.push(n);
          shuffle(order, random(block + 1));
          const book = { get: (index: number) => inBlock.get(index) as LoadedTree };
          for (const n of order) {
            const treeIndex = treeOf[n] as number;
            const session = generateSession(plan, n, treeIndex, book, people, orgIds);
            await writeSession(c, session, pinned, counts);
            if (treeIndex === plan.busiest) counts.busiest += session.events.length;
            if (treeIndex === plan.busiest && busiest.length < 3) busiest.push(n);
            else if (n > 0 && session.row.status === "completed" && completed.length < 4) completed.push(n);
            else if (session.row.status === "in_progress" && inProgress.length < 2) inProgress.push(n);
          }
          if (performance.now() - lastLog > 15_000 || block === blocks - 1) {
            lastLog = performance.now();
            log(
              `block ${block + 1} of ${blocks}: ${c.trees.rows} trees, ${c.sessions.rows} sessions, ` +
                `${counts.events} events, ${counts.steps} steps (${s(phase)} s)`,
            );
          }
        }
        await Promise.all(Object.values(c).map((stream) => stream.end()));
        for (const [name, stream] of Object.entries(c)) rows[name] = stream.rows;
        rows.session_steps = counts.steps;
        rows.step_events = counts.events;
        busiestEvents = counts.busiest;
        seconds.generated_and_copied = +s(phase);
        log(`copied in ${seconds.generated_and_copied} s: ${JSON.stringify(rows)}`);
        const vectors = performance.now();
        // insertVersion's statement, over the staged rows: the same vectors from the same text.
        const inserted = await trees.unsafe(`
          insert into tree_versions (tree_id, version, title, description, category, tags, status, root_node_id,
            change_note, nodes, variables, language, translations, node_count, created_by, created_at, org_id,
            rank_vector, search)
          select s.tree_id, s.version, s.title, s.description, s.category, s.tags, s.status, s.root_node_id,
            s.change_note, s.nodes, s.variables, s.language, s.translations, s.node_count, s.created_by, s.created_at,
            s.org_id, described.vector, described.vector || setweight(to_tsvector('english', s.node_text), 'D')
          from scale_versions_stage s, lateral (select
            setweight(to_tsvector('english', s.title), 'A') ||
            setweight(to_tsvector('english', s.category_tags), 'B') ||
            setweight(to_tsvector('english', s.description), 'C') as vector) as described`);
        rows.tree_versions = inserted.count;
        seconds.tree_versions_vectors = +s(vectors);
        log(`tree_versions: ${inserted.count} rows with their vectors in ${seconds.tree_versions_vectors} s`);
      });
    });
    await trees.unsafe("drop table scale_versions_stage");
    for (const [org, set] of words.entries()) {
      // insertVersion's `insert into search_words … on conflict do nothing`, once per organization.
      const orgId = orgIds[org as 0 | 1];
      await trees`insert into search_words (word, org_id) select unnest(${[...set]}::text[]), ${orgId}
        on conflict do nothing`;
    }
    rows.search_words = words[0].size + words[1].size;
    seconds.trees_and_sessions = +s(phase);
    log(`trees and sessions done in ${seconds.trees_and_sessions} s (${rows.search_words} search words)`);

    // What the consumer adds to the per-tree aggregates as it writes those rows (trees migration
    // 0015, analytics_rollup_add), a slice of sessions at a time.
    phase = performance.now();
    let after = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const slice = await trees<{ session_id: string }[]>`
        select session_id from analytics_sessions where session_id > ${after} order by session_id limit 20000`;
      if (slice.length === 0) break;
      await trees`select analytics_rollup_add(${slice.map((row) => row.session_id)}::uuid[], 1)`;
      after = (slice.at(-1) as { session_id: string }).session_id;
    }
    const [rollup] = await trees<{ n: number }[]>`select count(*)::int as n from analytics_rollup`;
    rows.analytics_rollup = rollup?.n ?? 0;
    seconds.analytics_rollup = +s(phase);
    log(`analytics_rollup: ${rows.analytics_rollup} rows in ${seconds.analytics_rollup} s`);

    phase = performance.now();
    await Promise.all([auth, trees, sessions].map((sql) => sql.unsafe("vacuum analyze")));
    seconds.analyze = +s(phase);
    log(`vacuum analyze in ${seconds.analyze} s`);
    seconds.total = +s(began);
    const bytes: Record<string, number> = {};
    await serverSql(async (sql) => {
      for (const service of SERVICES_WITH_DATABASES) {
        const [row] = await sql<{ size: string }[]>`select pg_database_size(${names[service]})::text as size`;
        bytes[service] = Number(row?.size ?? 0);
      }
    });
    const record: LoadRecord = {
      fraction,
      plan,
      orgIds,
      seconds,
      rows,
      bytes,
      samples,
      busiest_events: busiestEvents,
      loaded_at: new Date().toISOString(),
    };
    await bench`insert into scale_load (finished, record) values (true, ${bench.json(record as never)})`;
    log(
      `loaded in ${seconds.total} s; databases: ${Object.entries(bytes)
        .map(([k, v]) => `${k} ${(v / 2 ** 30).toFixed(2)} GiB`)
        .join(", ")}`,
    );
    return record;
  } finally {
    await Promise.all([auth, trees, sessions, bench].map((sql) => sql.end()));
  }
}

/** The COPY streams of the one pass: into the trees database and the sessions database at once. */
async function openStreams(trees: Sql, sessions: Sql) {
  const [treeRows, stage, history, analyticsSessions, entries, stays, handled, snapshots, sessionRows] =
    await Promise.all([
      CopyStream.open(trees, "trees", [
        "id",
        "created_by",
        "created_at",
        "latest_version",
        "published_version",
        "review_required",
        "last_draft_revision",
        "org_id",
      ]),
      CopyStream.open(trees, "scale_versions_stage", [
        "tree_id",
        "version",
        "title",
        "description",
        "category",
        "tags",
        "status",
        "root_node_id",
        "change_note",
        "nodes",
        "variables",
        "language",
        "translations",
        "node_count",
        "created_by",
        "created_at",
        "org_id",
        "category_tags",
        "node_text",
      ]),
      CopyStream.open(trees, "tree_history", ["tree_id", "at", "actor", "action", "version", "note", "org_id"]),
      CopyStream.open(trees, "analytics_sessions", [
        "session_id",
        "tree_id",
        "tree_version",
        "started_at",
        "status",
        "outcome",
        "ended_at",
        "end_node_id",
        "end_node_tree_id",
        "duration_ms",
        "org_id",
      ]),
      CopyStream.open(trees, "analytics_entries", [
        "event_id",
        "session_id",
        "at",
        "node_id",
        "node_tree_id",
        "org_id",
      ]),
      CopyStream.open(trees, "analytics_stays", [
        "event_id",
        "session_id",
        "node_id",
        "node_tree_id",
        "option_id",
        "time_ms",
        "org_id",
      ]),
      CopyStream.open(trees, "analytics_handled_events", ["event_id"]),
      CopyStream.open(sessions, "tree_snapshots", ["tree_id", "version", "document", "org_id"]),
      CopyStream.open(sessions, "sessions", [
        "id",
        "user_id",
        "tree_id",
        "tree_version",
        "tree_title",
        "status",
        "outcome",
        "current_node_id",
        "steps",
        "notes",
        "context",
        "started_at",
        "updated_at",
        "completed_at",
        "revision",
        "user_name",
        "user_email",
        "pins",
        "org_id",
        "variables",
        "locale",
      ]),
    ]);
  return {
    trees: treeRows,
    stage,
    tree_history: history,
    analytics_sessions: analyticsSessions,
    analytics_entries: entries,
    analytics_stays: stays,
    analytics_handled_events: handled,
    tree_snapshots: snapshots,
    sessions: sessionRows,
  };
}
type Streams = Awaited<ReturnType<typeof openStreams>>;

/** A tree's rows: `trees` as create/replace leave it, each version staged, recordHistory's entries. */
async function writeTree(
  c: Streams,
  loaded: LoadedTree,
  orgIds: [string, string],
  words: [Set<string>, Set<string>],
  counts: { versions: number },
): Promise<void> {
  const { tree, rows: versions } = loaded;
  const org = orgIds[tree.org];
  await c.trees.row([
    tree.id,
    versions[0]?.created_by,
    new Date(tree.createdAt).toISOString(),
    versions.length,
    tree.published || null,
    false,
    0,
    org,
  ]);
  for (const row of versions) {
    await c.stage.row([
      row.tree_id,
      row.version,
      row.title,
      row.description,
      row.category,
      textArray(row.tags),
      row.status,
      row.root_node_id,
      row.change_note,
      json(row.nodes),
      json(row.variables),
      row.language,
      json(row.translations),
      row.node_count,
      row.created_by,
      row.created_at.toISOString(),
      org,
      row.category_tags,
      row.node_text,
    ]);
    // recordHistory: `created` for the first version, `updated` for each after it.
    await c.tree_history.row([
      row.tree_id,
      row.created_at.toISOString(),
      row.created_by,
      row.version === 1 ? "created" : "updated",
      row.version,
      row.change_note,
      org,
    ]);
    for (const word of row.words) words[tree.org].add(word);
    counts.versions++;
  }
}

/** A session's row, the tree copies it pinned first (once each), and its events' projection. */
async function writeSession(
  c: Streams,
  session: GeneratedSession,
  pinned: Set<string>,
  counts: { steps: number; events: number },
): Promise<void> {
  const { row } = session;
  for (const snapshot of session.snapshots) {
    const key = `${snapshot.id}@${snapshot.version}`;
    if (pinned.has(key)) continue;
    pinned.add(key);
    await c.tree_snapshots.row([snapshot.id, snapshot.version, json(snapshot), row.org_id]);
  }
  await c.sessions.row([
    row.id,
    row.user_id,
    row.tree_id,
    row.tree_version,
    row.tree_title,
    row.status,
    row.outcome,
    row.current_node_id,
    json(row.steps),
    row.notes,
    json(row.context),
    row.started_at.toISOString(),
    row.updated_at.toISOString(),
    row.completed_at,
    row.revision,
    row.user_name,
    row.user_email,
    json(row.pins),
    row.org_id,
    json(row.variables),
    row.locale,
  ]);
  counts.steps += row.steps.length;
  counts.events += session.events.length;
  const projected = project(session.events);
  const a = projected.session;
  await c.analytics_sessions.row([
    a.session_id,
    a.tree_id,
    a.tree_version,
    a.started_at.toISOString(),
    a.status,
    a.outcome,
    a.ended_at?.toISOString(),
    a.end_node_id,
    a.end_node_tree_id,
    a.duration_ms,
    row.org_id,
  ]);
  for (const e of projected.entries) {
    await c.analytics_entries.row([
      e.event_id,
      e.session_id,
      e.at.toISOString(),
      e.node_id,
      e.node_tree_id,
      row.org_id,
    ]);
  }
  for (const stay of projected.stays) {
    await c.analytics_stays.row([
      stay.event_id,
      stay.session_id,
      stay.node_id,
      stay.node_tree_id,
      stay.option_id,
      stay.time_ms,
      row.org_id,
    ]);
  }
  for (const id of projected.handled) await c.analytics_handled_events.row([id]);
}

/** Fisher–Yates with the corpus's generator. */
function shuffle(items: number[], rng: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as number, items[i] as number];
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fraction = Number(process.argv[2] ?? "0.001");
  load(fraction).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
