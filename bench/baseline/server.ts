/**
 * The one-process baseline of issue 12: TDT's hot paths done by one fastify process with jose and
 * postgres.js against its own tables, written plainly, as the yardstick for `npm run bench`.
 *   DATABASE_URL (a server; the process makes and drops its own database), PORT
 * Prints `listening <port> <database>` when ready; SIGTERM ends it and drops the database.
 */
import { randomBytes, randomUUID } from "node:crypto";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import postgres from "postgres";
import { TABLES } from "./tables.js";
import { createTokens, REFRESH_SECONDS } from "./tokens.js";

const serverUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const port = Number(process.env.PORT ?? 0);

const databaseName = `tdt_bench_baseline_${randomBytes(4).toString("hex")}`;
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database "${databaseName}"`);
const databaseUrl = new URL(serverUrl);
databaseUrl.pathname = `/${databaseName}`;
const sql = postgres(databaseUrl.toString(), { max: 10, onnotice: () => {} });
await sql.unsafe(TABLES);

const tokens = await createTokens();

interface TreeNode {
  id: string;
  type: string;
  options?: Array<{ id: string; next: string }>;
  next?: string;
}
/** The nodes of each tree a session was started on: a tree's document never changes here. */
const treeNodes = new Map<string, Map<string, TreeNode>>();

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

async function caller(request: FastifyRequest) {
  const header = request.headers.authorization ?? "";
  if (!header.startsWith("Bearer ")) throw new Refused(401, "not_authenticated");
  return tokens.verifyAccess(header.slice(7)).catch(() => {
    throw new Refused(401, "invalid_token");
  });
}

const app = Fastify({ logger: false });
const byId = { params: { type: "object", properties: { id: { type: "string", format: "uuid" } } } };
app.setErrorHandler((error, _request, reply: FastifyReply) => {
  if (error instanceof Refused) return reply.status(error.status).send({ detail: error.detail });
  if ((error as { validation?: unknown }).validation) return reply.status(422).send({ detail: "invalid_request" });
  return reply.status(500).send({ detail: "internal_error" });
});

app.get<{ Params: { id: string } }>("/trees/:id", { schema: byId }, async (request, reply) => {
  await caller(request);
  const [row] = await sql<{ document: string }[]>`select document from trees where id = ${request.params.id}`;
  if (!row) throw new Refused(404, "tree_not_found");
  return reply.type("application/json").send(row.document);
});

const page = {
  querystring: {
    type: "object",
    properties: {
      limit: { type: "integer", minimum: 1, maximum: 100, default: 50 },
      skip: { type: "integer", minimum: 0, default: 0 },
    },
  },
};
app.get<{ Querystring: { limit: number; skip: number } }>("/trees", { schema: page }, async (request, reply) => {
  await caller(request);
  const { limit, skip } = request.query;
  const rows = await sql<{ summary: unknown; total: string }[]>`
    select summary, count(*) over () as total from trees order by title, id limit ${limit} offset ${skip}`;
  const total = rows[0] ? Number(rows[0].total) : 0;
  return reply.header("x-total-count", String(total)).send(rows.map((row) => row.summary));
});

app.get("/auth/me", async (request) => {
  const { sub } = await caller(request);
  const [user] = await sql`select id, email, full_name, role, created_at from users where id = ${sub}`;
  if (!user) throw new Refused(401, "invalid_token");
  return user;
});

app.post<{ Body: { refresh_token?: string } }>("/auth/refresh", async (request) => {
  const claims = await tokens.verifyRefresh(request.body?.refresh_token ?? "").catch(() => {
    throw new Refused(401, "invalid_refresh_token");
  });
  const childId = randomUUID();
  const user = await sql.begin(async (tx) => {
    const [spent] = await tx<{ user_id: string }[]>`
      update refresh_tokens set used_at = now()
      where id = ${claims.jti} and used_at is null and revoked_at is null and expires_at > now()
      returning user_id`;
    if (!spent) throw new Refused(401, "invalid_refresh_token");
    const [owner] = await tx<{ id: string; role: string }[]>`select id, role from users where id = ${spent.user_id}`;
    if (!owner) throw new Refused(401, "invalid_refresh_token");
    await tx`
      insert into refresh_tokens (id, user_id, family_id, parent_id, expires_at)
      values (${childId}, ${owner.id}, ${claims.family}, ${claims.jti}, now() + ${`${REFRESH_SECONDS} seconds`}::interval)`;
    await tx`
      insert into outbox (subject, payload)
      values ('auth.token.refreshed', ${tx.json({ user_id: owner.id, token_id: childId, parent_id: claims.jti })})`;
    return owner;
  });
  return tokens.pair(user, childId, claims.family);
});

interface SessionRow {
  id: string;
  tree_id: string;
  status: string;
  current_node_id: string;
  steps: unknown[];
  started_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

function sessionDocument(row: SessionRow) {
  const nodes = treeNodes.get(row.tree_id);
  return { ...row, current_node: nodes?.get(row.current_node_id) ?? null };
}

const startBody = {
  body: { type: "object", required: ["tree_id"], properties: { tree_id: { type: "string", format: "uuid" } } },
};
app.post<{ Body: { tree_id: string } }>("/sessions", { schema: startBody }, async (request, reply) => {
  const { sub } = await caller(request);
  const [tree] = await sql<{ document: string }[]>`select document from trees where id = ${request.body.tree_id}`;
  if (!tree) throw new Refused(404, "tree_not_found");
  const document = JSON.parse(tree.document) as { root_node_id: string; nodes: TreeNode[] };
  treeNodes.set(request.body.tree_id, new Map(document.nodes.map((node) => [node.id, node])));
  const [row] = await sql<SessionRow[]>`
    insert into sessions (id, user_id, tree_id, status, current_node_id)
    values (${randomUUID()}, ${sub}, ${request.body.tree_id}, 'active', ${document.root_node_id})
    returning id, tree_id, status, current_node_id, steps, started_at, updated_at, completed_at`;
  return reply.status(201).send(sessionDocument(row as SessionRow));
});

/** Where a step leads: an answer follows its option, a `continue` follows an action node. */
function nextNodeOf(node: TreeNode | undefined, op: string, optionId: string | undefined): string | undefined {
  if (op === "answer" && node?.type === "question") return node.options?.find((option) => option.id === optionId)?.next;
  if (op === "continue" && node?.type === "action") return node.next;
  return undefined;
}

app.put<{ Params: { id: string }; Body: { op: string; node_id: string; option_id?: string; note?: string } }>(
  "/sessions/:id",
  {
    schema: {
      ...byId,
      body: {
        type: "object",
        required: ["op", "node_id"],
        properties: { op: { type: "string" }, node_id: { type: "string" }, option_id: { type: "string" } },
      },
    },
  },
  async (request) => {
    const { sub } = await caller(request);
    const { op, node_id, option_id, note } = request.body;
    const row = await sql.begin(async (tx) => {
      const [session] = await tx<SessionRow[]>`
        select tree_id, current_node_id, status from sessions
        where id = ${request.params.id} and user_id = ${sub} for update`;
      if (!session) throw new Refused(404, "session_not_found");
      if (session.status !== "active") throw new Refused(409, "session_not_active");
      if (session.current_node_id !== node_id) throw new Refused(409, "not_the_current_node");
      const nodes = treeNodes.get(session.tree_id);
      const nextId = nextNodeOf(nodes?.get(node_id), op, option_id);
      if (!nextId) throw new Refused(422, "step_not_allowed_here");
      const finished = nodes?.get(nextId)?.type === "solution";
      const step = { op, node_id, option_id: option_id ?? null, note: note ?? null, at: new Date().toISOString() };
      const [updated] = await tx<SessionRow[]>`
        update sessions set
          steps = steps || ${tx.json([step])},
          current_node_id = ${nextId},
          status = ${finished ? "completed" : "active"},
          completed_at = ${finished ? sql`now()` : null},
          updated_at = now()
        where id = ${request.params.id}
        returning id, tree_id, status, current_node_id, steps, started_at, updated_at, completed_at`;
      return updated as SessionRow;
    });
    return sessionDocument(row);
  },
);

// Loading the benchmark's data, not measured: a user with a first token pair, and a tree.
app.post<{ Body: { email: string; full_name: string; role: string } }>("/bench/users", async (request) => {
  const user = { id: randomUUID(), role: request.body.role };
  const refreshId = randomUUID();
  await sql`insert into users (id, email, full_name, role)
    values (${user.id}, ${request.body.email}, ${request.body.full_name}, ${user.role})`;
  await sql`insert into refresh_tokens (id, user_id, family_id, expires_at)
    values (${refreshId}, ${user.id}, ${refreshId}, now() + ${`${REFRESH_SECONDS} seconds`}::interval)`;
  return tokens.pair(user, refreshId, refreshId);
});
app.post<{ Body: { id: string; title: string; summary: unknown; document: string } }>(
  "/bench/trees",
  async (request, reply) => {
    const { id, title, summary, document } = request.body;
    await sql`insert into trees (id, title, summary, document) values (${id}, ${title}, ${sql.json(summary as never)}, ${document})`;
    return reply.status(201).send({ id });
  },
);

const address = await app.listen({ host: "127.0.0.1", port });
console.log(`listening ${new URL(address).port} ${databaseName}`);

process.once("SIGTERM", async () => {
  await app.close();
  await sql.end();
  await admin.unsafe(`drop database if exists "${databaseName}" with (force)`);
  await admin.end();
  process.exit(0);
});
