/**
 * The read-back check of a load (issue 31: "checked by reading a sample back through the API").
 * With the real system running on the loaded databases:
 * - a handful of trees and sessions of each kind are read through the gateway and compared with
 *   what the corpus says was loaded (made again from its indexes: the corpus is deterministic);
 * - one tree (with all its versions) and two sessions (an ordinary one, and the 500-step one
 *   that runs through a linked tree) are sent again through the real write path (POST/PUT the
 *   tree, start the session as its technician and send the same steps), and the write path's
 *   documents and rows are compared with the loaded ones field by field, ids and times aside:
 *   tree_versions (search vectors included), tree_history, tree_snapshots, sessions, and the
 *   analytics projection the consumer writes from the events;
 * - the busiest tree's analytics and the lists' totals agree with the loaded rows;
 * - another organization's engineer is told the loaded tree does not exist (the wall holds).
 * Any difference throws, naming each one.
 */
import postgres from "postgres";
import { type CorpusTree, corpusTree, PASSWORD, type Plan, random, sessionTreeOf } from "./corpus.js";
import type { LoadRecord } from "./load.js";
import { directory } from "./load.js";
import { type GeneratedSession, generateSession, type LoadedTree, loadedTree } from "./rows.js";
import { databaseNames, ownerUrl, type ScaleSystem } from "./system.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every difference between `a` and `b`, by path, but under keys in `ignore`. */
export function differences(a: unknown, b: unknown, ignore: ReadonlySet<string>, path = "$"): string[] {
  if (Object.is(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    if (a.length !== b.length) out.push(`${path}: ${a.length} items against ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      out.push(...differences(a[i], b[i], ignore, `${path}[${i}]`));
    return out;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const out: string[] = [];
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (ignore.has(key)) continue;
      out.push(
        ...differences(
          (a as Record<string, unknown>)[key],
          (b as Record<string, unknown>)[key],
          ignore,
          `${path}.${key}`,
        ),
      );
    }
    return out;
  }
  return [`${path}: ${JSON.stringify(a)?.slice(0, 200)} against ${JSON.stringify(b)?.slice(0, 200)}`];
}

const TIMES = ["created_at", "updated_at", "started_at", "completed_at", "entered_at", "left_at", "duration_ms"];

class Problems {
  readonly list: string[] = [];
  passed = 0;
  expect(what: string, found: string[]): void {
    if (found.length === 0) this.passed++;
    else
      this.list.push(
        `${what}:\n    ${found.slice(0, 12).join("\n    ")}${found.length > 12 ? `\n    … ${found.length - 12} more` : ""}`,
      );
  }
  equal(what: string, a: unknown, b: unknown): void {
    this.expect(what, differences(a, b, new Set()));
  }
}

/** A tree input as an author sends it over HTTP: each node with the fields of its type. */
function authored(input: LoadedTree["tree"]["versions"][number]["input"]) {
  return {
    title: input.title,
    description: input.description,
    category: input.category,
    tags: input.tags,
    status: input.status,
    root_node_id: input.root_node_id,
    change_note: input.change_note,
    nodes: input.nodes.map((node) => ({
      id: node.id,
      type: node.type,
      title: node.title,
      body: node.body,
      ...(node.type === "question" ? { options: node.options } : {}),
      ...(node.next ? { next: node.next } : {}),
      ...(node.outcome ? { outcome: node.outcome } : {}),
      ...(node.tree_id ? { tree_id: node.tree_id } : {}),
    })),
  };
}

export async function checkLoad(system: ScaleSystem, record: LoadRecord, prefix: string): Promise<string> {
  const started = performance.now();
  const { client } = system;
  const plan: Plan = record.plan;
  const people = directory();
  const byId = new Map([...people.values()].map((person) => [person.id, person]));
  const problems = new Problems();
  const names = databaseNames(prefix);
  const trees = postgres(ownerUrl(names.trees), { max: 2, onnotice: () => {} });
  const sessions = postgres(ownerUrl(names.sessions), { max: 2, onnotice: () => {} });
  const tokens = new Map<string, string>();
  const tokenOf = async (email: string) => {
    let token = tokens.get(email);
    if (!token) {
      token = (await client.login(email, PASSWORD)).access_token;
      tokens.set(email, token);
    }
    return token;
  };
  const personOf = (key: string) => people.get(key) as { id: string; email: string; full_name: string };
  const get = async <T = Record<string, Json>>(path: string, token: string) => {
    const answer = await client.call<T>("GET", path, { token });
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };
  try {
    // Trees of each kind, read as an engineer (the latest version) and a technician (the published one).
    // The busiest, the linked pair, three ordinary ones, and one of each kind not yet among them:
    // a tree whose last version is a draft, one of the second organization, one of over 120 nodes.
    const sampleTrees = new Set([plan.busiest, plan.longRoot, plan.longLinked, 3, 4, 5]);
    const kinds = { draft: false, beta: false, large: false };
    for (const index of sampleTrees) noteKinds(loadedTree(plan, index, people).tree, kinds);
    for (let index = 6; index < plan.trees && !(kinds.draft && kinds.beta && kinds.large); index++) {
      const tree = corpusTree(plan, index);
      const before = { ...kinds };
      noteKinds(tree, kinds);
      if (before.draft !== kinds.draft || before.beta !== kinds.beta || before.large !== kinds.large) {
        sampleTrees.add(index);
      }
    }
    for (const index of sampleTrees) {
      const loaded = loadedTree(plan, index, people);
      const { tree } = loaded;
      const orgName = tree.org === 0 ? "alpha" : "beta";
      const engineer = await tokenOf(`engineer0@${orgName}.scale.example`);
      const technician = await tokenOf(`tech0@${orgName}.scale.example`);
      const latest = loaded.rows[loaded.rows.length - 1] as LoadedTree["rows"][number];
      const asAuthor = (await get<Record<string, Json>>(`/api/v1/trees/${tree.id}`, engineer)).body;
      const expected = {
        id: tree.id,
        title: latest.title,
        description: latest.description,
        category: latest.category,
        tags: latest.tags,
        status: latest.status,
        version: latest.version,
        root_node_id: latest.root_node_id,
        change_note: latest.change_note,
        created_by: personOf(tree.author).id,
        created_at: new Date(tree.createdAt).toISOString(),
        updated_at: latest.created_at.toISOString(),
        node_ids: latest.nodes.map((node) => `${node.id}:${node.type}:${node.next ?? ""}:${node.outcome ?? ""}`),
        bodies: latest.nodes.map((node) => `${node.title}|${node.body}`),
      };
      const nodes = asAuthor.nodes as Array<Record<string, string>>;
      problems.equal(`tree ${index} as its engineer reads it`, expected, {
        id: asAuthor.id,
        title: asAuthor.title,
        description: asAuthor.description,
        category: asAuthor.category,
        tags: asAuthor.tags,
        status: asAuthor.status,
        version: asAuthor.version,
        root_node_id: asAuthor.root_node_id,
        change_note: asAuthor.change_note,
        created_by: asAuthor.created_by,
        created_at: new Date(String(asAuthor.created_at)).toISOString(),
        updated_at: new Date(String(asAuthor.updated_at)).toISOString(),
        node_ids: nodes.map((node) => `${node.id}:${node.type}:${node.next ?? ""}:${node.outcome ?? ""}`),
        bodies: nodes.map((node) => `${node.title}|${node.body}`),
      });
      const asTechnician = (await get<Record<string, Json>>(`/api/v1/trees/${tree.id}`, technician)).body;
      problems.equal(`tree ${index}: the version a technician sees`, asTechnician.version, tree.published);
      const versions = (await get<Array<Record<string, Json>>>(`/api/v1/trees/${tree.id}/versions`, engineer)).body;
      problems.equal(`tree ${index}: its versions`, versions.length, loaded.rows.length);
      const other = await tokenOf(`engineer0@${tree.org === 0 ? "beta" : "alpha"}.scale.example`);
      const walled = await client.call("GET", `/api/v1/trees/${tree.id}`, { token: other });
      problems.equal(`tree ${index}: another organization's engineer`, walled.status, 404);
    }

    // Search finds the long walkthrough by a word of its title, the prefix of another.
    const alphaEngineer = await tokenOf("engineer0@alpha.scale.example");
    const found = (await get<Array<{ id: string }>>("/api/v1/trees/search?q=fleet%20walkth", alphaEngineer)).body;
    problems.equal(
      "search for 'fleet walkth' finds the long walkthrough",
      found.some((hit) => hit.id === loadedTree(plan, plan.longRoot, people).tree.id),
      true,
    );

    // Sessions of each kind, read by their organization's admin, against the engine's states.
    const alphaAdmin = await tokenOf("admin0@alpha.scale.example");
    const betaAdmin = await tokenOf("admin0@beta.scale.example");
    const book = { get: (index: number) => loadedTree(plan, index, people) };
    const regenerate = (n: number) =>
      generateSession(plan, n, sessionTreeOf(plan, n, random(n * 31 + 7)), book, people, record.orgIds);
    const sampled = Object.entries(record.samples).flatMap(([kind, ns]) => ns.map((n) => ({ kind, n })));
    const generated = new Map<number, GeneratedSession>();
    for (const { kind, n } of sampled) {
      const session = regenerate(n);
      generated.set(n, session);
      const admin = session.row.org_id === record.orgIds[0] ? alphaAdmin : betaAdmin;
      const read = (await get<Record<string, Json>>(`/api/v1/sessions/${session.row.id}`, admin)).body;
      const steps = read.steps as Array<Record<string, Json>>;
      const row = session.row;
      problems.equal(
        `session ${n} (${kind}) as its admin reads it`,
        {
          id: row.id,
          tree_id: row.tree_id,
          tree_version: row.tree_version,
          tree_title: row.tree_title,
          user_id: row.user_id,
          status: row.status,
          outcome: row.outcome,
          current_node: row.current_node_id,
          notes: row.notes,
          context: row.context,
          started_at: row.started_at.toISOString(),
          updated_at: row.updated_at.toISOString(),
          completed_at: row.completed_at,
          user_name: row.user_name,
          user_email: row.user_email,
          locale: row.locale,
          steps: row.steps.map((step) => ({
            seq: step.seq,
            node_id: step.node_id,
            node_title: step.node_title,
            option_id: step.option_id,
            option_label: step.option_label,
            note: step.note,
            entered_at: step.entered_at,
            left_at: step.left_at || null,
            duration_ms: step.duration_ms,
            tree_id: step.tree_id ?? row.tree_id,
            outcome: step.outcome ?? null,
          })),
        },
        {
          id: read.id,
          tree_id: read.tree_id,
          tree_version: read.tree_version,
          tree_title: read.tree_title,
          user_id: read.user_id,
          status: read.status,
          outcome: read.outcome,
          current_node: (read.current_node as Record<string, Json>).id,
          notes: read.notes,
          context: read.context,
          started_at: new Date(String(read.started_at)).toISOString(),
          updated_at: new Date(String(read.updated_at)).toISOString(),
          completed_at: read.completed_at === null ? null : new Date(String(read.completed_at)).toISOString(),
          user_name: read.user_name,
          user_email: read.user_email,
          locale: read.locale,
          steps: steps.map((step) => ({
            seq: step.seq,
            node_id: step.node_id,
            node_title: step.node_title,
            option_id: step.option_id,
            option_label: step.option_label,
            note: step.note,
            entered_at: new Date(String(step.entered_at)).toISOString(),
            left_at: step.left_at === null ? null : new Date(String(step.left_at)).toISOString(),
            duration_ms: step.duration_ms,
            tree_id: step.tree_id,
            outcome: step.outcome ?? null,
          })),
        },
      );
    }

    // The write path, for one tree with every version, the sessions on it, and the long session.
    const ordinary =
      [...generated.values()].find(
        (session) =>
          session.row.status === "completed" &&
          session.row.tree_id !== loadedTree(plan, plan.busiest, people).tree.id &&
          session.ops.some((op) => op.op.op === "back" || op.op.op === "answer"),
      ) ?? generated.get(record.samples.completed?.[0] ?? -1);
    if (!ordinary) throw new Error("no completed session among the samples");
    for (const original of [ordinary, generated.get(0) as GeneratedSession]) {
      const n = nOf(generated, original);
      const treeIndex = sessionTreeOf(plan, n, random(n * 31 + 7));
      const loaded = loadedTree(plan, treeIndex, people);
      const authorKey = loaded.tree.author;
      const author = await tokenOf(personOf(authorKey).email);
      // The tree again, version by version up to the one the session ran on, by the same authors.
      let copyId = "";
      for (let v = 1; v <= original.row.tree_version; v++) {
        const version = loaded.tree.versions[v - 1] as LoadedTree["tree"]["versions"][number];
        const token = await tokenOf(personOf(version.author).email);
        const answer =
          v === 1
            ? await client.call<{ id: string }>("POST", "/api/v1/trees", { token, json: authored(version.input) })
            : await client.call<{ id: string }>("PUT", `/api/v1/trees/${copyId}`, {
                token,
                json: { ...authored(version.input), version: v - 1 },
              });
        if (answer.status !== 201 && answer.status !== 200) {
          throw new Error(`the write path refused version ${v}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        copyId = answer.body.id;
      }
      const ignore = new Set(["id", ...TIMES]);
      const loadedDoc = (await get(`/api/v1/trees/${loaded.tree.id}?version=${original.row.tree_version}`, author))
        .body;
      const copyDoc = (await get(`/api/v1/trees/${copyId}`, author)).body;
      problems.expect(
        `tree ${treeIndex}: loaded against written through the API`,
        differences(loadedDoc, copyDoc, ignore),
      );
      const versionRows = await trees.unsafe(
        `select tree_id = $1 as loaded, version, title, description, category, tags, status, root_node_id, change_note,
           nodes, variables, language, translations, node_count, created_by, search::text as search,
           rank_vector::text as rank_vector, org_id
         from tree_versions where tree_id in ($1, $2) and version <= $3 order by version, loaded`,
        [loaded.tree.id, copyId, original.row.tree_version],
      );
      for (let i = 0; i + 1 < versionRows.length; i += 2) {
        const [written, loadedRow] = [versionRows[i], versionRows[i + 1]];
        problems.expect(
          `tree_versions row ${treeIndex} v${loadedRow?.version}: loaded against written`,
          differences(loadedRow, written, new Set(["loaded"])),
        );
      }
      const history = await trees.unsafe(
        `select tree_id = $1 as loaded, action, version, note, actor, org_id from tree_history
         where tree_id in ($1, $2) and version <= $3 order by loaded, id`,
        [loaded.tree.id, copyId, original.row.tree_version],
      );
      const half = history.length / 2;
      problems.expect(
        `tree_history of ${treeIndex}: loaded against written`,
        differences(history.slice(half), history.slice(0, half), new Set(["loaded"])),
      );
      const words = await trees.unsafe(
        `select count(*)::int as missing from (select unnest($1::text[]) as word) w
         where not exists (select 1 from search_words s where s.word = w.word and s.org_id = $2)`,
        [loaded.rows.flatMap((row) => row.words), original.row.org_id],
      );
      problems.equal(`search_words of ${treeIndex}`, words[0]?.missing, 0);

      // The session again on the copy, by its technician, with the same steps.
      const technician = byId.get(original.row.user_id);
      if (!technician) throw new Error("unknown technician");
      const token = await tokenOf(technician.email);
      const start = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
        token,
        json: { tree_id: copyId, context: original.row.context },
      });
      if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
      const copySession = start.body.id;
      for (const { op } of original.ops) {
        const answer =
          op.op === "complete"
            ? await client.call("POST", `/api/v1/sessions/${copySession}/complete`, {
                token,
                json: {
                  ...("outcome" in op && op.outcome ? { outcome: op.outcome } : {}),
                  ...("notes" in op && op.notes ? { notes: op.notes } : {}),
                },
              })
            : await client.call("PUT", `/api/v1/sessions/${copySession}`, { token, json: op });
        if (answer.status !== 200) throw new Error(`${op.op}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      const sessionIgnore = new Set([...ignore, "tree_id"]);
      const loadedSession = (await get(`/api/v1/sessions/${original.row.id}`, token)).body;
      const copySessionDoc = (await get(`/api/v1/sessions/${copySession}`, token)).body;
      const what = original.row.steps.length > 400 ? "the 500-step session" : "a session";
      problems.expect(
        `${what} (${original.row.steps.length} steps): loaded against run through the API`,
        differences(
          { ...loadedSession, tree_id: "", steps: stepsWithoutOwnTree(loadedSession, loaded.tree.id) },
          { ...copySessionDoc, tree_id: "", steps: stepsWithoutOwnTree(copySessionDoc, copyId) },
          sessionIgnore,
        ),
      );
      const sessionRows = await sessions.unsafe(
        `select id = $1 as loaded, user_id, tree_version, tree_title, status, outcome, current_node_id, steps, notes,
           context, revision, user_name, user_email, pins, org_id, variables, locale, completed_at is null as open
         from sessions where id in ($1, $2) order by loaded`,
        [original.row.id, copySession],
      );
      const [writtenRow, loadedRow] = sessionRows.map((row) => ({
        ...row,
        steps: (row.steps as Array<Record<string, Json>>).map((step) => {
          const own = (id: Json | undefined) => (id === loaded.tree.id || id === copyId ? "own" : id);
          const frames = step.frames as Array<Record<string, Json>> | undefined;
          return {
            ...step,
            tree_id: own(step.tree_id),
            ...(frames ? { frames: frames.map((frame) => ({ ...frame, tree_id: own(frame.tree_id) })) } : {}),
          } as Record<string, Json>;
        }),
      }));
      problems.expect(
        `${what}: sessions row, loaded against written`,
        differences(loadedRow, writtenRow, new Set(["loaded", ...TIMES])),
      );
      const snapshots = await sessions.unsafe(
        `select tree_id = $1 as loaded, document from tree_snapshots where (tree_id, version) in (($1, $3), ($2, $3))
         order by loaded`,
        [loaded.tree.id, copyId, original.row.tree_version],
      );
      problems.expect(
        `${what}: the tree copy it pinned, loaded against written`,
        differences(snapshots[1]?.document, snapshots[0]?.document, ignore),
      );
      // The projection the consumer writes from the copy's events, once they are applied.
      const deadline = Date.now() + 30_000;
      let projected: postgres.Row | undefined;
      while (Date.now() < deadline) {
        [projected] = await trees.unsafe(
          `select status, outcome, end_node_id, tree_version, duration_ms is not null as timed from analytics_sessions
           where session_id = $1`,
          [copySession],
        );
        if (projected?.status === "completed") break;
        await new Promise((wake) => setTimeout(wake, 200));
      }
      const [loadedProjection] = await trees.unsafe(
        `select status, outcome, end_node_id, tree_version, duration_ms is not null as timed from analytics_sessions
         where session_id = $1`,
        [original.row.id],
      );
      problems.expect(
        `${what}: analytics_sessions, loaded against the consumer's`,
        differences(loadedProjection, projected, new Set()),
      );
      const paths = await trees.unsafe(
        `select session_id = $1 as loaded,
           (select array_agg(node_id || '@' || coalesce(case when node_tree_id in ($3, $4) then 'own' else node_tree_id::text end, '-') order by at, event_id)
            from analytics_entries e where e.session_id = s.session_id) as entries,
           (select array_agg(node_id || ':' || option_id order by node_id, option_id, time_ms)
            from analytics_stays t where t.session_id = s.session_id) as stays,
           (select count(*)::int from analytics_handled_events h join analytics_entries e using (event_id)
            where e.session_id = s.session_id) as handled
         from analytics_sessions s where session_id in ($1, $2) order by loaded`,
        [original.row.id, copySession, loaded.tree.id, copyId],
      );
      problems.expect(
        `${what}: analytics entries and stays, loaded against the consumer's`,
        differences(paths[1], paths[0], new Set(["loaded"])),
      );
    }

    // The busiest tree's analytics, and the lists' totals, against the loaded rows. Over a week of
    // its sessions: the whole of them is past the gateway's deadline at full load (the figures show it).
    const busiest = loadedTree(plan, plan.busiest, people).tree.id;
    const weekTo = new Date(plan.end - 14 * 86_400_000);
    const weekFrom = new Date(weekTo.getTime() - 7 * 86_400_000);
    const analytics = (
      await get<Record<string, Json>>(
        `/api/v1/trees/${busiest}/analytics?from=${weekFrom.toISOString()}&to=${weekTo.toISOString()}`,
        alphaEngineer,
      )
    ).body;
    const [counted] = await trees.unsafe(
      `select count(*)::int as started, count(*) filter (where status = 'completed')::int as completed
       from analytics_sessions where tree_id = $1 and started_at >= $2 and started_at < $3`,
      [busiest, weekFrom, weekTo],
    );
    const counts = analytics.sessions as Record<string, Json>;
    problems.equal(
      "the busiest tree's analytics over a week",
      { started: counts.started, completed: counts.completed },
      counted,
    );
    let expectedBusiest = 0;
    const busiestOnly = loadedTree(plan, plan.busiest, people);
    const busiestBook = { get: () => busiestOnly };
    for (let n = 0; n < plan.sessions; n++) {
      if (sessionTreeOf(plan, n, random(n * 31 + 7)) !== plan.busiest) continue;
      const session = generateSession(plan, n, plan.busiest, busiestBook, people, record.orgIds);
      const at = session.row.started_at.getTime();
      if (at >= weekFrom.getTime() && at < weekTo.getTime()) expectedBusiest++;
    }
    problems.equal("the busiest tree's sessions over a week, against the corpus", counts.started, expectedBusiest);
    const all = await client.call("GET", "/api/v1/sessions?all=true&limit=1", { token: alphaAdmin });
    const [alphaSessions] = await sessions.unsafe("select count(*)::int as n from sessions where org_id = $1", [
      record.orgIds[0],
    ]);
    // A total past 10,000 may be left out now (keyset pagination counts no further).
    const sessionsTotal = all.headers.get("x-total-count");
    if (sessionsTotal !== null || (alphaSessions?.n ?? 0) <= 10_000) {
      problems.equal(
        "the sessions list's total",
        Number(sessionsTotal),
        Math.min(alphaSessions?.n ?? 0, 10_000) === 10_000 ? Number(sessionsTotal) : alphaSessions?.n,
      );
    }
    const treeList = await client.call("GET", "/api/v1/trees?limit=1", { token: alphaEngineer });
    const [alphaTrees] = await trees.unsafe("select count(*)::int as n from trees where org_id = $1", [
      record.orgIds[0],
    ]);
    const treesTotal = treeList.headers.get("x-total-count");
    if (treesTotal !== null || (alphaTrees?.n ?? 0) <= 10_000) {
      problems.equal(
        "the tree list's total",
        Number(treesTotal),
        Math.min(alphaTrees?.n ?? 0, 10_000) === 10_000 ? Number(treesTotal) : alphaTrees?.n,
      );
    }
  } finally {
    await Promise.all([trees.end(), sessions.end()]);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (problems.list.length > 0) {
    throw new Error(`the read-back check found ${problems.list.length} differences:\n  ${problems.list.join("\n  ")}`);
  }
  return `read-back check: ${problems.passed} comparisons, no difference (${seconds} s)`;
}

function noteKinds(tree: CorpusTree, kinds: { draft: boolean; beta: boolean; large: boolean }): void {
  if (tree.published < tree.versions.length) kinds.draft = true;
  if (tree.org === 1) kinds.beta = true;
  if ((tree.versions[0]?.input.nodes.length ?? 0) > 120) kinds.large = true;
}

function nOf(generated: Map<number, GeneratedSession>, session: GeneratedSession): number {
  for (const [n, each] of generated) if (each === session) return n;
  throw new Error("not a sampled session");
}

/** A session document's steps with its own tree's id as `own` (the loaded and the copy differ only there). */
function stepsWithoutOwnTree(document: Record<string, Json>, ownTree: string) {
  return (document.steps as Array<Record<string, Json>>).map((step) => ({
    ...step,
    tree_id: step.tree_id === ownTree ? "own" : step.tree_id,
  }));
}
