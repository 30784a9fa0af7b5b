/**
 * Issue 25: `npm start` says which Postgres it uses, and why, in one line: the server that
 * answers (URL without its password, version, whether DATABASE_URL named it), or why it starts
 * an embedded one; a server that refuses the URL DATABASE_URL names, or an embedded port
 * already taken, is one sentence, never a stack. And which database each service uses.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVER_URL } from "@tdt/test-support/database";
import { freePort } from "@tdt/test-support/ports";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensurePostgres, type RunContext } from "../../scripts/infrastructure.js";
import { type ConnectedDatabase, connectedDatabaseIn, databasesLine } from "../../scripts/service-databases.js";
import type { ServiceName } from "../../scripts/stack.js";

let folder: string;
let said: string[];
let context: RunContext;
const servers: Server[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tdt-postgres-choice-"));
  said = [];
  context = { say: (line) => said.push(line), avoid: [], keep: () => {} };
});

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((closed) => server.close(closed));
  await rm(folder, { recursive: true, force: true });
});

const redacted = (url: string) => url.replace(/:[^:@/]+@/, ":***@");

describe("which Postgres npm start uses", () => {
  it("the server DATABASE_URL names, when it answers: its URL, version and origin, and it stops nothing", async () => {
    const used = await ensurePostgres({ DATABASE_URL: SERVER_URL }, folder, context);
    expect(used.url).toBe(SERVER_URL);
    expect(used.process).toBeUndefined();
    expect(used.summary).toMatch(
      new RegExp(`^${literal(redacted(SERVER_URL))} \\(PostgreSQL \\d+\\.\\d+, found answering at DATABASE_URL\\)$`),
    );
    expect(said).toEqual([`Postgres: ${used.summary}.`]);
  });

  it("a server that refuses the URL DATABASE_URL names is an error of one sentence, and nothing is started", async () => {
    const url = new URL(SERVER_URL);
    url.pathname = "/tdt_no_such_database_here";
    const refused = await ensurePostgres({ DATABASE_URL: url.toString() }, folder, context).catch((error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused.message).toBe(
      `the Postgres at ${redacted(url.toString())} (DATABASE_URL) refuses the connection: database "tdt_no_such_database_here" does not exist`,
    );
    expect(said).toEqual([]);
  });

  it("an EMBEDDED_POSTGRES_PORT in use is one sentence naming the port and its variable", async () => {
    const [absent, taken] = [await freePort(), await freePort()];
    const server = createServer();
    servers.push(server);
    await new Promise<void>((listening) => server.listen(taken, "127.0.0.1", listening));
    const env = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${absent}/postgres`,
      EMBEDDED_POSTGRES_PORT: String(taken),
    };
    await expect(ensurePostgres(env, folder, context)).rejects.toThrow(
      new RegExp(`^port ${taken} \\(EMBEDDED_POSTGRES_PORT\\) is already in use by another program$`),
    );
  });
});

describe("which database each service uses", () => {
  const line = (service: string, database: string, url: string) =>
    JSON.stringify({ level: "info", service, database, url, msg: "database connected" });

  it("is read from each service's own 'database connected' line, in the services' order", () => {
    const server = "postgres://postgres:***@127.0.0.1:54329/postgres";
    const found = new Map<ServiceName, ConnectedDatabase>();
    for (const [service, database, url] of [
      ["sessions", "tdt_sessions", "postgres://postgres:***@127.0.0.1:54329/tdt_sessions"],
      ["auth", "tdt_auth", "postgres://postgres:***@127.0.0.1:54329/tdt_auth"],
      // An operator's TREES_DATABASE_URL on another server: named with its URL.
      ["trees", "trees", "postgres://tdt:***@db.internal:5432/trees"],
    ] as const) {
      const connected = connectedDatabaseIn(line(service, database, url));
      if (connected) found.set(service, connected);
    }
    expect(databasesLine(found, server)).toBe(
      "auth tdt_auth, trees trees at postgres://tdt:***@db.internal:5432/trees, sessions tdt_sessions",
    );
    expect(connectedDatabaseIn('{"level":"info","msg":"database created","database":"tdt_auth"}')).toBeUndefined();
    expect(connectedDatabaseIn("database connected")).toBeUndefined();
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
