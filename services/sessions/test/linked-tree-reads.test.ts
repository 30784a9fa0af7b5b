/**
 * How often the trees of a session that walks through links are fetched, through the real
 * handlers and store on Postgres, with the trees service's one call (GetPublishedTree) counted by
 * a stand-in, every statement on `tree_snapshots` counted by the driver, and every run of the step
 * engine counted. Each pinned (tree, version), the session's own or a linked one, is read at most
 * once in a process's life, the versions a request needs in one statement, and a linked one
 * written at most once (the store's TreeCopies; the session's own copy rides in each start's one
 * statement). Only the latest published version of a tree a session enters is asked of trees each
 * time: a newer one may have been published since. All of it is loaded before the engine runs,
 * once per request.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate, OUTBOX_MIGRATIONS } from "@tdt/kit";
import { createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionsHandlers } from "../src/handlers.js";
import { SessionStore } from "../src/session-store.js";
import { asksThenLinks, linkChain } from "./support/linked-trees.js";
import { node, treeOf } from "./support/tree-of.js";

/** Runs of the step engine since the last `take()`. */
const engine = vi.hoisted(() => ({ runs: 0 }));
vi.mock("../src/step-engine.js", async (original) => {
  const real = await original<typeof import("../src/step-engine.js")>();
  const counted =
    <A extends unknown[], R>(run: (...args: A) => R) =>
    (...args: A) => {
      engine.runs += 1;
      return run(...args);
    };
  return {
    ...real,
    startState: counted(real.startState),
    applyStep: counted(real.applyStep),
    completeState: counted(real.completeState),
  };
});

let database: { name: string; url: string };
let sql: Sql;
/** Statements on tree_snapshots since the last `take()`: reads and pins, by the trees they name. */
const snapshotStatements: Array<{ kind: "read" | "pin"; treeIds: string[] }> = [];

/** A chain of links: the printer tree runs the network check, which runs the cable check. */
const cable = treeOf(
  randomUUID(),
  1,
  "plug",
  [node("plug", "action", { next: "plugged" }), node("plugged", "solution", { outcome: "resolved" })],
  "Cable",
);
const network = treeOf(
  randomUUID(),
  1,
  "restart",
  [
    node("restart", "action", { next: "cable" }),
    node("cable", "link", { tree_id: cable.id, next: "works" }),
    node("works", "solution", { outcome: "resolved" }),
  ],
  "Network",
);
const printer = asksThenLinks("Printer", network.id);
const chain = linkChain();
const published = new Map([printer, network, cable, ...Object.values(chain)].map((tree) => [tree.id, tree]));
const names = new Map([...published.values()].map((tree) => [tree.id, tree.title]));

beforeAll(async () => {
  database = await createDatabase("linked_reads");
  sql = postgres(database.url, {
    max: 4,
    onnotice: () => {},
    debug: (_connection, query, parameters) => {
      const text = query.trim();
      const treeIds = parameters
        .flat()
        .map(String)
        .filter((value) => names.has(value));
      if (text.startsWith("select document from tree_snapshots")) snapshotStatements.push({ kind: "read", treeIds });
      if (text.startsWith("insert into tree_snapshots")) snapshotStatements.push({ kind: "pin", treeIds });
    },
  });
  await migrate(sql, fileURLToPath(new URL("../migrations", import.meta.url)), testLogger(), OUTBOX_MIGRATIONS);
});

afterAll(async () => {
  await sql?.end();
  if (database) await dropDatabase(database.name);
});

/** A process of the sessions service: its own store (and tree memory) on the one database. */
function sessionsProcess() {
  const asked: string[] = [];
  const handlers = sessionsHandlers({
    store: new SessionStore(sql),
    trees: {
      getPublishedTree: async ({ id }: { id: string }) => {
        asked.push(names.get(id) ?? id);
        return { tree: published.get(id) };
      },
    } as never,
    auth: { getMe: async () => ({ user: { full_name: "Tess", email: "tess@example.com" } }) } as never,
    pdfs: {} as never,
    verifier: { verify: async (token: string) => ({ sub: token, role: "technician" }) } as never,
  });
  /**
   * The trees asked of the trees service and the snapshot statements (the trees each names,
   * together) since the last call; `engine`: the runs of the step engine.
   */
  const take = () => {
    const statements = snapshotStatements.splice(0).map(
      ({ kind, treeIds }) =>
        `${kind} ${treeIds
          .map((id) => names.get(id))
          .sort()
          .join("+")}`,
    );
    const runs = engine.runs;
    engine.runs = 0;
    return { asked: asked.splice(0), statements, engine: runs };
  };
  return { handlers, take };
}

