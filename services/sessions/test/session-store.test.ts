import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { DEFAULT_ORGANIZATION_ID, migrate, OUTBOX_MIGRATIONS } from "@tdt/kit";
import { type Tree, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import { printerTree } from "@tdt/test-support/trees";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionsHandlers } from "../src/handlers.js";
import { type SeenSession, type SessionRow, SessionStore, toSession } from "../src/session-store.js";
import { applyStep, bookOf, startState } from "../src/step-engine.js";

let database: { name: string; url: string };
let sql: Sql;
let store: SessionStore;

const tree: Tree = {
  ...TreeInput.fromPartial(printerTree() as never),
  id: randomUUID(),
  version: 1,
  translations: [],
  created_by: randomUUID(),
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
};

beforeAll(async () => {
  database = await createDatabase("sessions_store");
  sql = connect(database.url);
  await migrate(sql, fileURLToPath(new URL("../migrations", import.meta.url)), testLogger(), OUTBOX_MIGRATIONS);
  store = new SessionStore(sql);
});

afterAll(async () => {
  await sql?.end();
  if (database) await dropDatabase(database.name);
});

const startFor = (userId: string) => store.create(tree, userId, startState(bookOf(tree), new Date()), {}, new Date());

describe("the session store", () => {
  it("abandons a deactivated user's in-progress sessions once per event", async () => {
    const user = randomUUID();
    const open = await startFor(user);
    const other = await startFor(randomUUID());
    const event = randomUUID();
    expect(await store.abandonForDeactivatedUser(event, user)).toBe(1);
    expect((await store.get(open.id))?.status).toBe("abandoned");
    expect((await store.get(other.id))?.status).toBe("in_progress");

    // Reactivated, the user starts again; the old event redelivered must not touch the new session.
    const later = await startFor(user);
    expect(await store.abandonForDeactivatedUser(event, user)).toBe(0);
    expect((await store.get(later.id))?.status).toBe("in_progress");
  });

  it("applies concurrent steps on one session one after the other", async () => {
    const session = await startFor(randomUUID());
    const answer = () =>
      store
        .change(session.id, async (row) =>
          applyStep(row, bookOf(tree), { op: "answer", node_id: "power", option_id: "yes" }, new Date()),
        )
        .then(
          () => "ok",
          (error: { code?: string }) => error.code,
        );
    const outcomes = await Promise.all([answer(), answer(), answer()]);
    expect(outcomes.sort()).toEqual(["ok", "stale_step", "stale_step"]);
    expect((await store.get(session.id))?.steps).toHaveLength(2);
  });

  it("keeps the tree version a session started on", async () => {
    const session = await startFor(randomUUID());
    const copy = await new SessionStore(sql).tree(session.tree_id, session.tree_version);
    expect(copy.nodes).toEqual(tree.nodes);
  });
});

/** Handlers on `store` whose verifier takes the token for the user id (a technician). */
const handlersOn = (on: SessionStore) =>
  sessionsHandlers({
    store: on,
    trees: {} as never,
    auth: {} as never,
    pdfs: {} as never,
    verifier: {
      verify: async (token: string) => ({ sub: token, role: "technician", org: DEFAULT_ORGANIZATION_ID }),
    } as never,
  });
const asUser = (userId: string) => ({
  accessToken: userId,
  requestId: "r",
  log: testLogger(),
  metadata: {} as never,
  caller: undefined,
  peerAddress: "127.0.0.1",
});
const outcomeOf = (step: Promise<unknown>) =>
  step.then(
    () => "ok",
    (error: { code?: string }) => error.code,
  );

