/**
 * Issue 12's caches with real processes: the gateway's ready answers of tree reads (dropped on
 * every edit, publish and delete, through the gateway that forwarded it and through another
 * one that only hears of it over NATS), bypassed while NATS is away, and the verified-token
 * caches of every process, which still refuse a revoked login session within a second.
 */
import { randomUUID } from "node:crypto";
import { api } from "@tdt/test-support/api";
import { connect } from "@tdt/test-support/database";
import { makeOrganization } from "@tdt/test-support/organizations";
import { freePort } from "@tdt/test-support/ports";
import { type Replica, startReplica } from "@tdt/test-support/replica";
import { type LogEntry, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
/** A second gateway on the same services and NATS: it learns of changes only from the events. */
let second: Replica;
let clients: Array<ReturnType<typeof api>>;
let engineer: string;
let technician: string;

interface Tree {
  id: string;
  version: number;
  title: string;
  status: string;
}

const GET_TREE = "/tdt.trees.v1.TreesService/GetTree";
const GET_ME = "/tdt.auth.v1.AuthService/GetMe";
const LIST_TREES = "/tdt.trees.v1.TreesService/ListTrees";

/**
 * How many of `answers` the trees service served with `rpc` rather than a gateway's kept
 * answer, by their request ids. Known once a later list that surely reached the service (a
 * category nobody asked for) is in its log: one process logs in order, so a line of an earlier
 * request can no longer be on its way.
 */
async function served(rpc: string, answers: ReadonlyArray<{ headers: Headers }>): Promise<number> {
  const sentinel = await running.client.call("GET", `/api/v1/trees?category=${randomUUID()}`, { token: engineer });
  const sentinelId = sentinel.headers.get("x-request-id");
  const answered = (entry: LogEntry, what: string) =>
    entry.service === "trees" && entry.line.msg === "rpc" && entry.line.rpc === what;
  await running.system.waitForLogs(
    (entry) => answered(entry, LIST_TREES) && entry.line.request_id === sentinelId,
    "the sentinel list",
  );
  const ids = new Set(answers.map((answer) => answer.headers.get("x-request-id")));
  return running.system.logs.filter((entry) => answered(entry, rpc) && ids.has(entry.line.request_id as string)).length;
}

/** How many /auth/me reads the auth service has answered so far (from its log lines). */
function meServed(): number {
  return running.system.logs.filter(
    ({ service, line }) => service === "auth" && line.msg === "rpc" && line.rpc === GET_ME,
  ).length;
}

beforeAll(async () => {
  running = await startSystemWithAdmin();
  const port = await freePort();
  const { system } = running;
  second = await startReplica("gateway", "127.0.0.1", {
    LOG_LEVEL: "warn",
    GATEWAY_PORT: String(port),
    NATS_URL: system.nats.url,
    ...system.nats.serviceEnv.gateway,
    AUTH_PORT: system.addresses.auth.split(":")[1],
    TREES_PORT: system.addresses.trees.split(":")[1],
    SESSIONS_PORT: system.addresses.sessions.split(":")[1],
  });
  clients = [running.client, api(`http://127.0.0.1:${port}`)];
  engineer = await running.client.engineer(running.admin);
  technician = (await running.client.user("technician")).tokens.access_token;
});

afterAll(async () => {
  await second?.stop();
  await running?.stop();
});

async function create(body = printerTree()): Promise<Tree> {
  const response = await running.client.call<Tree>("POST", "/api/v1/trees", { token: engineer, json: body });
  expect(response.status).toBe(201);
  return response.body;
}

async function edit(tree: Tree, changes: Record<string, unknown>): Promise<Tree> {
  const response = await running.client.call<Tree>("PUT", `/api/v1/trees/${tree.id}`, {
    token: engineer,
    json: { ...printerTree(), ...changes, version: tree.version },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

async function read(client: ReturnType<typeof api>, id: string, token = technician) {
  return client.call<Tree>("GET", `/api/v1/trees/${id}`, { token });
}

/** Both gateways are following the tree changes: a read of the same tree twice reaches the service once. */
async function bothCaching(id: string): Promise<void> {
  await expect
    .poll(async () => {
      for (const client of clients) await read(client, id);
      return served(GET_TREE, await Promise.all(clients.map((client) => read(client, id))));
    })
    .toBe(0);
}

describe("the gateway's answers of tree lists, by organization", () => {
  it("keep organizations apart: A's list never answers B, and a change in B leaves A's kept", async () => {
    const authDb = connect(running.system.databases.auth.url);
    try {
      const engineerB = await running.client.user("eng-b");
      const org = await makeOrganization(authDb, [{ id: engineerB.id, role: "engineer" }]);
      const switched = await running.client.call<{ access_token: string }>("POST", "/api/v1/auth/switch-organization", {
        token: engineerB.tokens.access_token,
        json: { organization_id: org.id },
      });
      const tokenB = switched.body.access_token;
      const list = (client: ReturnType<typeof api>, token: string) =>
        client.call<Tree[]>("GET", "/api/v1/trees", { token });
      const listAll = async (token: string) => {
        const answers = [];
        for (const client of clients) answers.push(await list(client, token));
        return answers;
      };
      // A's engineers' list, kept by both gateways once each has it (no tree changes meanwhile:
      // this runs first, and the event of a change would drop it whenever it came).
      await expect
        .poll(async () => {
          await listAll(engineer);
          return served(LIST_TREES, await listAll(engineer));
        })
        .toBe(0);
      // B's engineers ask the same route and query: not A's kept answer, their own, from the service.
      const seen = await listAll(tokenB);
      for (const answer of seen) {
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual([]);
      }
      expect(await served(LIST_TREES, seen)).toBe(2);
      // A change in B: through one gateway, heard by the other over NATS.
      const made = await running.client.call<Tree>("POST", "/api/v1/trees", { token: tokenB, json: printerTree() });
      expect(made.status).toBe(201);
      await expect.poll(async () => (await list(clients[1] as ReturnType<typeof api>, tokenB)).body.length).toBe(1);
      // A's kept lists were not dropped for it.
      expect(await served(LIST_TREES, await listAll(engineer))).toBe(0);
    } finally {
      await authDb.end();
    }
  });
});

describe("the gateway's answers of tree reads", () => {
  it("are kept: a hundred reads of a tree through each gateway reach the trees service once each", async () => {
    const tree = await create(printerTree({ title: "Kept answers" }));
    await bothCaching(tree.id);
    const bodies = new Set<string>();
    const answers = [];
    for (let i = 0; i < 100; i++) {
      for (const client of clients) answers.push(await read(client, tree.id));
    }
    for (const answer of answers) bodies.add(JSON.stringify(answer.body));
    expect(await served(GET_TREE, answers)).toBe(0);
    // The same bytes as the service's own answer: one body, the tree at its version.
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0] as string)).toMatchObject({ id: tree.id, version: 1, title: "Kept answers" });
  });

  it("show every edit to the next read through the gateway that forwarded it, and on the other within a second, never going back", async () => {
    let tree = await create(printerTree({ title: "Edited 1" }));
    await bothCaching(tree.id);
    const EDITS = 25;
    /** When each version's edit was answered (by the first gateway, which forwarded it). */
    const answeredAt = new Map<number, number>([[1, 0]]);
    const reads: Array<{ gateway: number; reader: number; startedAt: number; version: number; title: string }> = [];
    let editing = true;
    const reader = async (gateway: number, index: number) => {
      const client = clients[gateway] as ReturnType<typeof api>;
      while (editing) {
        const startedAt = performance.now();
        const response = await read(client, tree.id, engineer);
        expect(response.status).toBe(200);
        reads.push({ gateway, reader: index, startedAt, version: response.body.version, title: response.body.title });
      }
    };
    const readers = [0, 1, 0, 1].map(reader);
    try {
      for (let version = 2; version <= EDITS + 1; version++) {
        tree = await edit(tree, { title: `Edited ${version}`, status: "published" });
        expect(tree.version).toBe(version);
        answeredAt.set(version, performance.now());
        // The forwarding gateway's next read: never the version before.
        expect((await read(clients[0] as ReturnType<typeof api>, tree.id, engineer)).body.title).toBe(
          `Edited ${version}`,
        );
        // The other gateway hears of it from trees.tree.changed, published before the edit was answered.
        await expect
          .poll(async () => (await read(clients[1] as ReturnType<typeof api>, tree.id, engineer)).body.title, {
            timeout: 1_000,
            interval: 5,
          })
          .toBe(`Edited ${version}`);
      }
    } finally {
      editing = false;
      await Promise.allSettled(readers);
    }
    expect(reads.filter(({ gateway }) => gateway === 0).length).toBeGreaterThan(EDITS);
    expect(reads.filter(({ gateway }) => gateway === 1).length).toBeGreaterThan(EDITS);
    // On the forwarding gateway, every read that began after an edit was answered shows it or a later one.
    const stale = reads.filter(
      ({ gateway, startedAt, version }) =>
        gateway === 0 && [...answeredAt].some(([edited, at]) => at < startedAt && version < edited),
    );
    expect(stale).toEqual([]);
    // On both, a reader never goes back to an older version than one it has seen.
    for (const index of [0, 1, 2, 3]) {
      const versions = reads.filter(({ reader }) => reader === index).map(({ version }) => version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    // And each read is consistent with itself: the title of the version it names.
    expect(reads.every(({ version, title }) => title === `Edited ${version}`)).toBe(true);
  });

  it("never show technicians a draft, and show them the publish at once", async () => {
    const tree = await create(printerTree({ title: "Published v1" }));
    await bothCaching(tree.id);
    const draft = await edit(tree, { title: "Draft v2", status: "draft" });
    for (const client of clients) {
      expect((await read(client, tree.id)).body).toMatchObject({ version: 1, title: "Published v1" });
      expect((await read(client, tree.id, engineer)).body).toMatchObject({ version: 2, title: "Draft v2" });
      // A draft version asked for by number is not the technician's either.
      expect((await client.call("GET", `/api/v1/trees/${tree.id}?version=2`, { token: technician })).status).toBe(404);
    }
    await edit(draft, { title: "Published v3", status: "published" });
    for (const client of clients) {
      expect((await read(client, tree.id)).body).toMatchObject({ version: 3, title: "Published v3" });
    }
  });

  it("forget a deleted tree at once: a 404 and gone from the list, on both gateways", async () => {
    const tree = await create(printerTree({ title: "Deleted soon", category: "Deletion" }));
    await bothCaching(tree.id);
    const listed = async (client: ReturnType<typeof api>) =>
      client.call<Tree[]>("GET", "/api/v1/trees?category=Deletion", { token: technician });
    for (const client of clients) expect((await listed(client)).body.map(({ id }) => id)).toEqual([tree.id]);
    const deleted = await running.client.call("DELETE", `/api/v1/trees/${tree.id}`, { token: running.admin });
    expect(deleted.status).toBe(204);
    for (const client of clients) {
      expect((await read(client, tree.id)).status).toBe(404);
      const list = await listed(client);
      expect(list.body).toEqual([]);
      expect(list.headers.get("x-total-count")).toBe("0");
    }
  });

  it("keep lists, their totals and search true to a new tree, while a repeated list is served from memory", async () => {
    const category = "Listing";
    const list = (client: ReturnType<typeof api>) =>
      client.call<Tree[]>("GET", `/api/v1/trees?category=${category}&limit=5`, { token: technician });
    const search = (client: ReturnType<typeof api>) =>
      client.call<Tree[]>("GET", "/api/v1/trees/search?q=zanzibar", { token: technician });
    await create(printerTree({ title: "Zanzibar one", category }));
    for (const client of clients) {
      await list(client);
      await search(client);
    }
    const repeated = await Promise.all(clients.map(list));
    for (const answer of repeated) expect(answer.headers.get("x-total-count")).toBe("1");
    expect(await served(LIST_TREES, repeated)).toBe(0);
    await create(printerTree({ title: "Zanzibar two", category }));
    for (const client of clients) {
      const page = await list(client);
      expect(page.headers.get("x-total-count")).toBe("2");
      expect(page.body.map(({ title }) => title)).toEqual(["Zanzibar two", "Zanzibar one"]);
      expect((await search(client)).body.map(({ title }) => title).sort()).toEqual(["Zanzibar one", "Zanzibar two"]);
    }
  });
});

describe("the gateway's answers of /auth/me", () => {
  it("are kept per user, and show an admin's change of the user to the next read on both gateways", async () => {
    const user = await running.client.user("account-cache");
    const me = (client: ReturnType<typeof api>) =>
      client.call<{ id: string; role: string; email: string }>("GET", "/api/v1/auth/me", {
        token: user.tokens.access_token,
      });
    const other = await running.client.user("account-cache-other");
    // Kept: once both gateways follow the auth events, repeated reads stay off the auth service.
    await expect
      .poll(async () => {
        for (const client of clients) await me(client);
        const before = meServed();
        for (const client of clients) await me(client);
        // Inside a poll: a line still on its way shows as a call and only makes it poll again.
        return meServed() - before;
      })
      .toBe(0);
    // Per user: another user's /me is their own.
    for (const client of clients) {
      expect((await me(client)).body.email).toBe(user.email);
      const theirs = await client.call<{ email: string }>("GET", "/api/v1/auth/me", {
        token: other.tokens.access_token,
      });
      expect(theirs.body.email).toBe(other.email);
    }
    // A change of the account ends its sessions (auth does that for a role change and a
    // deactivation): the old token is refused on both gateways within a second, cached answer
    // or not, and after a new login each gateway's next read shows the change.
    let token = user.tokens.access_token;
    for (const role of ["engineer", "technician"]) {
      const changed = await running.client.call("PATCH", `/api/v1/auth/users/${user.id}`, {
        token: running.admin,
        json: { role },
      });
      expect(changed.status).toBe(200);
      const old = token;
      await expect
        .poll(
          async () => {
            const statuses = [];
            for (const client of clients)
              statuses.push((await client.call("GET", "/api/v1/auth/me", { token: old })).status);
            return statuses;
          },
          { timeout: 1_000, interval: 50 },
        )
        .toEqual([401, 401]);
      token = (await running.client.login(user.email, user.password)).access_token;
      for (const client of clients) {
        const fresh = await client.call<{ role: string }>("GET", "/api/v1/auth/me", { token });
        expect(fresh.body.role).toBe(role);
      }
    }
  });
});

describe("while NATS is away", () => {
  it("every read goes to the service and sees every edit; once NATS is back the answers are kept again", async () => {
    let tree = await create(printerTree({ title: "Outage 1" }));
    await bothCaching(tree.id);
    await running.nats.stop();
    try {
      // The gateways notice the dropped link and stop serving from memory.
      await expect
        .poll(async () => served(GET_TREE, await Promise.all(clients.map((client) => read(client, tree.id)))))
        .toBe(2);
      for (let version = 2; version <= 4; version++) {
        tree = await edit(tree, { title: `Outage ${version}` });
        for (const client of clients) expect((await read(client, tree.id)).body.title).toBe(`Outage ${version}`);
      }
    } finally {
      await running.nats.start();
    }
    await bothCaching(tree.id);
    tree = await edit(tree, { title: "After the outage" });
    for (const client of clients) expect((await read(client, tree.id)).body.title).toBe("After the outage");
  }, 60_000);
});

describe("the verified-token caches", () => {
  it("refuse a logged-out session's token within a second on both gateways, cached reads included", async () => {
    const tree = await create(printerTree({ title: "Token cache" }));
    for (let trial = 0; trial < 5; trial++) {
      const { tokens } = await running.client.user(`cached-token-${trial}`);
      // Verified and remembered by both gateways and the trees service, the answer kept too.
      for (let i = 0; i < 3; i++) {
        for (const client of clients) expect((await read(client, tree.id, tokens.access_token)).status).toBe(200);
      }
      const out = await running.client.call("POST", "/api/v1/auth/logout", {
        token: tokens.access_token,
        json: {},
      });
      expect(out.status).toBe(204);
      // The guarantee, as the revocation tests state it: refused everywhere within a second.
      await expect
        .poll(
          async () => {
            const statuses = [];
            for (const client of clients) {
              statuses.push((await read(client, tree.id, tokens.access_token)).status);
              statuses.push((await client.call("GET", "/api/v1/auth/me", { token: tokens.access_token })).status);
            }
            return statuses;
          },
          { timeout: 1_000, interval: 50 },
        )
        .toEqual([401, 401, 401, 401]);
    }
  });
});
