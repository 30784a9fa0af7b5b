/**
 * A call's statements stop at its deadline (grpc/call-deadline.ts), on a real gRPC server and a
 * real PostgreSQL: a read its caller gave up on no longer runs on in the database, while work the
 * call only woke (detached from it) and work outside any call run as long as they take.
 */
import { randomUUID } from "node:crypto";
import {
  callTimeLeftMs,
  createServiceClient,
  detachedFromCall,
  type GrpcServerHandle,
  GrpcStatus,
  type Handlers,
  implement,
  inOrganization,
  inTransaction,
  readServiceError,
  type ServiceClient,
  startGrpcServer,
} from "@tdt/kit";
import { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { notFoundHandlers } from "@tdt/test-support/grpc-handlers";
import { testLogger } from "@tdt/test-support/silent-logger";
import { grpcErrorOf } from "@tdt/test-support/thrown";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const log = testLogger("kit-call-deadline-test");
const ORG = randomUUID();
type Auth = typeof AuthServiceService;

let database: { name: string; url: string };
let sql: Sql;
let observer: Sql;
let server: GrpcServerHandle;
let client: ServiceClient<Auth>;
/** What the detached work of the last call came to. */
let detached: Promise<unknown> = Promise.resolve();

/** A statement that sleeps `seconds`, findable in pg_stat_activity by `marker`. */
const sleeping = (marker: string, seconds: number) => `select pg_sleep(${seconds}) /* ${marker} */`;

/**
 * `getJwks` answers what is left of its call; `revokeLoginSession`'s `sid` says what it does:
 * `slow:<marker>` sleeps 30 s in its organization's transaction, `plain:<marker>` in a transaction of
 * no organization, `wake:<marker>` starts a 1.5 s
 * one detached from itself and answers.
 */
const handlers: Handlers<Auth> = {
  ...notFoundHandlers(AuthServiceService),
  getJwks: async () => ({ jwks_json: JSON.stringify({ left: callTimeLeftMs() }) }),
  revokeLoginSession: async (request) => {
    const [what, marker = ""] = request.sid.split(":");
    if (what === "slow") await inOrganization(sql, ORG, (tx) => tx.unsafe(sleeping(marker, 30)));
    if (what === "plain") await inTransaction(sql, (tx) => tx.unsafe(sleeping(marker, 30)));
    if (what === "wake") {
      detached = detachedFromCall(() => inOrganization(sql, ORG, (tx) => tx.unsafe(sleeping(marker, 1.5))));
      detached.catch(() => {});
    }
    return {};
  },
};

/** The backends running a statement with `marker` now. */
async function running(marker: string): Promise<number> {
  const [row] = await observer<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where state = 'active' and query like ${`%/* ${marker} */%`} and pid <> pg_backend_pid()`;
  return row?.n ?? 0;
}

beforeAll(async () => {
  database = await createDatabase("kit_call_deadline");
  sql = connect(database.url);
  observer = connect(database.url);
  server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    bindings: [implement(AuthServiceService, handlers, log)],
    serviceNames: ["tdt.auth.v1.AuthService"],
    log,
  });
  client = createServiceClient(AuthServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 400 });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(2_000);
  await sql?.end({ timeout: 1 });
  await observer?.end();
  if (database) await dropDatabase(database.name);
});

describe("a call's statements", () => {
  it("stop at its deadline: 8 racing calls of a 30 s read give DEADLINE_EXCEEDED, and none runs on", async () => {
    const markers = Array.from({ length: 8 }, () => randomUUID());
    const outcomes = await Promise.all(
      markers.map(async (marker) =>
        readServiceError(
          await grpcErrorOf(client.revokeLoginSession({ sid: `slow:${marker}` }, { requestId: marker })),
        ),
      ),
    );
    expect(outcomes.map(({ code }) => code)).toEqual(markers.map(() => GrpcStatus.DEADLINE_EXCEEDED));
    // The server stopped each statement itself (statement_timeout), not only the caller waiting.
    await expect
      .poll(async () => (await Promise.all(markers.map(running))).reduce((a, b) => a + b, 0), { timeout: 2_000 })
      .toBe(0);
    // And the pool is whole: a next call is served.
    const fine = await client.revokeLoginSession({ sid: "fine" }, { requestId: "after" });
    expect(fine).toBeDefined();
  });

  it("stop at its deadline in any transaction, not only an organization's", async () => {
    const marker = randomUUID();
    const { code } = readServiceError(
      await grpcErrorOf(client.revokeLoginSession({ sid: `plain:${marker}` }, { requestId: marker })),
    );
    expect(code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    await expect.poll(() => running(marker), { timeout: 2_000 }).toBe(0);
  });

  it("know what is left of the call while serving it", async () => {
    const { left } = JSON.parse((await client.getJwks({}, { requestId: "left" })).jwks_json) as { left: number };
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(400);
    expect(callTimeLeftMs()).toBeUndefined();
  });

  it("bind no work the call only woke: a detached 1.5 s statement outlives the 0.4 s deadline and completes", async () => {
    const marker = randomUUID();
    await client.revokeLoginSession({ sid: `wake:${marker}` }, { requestId: marker });
    await new Promise((resolve) => setTimeout(resolve, 600));
    // Past the call's deadline, still running.
    expect(await running(marker)).toBe(1);
    await expect(detached).resolves.toBeDefined();
  });

  it("are not bound outside a call", async () => {
    const rows = await inOrganization(sql, ORG, (tx) => tx.unsafe(sleeping(randomUUID(), 0.6)));
    expect(rows).toHaveLength(1);
  });
});
