/**
 * Load on a running stack while a fault or an upgrade happens: `workers` technicians each run
 * sessions to an outcome over and over (start, four steps, complete) with a read between, through
 * the gateway. Every answer is counted by status with its time, and every acknowledged write is
 * recorded for the event check (events.ts). A failed write ends that session's run: the worker
 * starts a new one.
 */
import { acknowledged } from "./events.js";
import { client, login, walkableTree } from "./journey.js";

export interface Failure {
  at: number;
  what: string;
  status: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  failures: Failure[];
  acks: ReturnType<typeof acknowledged>;
  /** Every answered session id, for reading them back afterwards. */
  sessions: string[];
  /** When each session's start was answered. */
  startedAt: Map<string, number>;
}

const STEPS = [
  { op: "answer", node_id: "start", option_id: "yes" },
  { op: "continue", node_id: "a1" },
  { op: "continue", node_id: "a2" },
  { op: "continue", node_id: "a3" },
];

export async function startLoad(baseUrl: string, workers = 8) {
  const call = client(baseUrl);
  const token = await login(baseUrl);
  const tree = await call<{ id: string }>("POST", "/api/v1/trees", token, walkableTree(3));
  if (tree.status !== 201) throw new Error(`tree not created: ${tree.status} ${JSON.stringify(tree.body)}`);
  const result: LoadResult = {
    requests: 0,
    ok: 0,
    failures: [],
    acks: acknowledged(),
    sessions: [],
    startedAt: new Map(),
  };
  let stopping = false;

  const attempt = async <T>(what: string, method: string, path: string, body?: unknown, expected = 200) => {
    result.requests++;
    try {
      const answer = await call<T>(method, path, token, body);
      if (answer.status === expected) {
        result.ok++;
        return answer.body;
      }
      result.failures.push({ at: Date.now(), what, status: answer.status });
    } catch (error) {
      // No answer at all (connection refused or reset, or our own 30 s timeout): status 0. A
      // client waits a moment before it tries again, as a person or a browser would.
      result.failures.push({ at: Date.now(), what: `${what}: ${String(error)}`, status: 0 });
      await new Promise((wake) => setTimeout(wake, 100));
    }
    return undefined;
  };

  const worker = async () => {
    while (!stopping) {
      const session = await attempt<{ id: string }>(
        "start",
        "POST",
        "/api/v1/sessions",
        { tree_id: tree.body.id },
        201,
      );
      if (!session) continue;
      result.acks.started.add(session.id);
      result.sessions.push(session.id);
      result.startedAt.set(session.id, Date.now());
      let whole = true;
      for (const step of STEPS) {
        if (!(await attempt("step", "PUT", `/api/v1/sessions/${session.id}`, step))) {
          whole = false;
          break;
        }
        result.acks.steps.set(session.id, (result.acks.steps.get(session.id) ?? 0) + 1);
      }
      if (whole && (await attempt("complete", "POST", `/api/v1/sessions/${session.id}/complete`, {}))) {
        result.acks.completed.add(session.id);
      }
      await attempt("read", "GET", "/api/v1/trees?limit=5");
    }
  };
  const running = Array.from({ length: workers }, () => worker());
  return {
    result,
    token,
    async stop(): Promise<LoadResult> {
      stopping = true;
      await Promise.all(running);
      return result;
    },
  };
}

/** Failures outside the windows in which a 503 is an allowed answer. */
export function unexplained(failures: Failure[], windows: Array<[number, number]>): Failure[] {
  return failures.filter(
    (failure) => !(failure.status === 503 && windows.some(([from, to]) => failure.at >= from && failure.at <= to)),
  );
}

/** Failures counted by what and status, for the report. */
export function tally(failures: Failure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const failure of failures) {
    const key = `${failure.what.split(":")[0]} ${failure.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
