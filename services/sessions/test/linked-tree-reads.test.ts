/**
 * How often the trees of a session that walks through links are fetched, through the real
 * handlers and store on Postgres, with the trees service's one call (GetPublishedTree) counted by
 * a stand-in and every statement on `tree_snapshots` counted by the driver. Each pinned
 * (tree, version), the session's own or a linked one, is read at most once in a process's life,
 * and a linked one written at most once (the store's TreeCopies; the session's own copy rides in
 * each start's one statement). Only the latest published version of a tree a session enters is
 * asked of trees each time: a newer one may have been published since.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate } from "@tdt/kit";
import { createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionsHandlers } from "../src/handlers.js";
import { SessionStore } from "../src/session-store.js";
import { node, treeOf } from "./support/tree-of.js";

let database: { name: string; url: string };
let sql: Sql;
/** Statements on tree_snapshots since the last `take()`: reads and pins, by tree id. */
const snapshotStatements: Array<{ kind: "read" | "pin"; treeId: string }> = [];

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
const printer = treeOf(
  randomUUID(),
  1,
  "online",
  [
    node("online", "question", {
      options: [
        { id: "no", label: "No", next: "check" },
        { id: "yes", label: "Yes", next: "print" },
      ],
    }),
    node("check", "link", { tree_id: network.id, next: "print" }),
    node("print", "solution", { outcome: "resolved" }),
  ],
  "Printer",
);
const published = new Map([printer, network, cable].map((tree) => [tree.id, tree]));
const names = new Map([printer, network, cable].map((tree) => [tree.id, tree.title]));

beforeAll(async () => {
  database = await createDatabase("linked_reads");
  sql = postgres(database.url, {
    max: 4,
    onnotice: () => {},
    debug: (_connection, query, parameters) => {
      const text = query.trim();
      const treeId = String(parameters[0]);
      if (text.startsWith("select document from tree_snapshots")) snapshotStatements.push({ kind: "read", treeId });
      if (text.startsWith("insert into tree_snapshots")) snapshotStatements.push({ kind: "pin", treeId });
    },
  });
  await migrate(sql, fileURLToPath(new URL("../migrations", import.meta.url)), testLogger());
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
  /** The trees asked of the trees service, and the snapshot statements, since the last call. */
  const take = () => {
    const statements = snapshotStatements.splice(0).map(({ kind, treeId }) => `${kind} ${names.get(treeId)}`);
    return { asked: asked.splice(0), statements };
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
  const { session } = await on.startSession({ tree_id: printer.id, context: {} }, as(user));
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
    expect(first.take()).toEqual({ asked: ["Printer", "Network", "Cable"], statements: ["pin Network", "pin Cable"] });

    // Reading and exporting again: no call to trees, no statement on the copies.
    for (let read = 0; read < 3; read++) await first.handlers.getSession({ id: sessionOne }, as(one));
    await first.handlers.exportSession({ id: sessionOne, format: "json" }, as(one));
    expect(first.take()).toEqual({ asked: [], statements: [] });

    // A second technician on the same trees: what a link enters is asked again (a newer version
    // may be out), but the versions it answers are the kept ones: not written again.
    const two = randomUUID();
    const sessionTwo = await walkIn(first.handlers, two);
    expect(first.take()).toEqual({ asked: ["Printer", "Network", "Cable"], statements: [] });

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
    expect([...statements].sort()).toEqual(["read Cable", "read Network", "read Printer"]);
  });
});
