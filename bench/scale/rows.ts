/**
 * The rows the write paths would write, made by the services' own code wherever it is pure:
 * - trees: `inputOf` (the create/update handlers' check and normalisation), `normaliseNodes`,
 *   `normaliseVariables`, `storedNodes` and `indexWords` (tree-store.ts, search-query.ts); the
 *   tree document sessions pin is the one GetPublishedTree answers, through its protobuf codec;
 * - sessions: the step engine (`startState`, `applyStep`, `completeState`), `startValues`,
 *   `sessionLocale`, and the session events of each change (`startedEvent`, `changeEvents`);
 * - the analytics projection: those events applied as the consumer (trees/src/analytics.ts)
 *   applies them, restated here as rows (its `apply` is statements, not a function to call).
 * What is restated (SQL the stores run) is named where it is, and checked after loading
 * against the real write path (check.ts).
 */
import { DEFAULT_LANGUAGE, sessionLocale } from "@tdt/proto/contracts/tree-languages";
import { type Node, Tree, type TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { changeEvents, type SessionIdentity, startedEvent } from "../../services/sessions/src/session-events.js";
import { startValues } from "../../services/sessions/src/session-variables.js";
import {
  applyStep,
  completeState,
  nodeById,
  placeOf,
  type SessionState,
  type StepOp,
  type StepRecord,
  startState,
  type TreeBook,
} from "../../services/sessions/src/step-engine.js";
import { indexWords } from "../../services/trees/src/search-query.js";
import { inputOf } from "../../services/trees/src/tree-input.js";
import { normaliseNodes, normaliseVariables, storedNodes } from "../../services/trees/src/tree-store.js";
import { type CorpusTree, corpusTree, type Plan, pick, random, sessionIdOf } from "./corpus.js";

/** One version of a tree as the trees service stores it (tree_versions' columns but the vectors). */
export interface VersionRow {
  tree_id: string;
  version: number;
  title: string;
  description: string;
  category: string;
  tags: string[];
  status: string;
  root_node_id: string;
  change_note: string;
  nodes: Node[];
  variables: ReturnType<typeof normaliseVariables>;
  language: string;
  translations: Record<string, never>;
  node_count: number;
  created_by: string;
  created_at: Date;
  /** What insertVersion weights B: `${category} ${tags.join(" ")}`. */
  category_tags: string;
  /** What insertVersion weights D: each node's title and body, the first 300,000 characters. */
  node_text: string;
  /** The words insertVersion adds to search_words. */
  words: string[];
}

/**
 * A version's row from its input, as TreeStore.create/replace write it (insertVersion): the input
 * checked and normalised by the handler's own `inputOf`, then the stored nodes and variables.
 */
export function versionRow(treeId: string, version: number, sent: TreeInput, authorId: string, at: Date): VersionRow {
  const input = inputOf(sent);
  const nodes = normaliseNodes(input.nodes);
  // insertVersion's own expressions (translations: a new tree carries none).
  const nodeText = nodes
    .map((node) => `${node.title} ${node.body}`)
    .join(" ")
    .slice(0, 300_000);
  return {
    tree_id: treeId,
    version,
    title: input.title,
    description: input.description,
    category: input.category,
    tags: input.tags,
    status: input.status,
    root_node_id: input.root_node_id,
    change_note: input.change_note,
    nodes,
    variables: normaliseVariables(input.variables),
    language: input.language || DEFAULT_LANGUAGE,
    translations: {},
    node_count: nodes.length,
    created_by: authorId,
    created_at: at,
    category_tags: `${input.category} ${input.tags.join(" ")}`,
    node_text: nodeText,
    words: indexWords([input.title, input.description, input.category, ...input.tags, nodeText]),
  };
}

/**
 * The tree document GetPublishedTree answers for a version (tree-store.ts's toTree of the row
 * read back, `created_by`/`created_at` being the tree's), as the sessions service receives it:
 * encoded and decoded by the contract's codec. That is what tree_snapshots keeps.
 */
export function publishedDocument(tree: CorpusTree, row: VersionRow, treeCreatedBy: string): Tree {
  const document: Tree = {
    id: tree.id,
    title: row.title,
    description: row.description,
    category: row.category,
    tags: row.tags,
    status: row.status,
    version: row.version,
    created_by: treeCreatedBy,
    created_at: new Date(tree.createdAt).toISOString(),
    updated_at: row.created_at.toISOString(),
    root_node_id: row.root_node_id,
    change_note: row.change_note,
    nodes: storedNodes(row.nodes),
    variables: row.variables,
    language: row.language,
    translations: [],
  };
  return Tree.decode(Tree.encode(document).finish());
}

/** People's ids by key (corpus.ts's `people`), and their names and addresses as auth keeps them. */
export type Directory = Map<string, { id: string; email: string; full_name: string }>;

/** A corpus tree with its rows and published documents, kept while sessions need it. */
export interface LoadedTree {
  tree: CorpusTree;
  rows: VersionRow[];
  documents: Map<number, Tree>;
}

export function loadedTree(plan: Plan, index: number, people: Directory): LoadedTree {
  const tree = corpusTree(plan, index);
  const creator = idOf(people, tree.author);
  const rows = tree.versions.map((version, i) =>
    versionRow(tree.id, i + 1, version.input, idOf(people, version.author), new Date(version.createdAt)),
  );
  const documents = new Map<number, Tree>();
  for (const row of rows)
    if (row.status === "published") documents.set(row.version, publishedDocument(tree, row, creator));
  return { tree, rows, documents };
}

export function idOf(people: Directory, key: string): string {
  const person = people.get(key);
  if (!person) throw new Error(`no person ${key}`);
  return person.id;
}

/** Trees made again on demand, the most recently used kept (a session's tree is likely asked again). */
export class TreeCache {
  private readonly kept = new Map<number, LoadedTree>();
  constructor(
    private readonly plan: Plan,
    private readonly people: Directory,
    private readonly capacity = 20_000,
  ) {}
  get(index: number): LoadedTree {
    const found = this.kept.get(index);
    if (found) {
      this.kept.delete(index);
      this.kept.set(index, found);
      return found;
    }
    const made = loadedTree(this.plan, index, this.people);
    this.kept.set(index, made);
    if (this.kept.size > this.capacity) this.kept.delete(this.kept.keys().next().value as number);
    return made;
  }
}

/** The published version a session started at `at` runs on: the latest published by then. */
export function versionAt(loaded: LoadedTree, at: number): number {
  let chosen = 0;
  for (const row of loaded.rows) {
    if (row.status === "published" && row.created_at.getTime() <= at) chosen = row.version;
  }
  return chosen || (loaded.rows.find((row) => row.status === "published")?.version ?? 1);
}

/** A session event as the consumer sees it, with the organization its header names. */
type Event = ReturnType<typeof startedEvent>;

/** A session as the sessions service stores it, and the events its changes wrote to the outbox. */
export interface GeneratedSession {
  row: {
    id: string;
    user_id: string;
    tree_id: string;
    tree_version: number;
    tree_title: string;
    status: string;
    outcome: string | null;
    current_node_id: string;
    steps: StepRecord[];
    notes: string;
    context: Record<string, unknown>;
    started_at: Date;
    updated_at: Date;
    completed_at: string | null;
    revision: number;
    user_name: string;
    user_email: string;
    pins: Record<string, number>;
    org_id: string;
    variables: Record<string, unknown>;
    locale: string;
  };
  /** The tree versions the session pinned (its own and any it linked into). */
  snapshots: Tree[];
  events: Event[];
  /** The operations sent, in order, with the time of each: what an API client would send. */
  ops: Array<{ op: StepOp | { op: "complete"; outcome?: string; notes?: string }; at: number }>;
}

/** A book of the session's own tree and the trees its links may enter (their published versions). */
function bookFor(root: Tree, linked: Tree[]): TreeBook {
  const all = new Map([root, ...linked].map((tree) => [`${tree.id}@${tree.version}`, tree]));
  const latest = new Map(linked.map((tree) => [tree.id, tree]));
  return {
    root,
    version: (treeId, version) => {
      const tree = all.get(`${treeId}@${version}`);
      if (!tree) throw new Error(`no tree ${treeId}@${version} in the book`);
      return tree;
    },
    latest: (treeId) => latest.get(treeId) ?? null,
  };
}

const OFF_SOLUTION = ["escalated", "unresolved"] as const;

/**
 * The `n`th session: its technician starts it on the tree's published version of that moment and
 * walks it with answers, continues, an occasional back and note, to a completion (most) or stops
 * (a tenth stay in progress). Every state is the engine's; every event is what the store writes.
 */
export function generateSession(
  plan: Plan,
  n: number,
  treeIndex: number,
  trees: { get(index: number): LoadedTree },
  people: Directory,
  orgIds: readonly [string, string],
): GeneratedSession {
  const rng = random(n * 48_271 + 99_991);
  const loaded = trees.get(treeIndex);
  const org = loaded.tree.org;
  const technicians = org === 0 ? 1200 : 800;
  const technician = people.get(`t${org}-${Math.floor(rng() * technicians)}`);
  if (!technician) throw new Error("no technician");
  const long = treeIndex === plan.longRoot;
  const earliest = loaded.tree.createdAt + 3_600_000;
  const started = long ? plan.end - 3 * 86_400_000 : earliest + Math.floor(rng() * (plan.end - 7_200_000 - earliest));
  const version = versionAt(loaded, started);
  const root = loaded.documents.get(version) as Tree;
  const linked: Tree[] = [];
  for (const node of root.nodes) {
    if (node.type === "link" && node.tree_id) {
      const target = trees.get(plan.longLinked);
      linked.push(target.documents.get(versionAt(target, started)) as Tree);
    }
  }
  const book = bookFor(root, linked);
  const identity: SessionIdentity = {
    id: sessionIdOf(n),
    tree_id: root.id,
    tree_version: root.version,
    user_id: technician.id,
    started_at: new Date(started),
    org_id: orgIds[org],
  };
  const values = startValues(root, undefined);
  let state: SessionState = startState(book, new Date(started), values);
  const events: Event[] = [startedEvent(identity, state, new Date(started))];
  const ops: GeneratedSession["ops"] = [];
  let at = started;
  let changes = 0;
  const stayInProgress = !long && rng() < 0.1;
  const stopAfter = stayInProgress ? Math.floor(rng() * 8) : Number.POSITIVE_INFINITY;
  let moves = 0;
  const step = (op: StepOp) => {
    at += thinkingTime(rng);
    const next = applyStep(state, book, op, new Date(at));
    events.push(...changeEvents(identity, state, next, new Date(at)));
    ops.push({ op, at });
    state = next;
    changes++;
  };
  for (let guard = 0; guard < 2000 && state.status === "in_progress"; guard++) {
    if (moves >= stopAfter) break;
    const open = state.steps[state.steps.length - 1] as StepRecord;
    const node = nodeById(placeOf(open, book).tree, open.node_id);
    const note = !long && rng() < 0.05 ? `Checked the ${pick(rng, ["cable", "light", "menu", "label"])}.` : undefined;
    if (!long && state.steps.length > 2 && rng() < 0.03) {
      step({ op: "back" });
      continue;
    }
    if (node.type === "question") {
      step({ op: "answer", node_id: node.id, option_id: pick(rng, node.options).id, note });
      moves++;
    } else if (node.type === "action" && node.next) {
      step({ op: "continue", node_id: node.id, note });
      moves++;
    } else {
      // At a solution (or away from one, now and then, giving up): the technician completes.
      const offSolution = node.type !== "solution";
      const outcome = offSolution ? pick(rng, OFF_SOLUTION) : undefined;
      const notes = rng() < 0.2 ? "Closed with the customer on the phone." : undefined;
      at += thinkingTime(rng);
      const next = completeState(state, book, { outcome, notes }, new Date(at));
      events.push(...changeEvents(identity, state, next, new Date(at)));
      ops.push({ op: { op: "complete", ...(outcome ? { outcome } : {}), ...(notes ? { notes } : {}) }, at });
      state = next;
      changes++;
    }
    if (!long && state.status === "in_progress" && node.type !== "solution" && rng() < 0.01) {
      // Giving up midway: completed away from a solution.
      at += thinkingTime(rng);
      const next = completeState(state, book, { outcome: pick(rng, OFF_SOLUTION) }, new Date(at));
      events.push(...changeEvents(identity, state, next, new Date(at)));
      ops.push({ op: { op: "complete", outcome: next.outcome ?? "" }, at });
      state = next;
      changes++;
    }
  }
  const pinnedVersions = Object.entries(state.pins ?? {}).map(([treeId, v]) => book.version(treeId, v));
  const context = rng() < 0.3 ? { ticket: `INC-${100_000 + n}` } : {};
  return {
    row: {
      id: identity.id,
      user_id: technician.id,
      tree_id: root.id,
      tree_version: root.version,
      tree_title: root.title,
      status: state.status,
      outcome: state.outcome,
      current_node_id: state.current_node_id,
      steps: state.steps,
      notes: state.notes,
      context,
      started_at: new Date(started),
      updated_at: new Date(at),
      completed_at: state.completed_at,
      // The revision trigger counts every update after the insert.
      revision: changes,
      // What auth's GetMe answered at the start (the store keeps the first 200 and 254 characters).
      user_name: technician.full_name.slice(0, 200),
      user_email: technician.email.slice(0, 254),
      pins: state.pins ?? {},
      org_id: orgIds[org],
      variables: state.variables ?? {},
      // As startSession chooses it with no locale asked and no Accept-Language.
      locale: sessionLocale([], root.translations, root.language),
    },
    snapshots: [root, ...pinnedVersions],
    events,
    ops,
  };
}

/** How long a technician stays at a node: 3 s to about 5 min, most under a minute. */
function thinkingTime(rng: () => number): number {
  return Math.round(3000 * Math.exp(rng() * 4.6));
}

/** The rows the analytics consumer writes for these events (analytics.ts's `apply`, restated). */
export interface Projection {
  session: {
    session_id: string;
    tree_id: string;
    tree_version: number;
    started_at: Date;
    status: string;
    outcome: string | null;
    ended_at: Date | null;
    end_node_id: string | null;
    end_node_tree_id: string | null;
    duration_ms: number | null;
  };
  entries: Array<{ event_id: string; session_id: string; at: Date; node_id: string; node_tree_id: string | null }>;
  stays: Array<{
    event_id: string;
    session_id: string;
    node_id: string;
    node_tree_id: string | null;
    option_id: string;
    time_ms: number;
  }>;
  handled: string[];
}

/**
 * `apply` for every event of one session, in order: the handled id; the session's row from its
 * first event (a started event sets started_at to its own time); an entry per started and step
 * event (the node entered), a stay per step and completion (the node left, with the option).
 */
export function project(events: readonly Event[]): Projection {
  let session: Projection["session"] | undefined;
  const entries: Projection["entries"] = [];
  const stays: Projection["stays"] = [];
  const handled: string[] = [];
  for (const item of events) {
    const { event } = item;
    handled.push(event.event_id);
    const at = new Date(event.occurred_at ?? 0);
    if (!session) {
      const startedAt =
        item.subject === "sessions.session.completed" ? new Date(at.getTime() - item.event.total_duration_ms) : at;
      session = {
        session_id: event.session_id,
        tree_id: event.tree_id,
        tree_version: event.tree_version,
        started_at: startedAt,
        status: "in_progress",
        outcome: null,
        ended_at: null,
        end_node_id: null,
        end_node_tree_id: null,
        duration_ms: null,
      };
    }
    switch (item.subject) {
      case "sessions.session.started":
        session.started_at = at;
        entries.push({
          event_id: event.event_id,
          session_id: event.session_id,
          at,
          node_id: item.event.node_id,
          node_tree_id: item.event.node_tree_id || null,
        });
        break;
      case "sessions.session.step":
        stays.push({
          event_id: event.event_id,
          session_id: event.session_id,
          node_id: item.event.node_id,
          node_tree_id: item.event.node_tree_id || null,
          option_id: item.event.option_id,
          time_ms: item.event.duration_ms,
        });
        entries.push({
          event_id: event.event_id,
          session_id: event.session_id,
          at,
          node_id: item.event.next_node_id,
          node_tree_id: item.event.next_tree_id || null,
        });
        break;
      case "sessions.session.completed":
        stays.push({
          event_id: event.event_id,
          session_id: event.session_id,
          node_id: item.event.node_id,
          node_tree_id: item.event.node_tree_id || null,
          option_id: "",
          time_ms: item.event.duration_ms,
        });
        Object.assign(session, {
          status: "completed",
          outcome: item.event.outcome,
          ended_at: at,
          end_node_id: item.event.node_id,
          end_node_tree_id: item.event.node_tree_id || null,
          duration_ms: item.event.total_duration_ms,
        });
        break;
      case "sessions.session.abandoned":
        if (session.status === "in_progress") {
          Object.assign(session, {
            status: "abandoned",
            ended_at: at,
            end_node_id: item.event.node_id,
            end_node_tree_id: item.event.node_tree_id || null,
          });
        }
        break;
    }
  }
  if (!session) throw new Error("a session without events");
  return { session, entries, stays, handled };
}