describe("a step written in one statement", () => {
  it("reads the session once and writes it once, each in its organization's transaction; a run of steps only writes", async () => {
    const session = await startFor(randomUUID());
    const statements: string[] = [];
    const counted = postgres(database.url, {
      max: 2,
      onnotice: () => {},
      debug: (_c, query) => statements.push(query),
    });
    const kinds = () => statements.splice(0).map((query) => query.trim().split(/\s+/)[0]?.toLowerCase());
    try {
      // A process that has not seen the session yet (another replica started it).
      const on = new SessionStore(counted);
      const handlers = handlersOn(on);
      await on.tree(session.tree_id, session.tree_version); // the copy is read once per process, not per step
      kinds();
      const { session: after } = await handlers.stepSession(
        { id: session.id, op: "answer", node_id: "power", option_id: "yes", note: "on" },
        asUser(session.user_id),
      );
      expect(after?.current_node?.id).toBe("paper");
      expect(after?.steps.map((step) => [step.node_id, step.option_id, step.note])).toEqual([
        ["power", "yes", "on"],
        ["paper", "", ""],
      ]);
      // One statement writes the step and its event (`with written as (update …), announced as
      // (insert into outbox …)`). Each database access is a transaction of the caller's
      // organization, which the wall needs (docs/decisions/organizations.md): begin, the setting,
      // the statement, commit.
      const walled = (statement: string) => ["begin", "select", statement, "commit"];
      expect(kinds()).toEqual([...walled("select"), ...walled("with")]);
      // What the step answered is what was stored.
      const stored = (await store.get(session.id)) as SessionRow;
      expect(toSession(stored, bookOf(tree))).toEqual(after);
      expect(stored.revision).toBe(session.revision + 1);

      // The next step starts from the session as this process wrote it.
      const { session: next } = await handlers.stepSession(
        { id: session.id, op: "answer", node_id: "paper", option_id: "yes" },
        asUser(session.user_id),
      );
      expect(kinds()).toEqual(walled("with"));
      expect(toSession((await store.get(session.id)) as SessionRow, bookOf(tree))).toEqual(next);
      // The session's start, and each step's event, were written with them.
      const announced = await counted<{ subject: string }[]>`
        select subject from outbox where payload::text like ${`%${Buffer.from(session.id).toString("hex")}%`}
        order by created_at`;
      expect(announced.map((row) => row.subject)).toEqual([
        "sessions.session.started",
        "sessions.session.step",
        "sessions.session.step",
      ]);
    } finally {
      await counted.end({ timeout: 1 });
    }
  });

  it("judges a step again on the stored session when another process changed it since", async () => {
    const session = await startFor(randomUUID());
    const [one, two] = [handlersOn(new SessionStore(sql)), handlersOn(new SessionStore(sql))];
    const user = asUser(session.user_id);
    // Both processes remember the session at its root.
    await one.getSession({ id: session.id }, user);
    await two.getSession({ id: session.id }, user);
    await one.stepSession({ id: session.id, op: "answer", node_id: "power", option_id: "yes" }, user);
    // Process two's copy says the session is still at "power"; the technician, rightly, answers "paper".
    const { session: after } = await two.stepSession(
      { id: session.id, op: "answer", node_id: "paper", option_id: "yes" },
      user,
    );
    expect(after?.steps.map((step) => step.node_id)).toEqual(["power", "paper", after?.current_node?.id]);
    // And a note written by process one is not lost to a write from process two's old copy.
    await one.stepSession({ id: session.id, op: "note", notes: "from one" } as never, user);
    await two.stepSession({ id: session.id, op: "back" } as never, user);
    const stored = (await store.get(session.id)) as SessionRow;
    expect(stored.notes).toBe("from one");
    expect(stored.current_node_id).toBe("paper");
    // A retry of a step already taken is still refused, wherever it lands.
    await expect(
      one.stepSession({ id: session.id, op: "answer", node_id: "power", option_id: "yes" }, user),
    ).rejects.toMatchObject({ code: "stale_step" });
  });

  it("applies one of many concurrent answers to one session; the others are stale", async () => {
    const session = await startFor(randomUUID());
    const handlers = handlersOn(store);
    const answer = () =>
      outcomeOf(
        handlers.stepSession(
          { id: session.id, op: "answer", node_id: "power", option_id: "yes" },
          asUser(session.user_id),
        ),
      );
    const outcomes = await Promise.all(Array.from({ length: 8 }, answer));
    expect(outcomes.sort()).toEqual(["ok", ...Array.from({ length: 7 }, () => "stale_step")]);
    expect((await store.get(session.id))?.steps).toHaveLength(2);
  });

  it("applies every one of concurrent notes, one after the other (none is lost)", async () => {
    const session = await startFor(randomUUID());
    const handlers = handlersOn(store);
    const notes = Array.from({ length: 6 }, (_, i) => `note ${i}`);
    const outcomes = await Promise.all(
      notes.map((notes) =>
        outcomeOf(handlers.stepSession({ id: session.id, op: "note", notes } as never, asUser(session.user_id))),
      ),
    );
    expect(outcomes).toEqual(notes.map(() => "ok"));
    const stored = (await store.get(session.id)) as SessionRow;
    expect(stored.revision).toBe(session.revision + notes.length);
    expect(notes).toContain(stored.notes);
  });

  it("never writes over a change made after the session was read (an abandonment stays)", async () => {
    const session = await startFor(randomUUID());
    const seen = (await store.latest(session.id)) as SeenSession;
    await store.abandonForDeactivatedUser(randomUUID(), session.user_id);
    const late = store.changeFrom(seen, (row) =>
      applyStep(row, bookOf(tree), { op: "answer", node_id: "power", option_id: "yes" }, new Date()),
    );
    await expect(late).rejects.toMatchObject({ code: "session_abandoned" });
    const stored = await store.get(session.id);
    expect(stored?.status).toBe("abandoned");
    expect(stored?.steps).toHaveLength(1);
  });

  it("refuses a step from someone other than the owner, and writes nothing", async () => {
    const session = await startFor(randomUUID());
    const step = handlersOn(store).stepSession(
      { id: session.id, op: "answer", node_id: "power", option_id: "yes" },
      asUser(randomUUID()),
    );
    // A technician who does not own it does not see it at all.
    await expect(step).rejects.toMatchObject({ code: "not_found" });
    expect((await store.get(session.id))?.revision).toBe(session.revision);
  });
});

describe("steps under load", () => {
  it("never waits for a pooled connection while holding one (more concurrent steps than connections)", async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => startFor(randomUUID())));
    // A fresh store on a two-connection pool: its tree cache is empty, as in a service just started.
    const tiny = postgres(database.url, { max: 2, onnotice: () => {} });
    try {
      const handlers = sessionsHandlers({
        store: new SessionStore(tiny),
        trees: {} as never,
        auth: {} as never,
        pdfs: {} as never,
        verifier: {
          verify: async (token: string) => ({ sub: token, role: "technician", org: DEFAULT_ORGANIZATION_ID }),
        } as never,
      });
      const steps = sessions.map((session) =>
        handlers.stepSession(
          { id: session.id, op: "answer", node_id: "power", option_id: "yes" },
          {
            accessToken: session.user_id,
            requestId: "r",
            log: testLogger(),
            metadata: {} as never,
            caller: undefined,
            peerAddress: "127.0.0.1",
          },
        ),
      );
      const results = await Promise.race([
        Promise.all(steps),
        new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 10_000)),
      ]);
      expect(results).not.toBe("stuck");
      if (results === "stuck") return;
      expect(results.map((result) => result.session?.current_node?.id)).toEqual(sessions.map(() => "paper"));
    } finally {
      await tiny.end({ timeout: 1 });
    }
  });
});