const as = (user: string) => ({
  accessToken: user,
  requestId: "r",
  log: testLogger(),
  metadata: {} as never,
  caller: undefined,
  peerAddress: "127.0.0.1",
});

/** A technician's walk into the cable check, two links deep, reading the session on the way. */
async function walkIn(on: ReturnType<typeof sessionsProcess>["handlers"], user: string): Promise<string> {
  const { session } = await on.startSession({ tree_id: printer.id, context: {}, locale: "" }, as(user));
  const id = session?.id as string;
  await on.stepSession({ id, op: "answer", node_id: "online", option_id: "no" }, as(user));
  await on.getSession({ id }, as(user));
  const inside = await on.stepSession({ id, op: "continue", node_id: "restart", option_id: "" }, as(user));
  expect(inside.session?.current_node?.id).toBe("plug");
  await on.getSession({ id }, as(user));
  await on.exportSession({ id, format: "json" }, as(user));
  return id;
}

describe("the trees of a session that goes through links", () => {
  it("are read and written once per (tree, version) in a process; only what a link enters now is asked of trees", async () => {
    const first = sessionsProcess();
    const one = randomUUID();
    const sessionOne = await walkIn(first.handlers, one);
    // The start asks for the printer tree, each link for the tree it enters: once each. Both
    // linked versions are pinned once; nothing is read back (each copy was kept as it was written).
    // The engine ran once for the start and once for each step.
    expect(first.take()).toEqual({
      asked: ["Printer", "Network", "Cable"],
      statements: ["pin Network", "pin Cable"],
      engine: 3,
    });

    // Reading and exporting again: no call to trees, no statement on the copies.
    for (let read = 0; read < 3; read++) await first.handlers.getSession({ id: sessionOne }, as(one));
    await first.handlers.exportSession({ id: sessionOne, format: "json" }, as(one));
    expect(first.take()).toEqual({ asked: [], statements: [], engine: 0 });

    // A second technician on the same trees: what a link enters is asked again (a newer version
    // may be out), but the versions it answers are the kept ones: not written again.
    const two = randomUUID();
    const sessionTwo = await walkIn(first.handlers, two);
    expect(first.take()).toEqual({ asked: ["Printer", "Network", "Cable"], statements: [], engine: 3 });

    // Another process (a replica, or this one restarted): each version is read from the database
    // once, however many requests need it at once, and never asked of trees.
    const second = sessionsProcess();
    await Promise.all([
      ...Array.from({ length: 5 }, () => second.handlers.getSession({ id: sessionOne }, as(one))),
      ...Array.from({ length: 5 }, () => second.handlers.getSession({ id: sessionTwo }, as(two))),
      second.handlers.exportSession({ id: sessionOne, format: "json" }, as(one)),
      second.handlers.exportSession({ id: sessionTwo, format: "json" }, as(two)),
    ]);
    const { asked, statements } = second.take();
    expect(asked).toEqual([]);
    // However the requests met, each version was named in one read only.
    const read = statements.flatMap((statement) => statement.replace(/^read /, "").split("+"));
    expect(statements.every((statement) => statement.startsWith("read "))).toBe(true);
    expect(read.sort()).toEqual(["Cable", "Network", "Printer"]);
  });

  it("are loaded before the engine runs, which runs once a step: into three links at once and back out", async () => {
    const first = sessionsProcess();
    const user = randomUUID();
    const { session } = await first.handlers.startSession(
      { tree_id: chain.laptop.id, context: {}, locale: "" },
      as(user),
    );
    const id = session?.id as string;
    first.take();
    // Each link's tree is in the one before it: asked one after another, each pinned once.
    const inside = await first.handlers.stepSession({ id, op: "answer", node_id: "online", option_id: "no" }, as(user));
    expect(inside.session?.current_node?.id).toBe("reseat");
    expect(first.take()).toEqual({
      asked: ["Dock", "Hub", "Port"],
      statements: ["pin Dock", "pin Hub", "pin Port"],
      engine: 1,
    });

    // Another process steps out again: every version the session pinned in one read.
    const second = sessionsProcess();
    const out = await second.handlers.stepSession({ id, op: "continue", node_id: "reseat", option_id: "" }, as(user));
    expect(out.session?.current_node?.id).toBe("done");
    expect(second.take()).toEqual({ asked: [], statements: ["read Dock+Hub+Laptop+Port"], engine: 1 });

    // Back over the solution passed on the way out, into the port tree: answered from that read.
    const back = await second.handlers.stepSession({ id, op: "back", node_id: "", option_id: "" }, as(user));
    expect(back.session?.current_node?.id).toBe("reseat");
    expect(second.take()).toEqual({ asked: [], statements: [], engine: 1 });
  });
});
