/**
 * Issue 29 under faults: sessions run while every connection of the hooks service's database is
 * terminated three times, 300 ms apart (a failover, a restart). Its consumers and its delivery
 * worker ride it out: every event reaches the receiver, each applied once (by `webhook-id`), a
 * session's events in order, and the hooks process never exits.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, SERVER_URL } from "@tdt/test-support/database";
import { engineerWithTree, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SESSIONS = 12;
const RESETS = 3;

let running: SystemWithAdmin;
let treeId: string;

beforeAll(async () => {
  running = await startSystemWithAdmin({ WEBHOOK_RETRY_SCHEDULE: "1,1,1,1,2,2,2,2,3,3,3,3" });
  ({ treeId } = await engineerWithTree(running));
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

describe("the hooks database reset while events flow", () => {
  it("delivers every event once, in order per session, and hooks never exits", { timeout: 120_000 }, async () => {
    // A receiver that applies each webhook-id once, in the order first received.
    const applied: Array<{ subject: string; type: string }> = [];
    const seen = new Set<string>();
    let repeats = 0;
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const id = String(request.headers["webhook-id"]);
        if (seen.has(id)) repeats += 1;
        else {
          seen.add(id);
          const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { subject: string; type: string };
          applied.push({ subject: event.subject, type: event.type });
        }
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { client, admin } = running;
    const made = await client.call<{ id: string }>("POST", "/api/v1/webhooks", {
      token: admin,
      json: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
        events: ["tdt.session.started", "tdt.session.completed"],
      },
    });
    expect(made.status).toBe(201);

    const database = running.system.databases.hooks.name;
    const server = connect(SERVER_URL);
    const terminated: number[] = [];
    const sessions: string[] = [];
    try {
      const runs = (async () => {
        for (let index = 0; index < SESSIONS; index += 1) {
          const { tokens } = await client.user();
          const started = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
            token: tokens.access_token,
            json: { tree_id: treeId },
          });
          expect(started.status).toBe(201);
          sessions.push(started.body.id);
          const done = await client.call("POST", `/api/v1/sessions/${started.body.id}/complete`, {
            token: tokens.access_token,
            json: { outcome: "escalated" },
          });
          expect(done.status).toBe(200);
        }
      })();
      for (let reset = 0; reset < RESETS; reset += 1) {
        await new Promise((wake) => setTimeout(wake, 300));
        const rows = await server`
          select pg_terminate_backend(pid) as terminated from pg_stat_activity
          where datname = ${database} and pid <> pg_backend_pid()`;
        terminated.push(rows.filter((row) => row.terminated).length);
      }
      await runs;
      await expect.poll(() => applied.length, { timeout: 60_000, interval: 200 }).toBe(SESSIONS * 2);
    } finally {
      await server.end();
      await new Promise((resolve) => receiver.close(resolve));
    }
    const hooks = running.system.stack.processes.get("hooks");
    console.info(`webhook resets: ${JSON.stringify({ terminated, applied: applied.length, repeats })}`);
    expect(terminated.some((count) => count > 0)).toBe(true);
    expect(hooks?.exitCode).toBeNull();
    expect(hooks?.signalCode).toBeNull();
    for (const session of sessions) {
      expect(
        applied.filter((event) => event.subject === session).map((event) => event.type),
        session,
      ).toEqual(["tdt.session.started", "tdt.session.completed"]);
    }
    expect(running.system.logs.filter(({ service, line }) => service === "hooks" && line.level === "fatal")).toEqual(
      [],
    );
  });
});
