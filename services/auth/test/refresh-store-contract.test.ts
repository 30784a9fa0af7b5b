/**
 * One contract for the refresh algorithm's storage (`RefreshTransaction`), run against the
 * in-memory double of the unit tests and against Postgres: what the unit tests prove with the
 * double holds for the service only while both keep these rules.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_ORGANIZATION_ID, inTransaction } from "@tdt/kit";
import { beforeAll, describe, expect, it } from "vitest";
import { endLoginSessions, openLoginSession } from "../src/login-sessions.js";
import { PRESETS } from "../src/policy.js";
import type { RefreshTransaction, RotationChild } from "../src/refresh.js";
import {
  findRefreshUser,
  postgresRefreshTransaction,
  recordRefreshToken,
  rotateRefreshToken,
} from "../src/refresh-store.js";
import type { SessionClaims, TokenPair } from "../src/token-minting.js";
import { createUser } from "../src/users.js";
import { useAuthDatabase } from "./support/auth-database.js";
import { MemoryRefreshStore } from "./support/memory-refresh-store.js";

/** What the contract needs of a store: the transaction under test, and a way to set up and look. */
interface RefreshStoreUnderTest {
  /** Opens a login session under a policy with this grace window. */
  openSession(reuseGraceSeconds: number): Promise<{ sid: string; userId: string }>;
  /** A refresh token as login records it. */
  recordToken(jti: string, session: { sid: string; userId: string }): Promise<void>;
  /** Ends a login session outside a refresh: a logout. */
  endSessionOutside(sid: string): Promise<void>;
  transaction<T>(work: (tx: RefreshTransaction) => Promise<T>): Promise<T>;
  /** The refresh's one-step rotation (`RefreshPorts.rotate`). */
  rotateAtOnce(parentJti: string, child: RotationChild, session: SessionClaims): Promise<boolean>;
  /** The hint read before it (`RefreshUser.rotatable`). */
  rotatable(jti: string, session: { sid: string; userId: string }): Promise<boolean>;
  /** The token's row: when it was revoked (epoch seconds) and why. */
  token(jti: string): Promise<{ revokedAt: number | undefined; reason: string | null }>;
}

/** The refresh algorithm's clock: far enough from the database's `now()` that a mix-up shows. */
const AT = Math.floor(Date.now() / 1000) - 3600;
const SESSION = { auth_time: AT, idle_max: 3600, abs_max: 7200 };

function pair(n: number): TokenPair {
  return { access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer", expires_in: 900 };
}

function describeRefreshStore(name: string, store: () => RefreshStoreUnderTest) {
  const rotate = async (
    session: { sid: string; userId: string },
    parent: string,
    options: { keyHash?: string | null; at?: number } = {},
  ) => {
    const child = randomUUID();
    await store().transaction(async (tx) => {
      expect(await tx.lockSession(session.sid)).toBe(true);
      expect(await tx.consume(parent, options.at ?? AT)).toBe(true);
      await tx.recordChild(
        parent,
        {
          pair: pair(1),
          refreshJti: child,
          refreshExp: AT + 3600,
          sid: session.sid,
          userId: session.userId,
          issuedAt: AT,
          idempotencyKeyHash: options.keyHash ?? null,
        },
        SESSION,
      );
    });
    return child;
  };

  const childOf = (session: { sid: string; userId: string }, keyHash: string | null = null): RotationChild => ({
    pair: pair(2),
    refreshJti: randomUUID(),
    refreshExp: AT + 3600,
    sid: session.sid,
    userId: session.userId,
    issuedAt: AT,
    idempotencyKeyHash: keyHash,
  });

  /** Grace seconds, Idempotency-Key hash, and whether the child pair is kept for a retry. */
  const CHILD_PAIR_KEPT = [
    [0, null, false],
    [0, "hash-1", true],
    [10, null, true],
  ] as const;

  describe(`the refresh store contract: ${name}`, () => {
    it("rotates an unused token of an open session in one step, as consume and recordChild do", async () => {
      for (const [grace, keyHash, kept] of CHILD_PAIR_KEPT) {
        const session = await store().openSession(grace);
        const parent = randomUUID();
        await store().recordToken(parent, session);
        expect(await store().rotatable(parent, session)).toBe(true);
        const child = childOf(session, keyHash);
        expect(await store().rotateAtOnce(parent, child, SESSION)).toBe(true);
        expect(await store().rotatable(parent, session)).toBe(false);
        expect(await store().transaction((tx) => tx.consumedToken(parent))).toEqual({
          reason: "rotated",
          revokedAt: AT,
          childPair: kept ? pair(2) : null,
          childLive: true,
          reuseGraceSeconds: grace,
          idempotencyKeyHash: keyHash,
        });
        expect(await store().token(child.refreshJti)).toEqual({ revokedAt: undefined, reason: null });
        // The child rotates in turn, the same way.
        expect(await store().rotateAtOnce(child.refreshJti, childOf(session), SESSION)).toBe(true);
      }
    });

    it("rotates nothing at once for a consumed token, an ended session or another session's token", async () => {
      const session = await store().openSession(10);
      const [consumed, live] = [randomUUID(), randomUUID()];
      await store().recordToken(consumed, session);
      await store().recordToken(live, session);
      expect(await store().transaction((tx) => tx.consume(consumed, AT))).toBe(true);
      expect(await store().rotatable(consumed, session)).toBe(false);
      const refused = childOf(session);
      expect(await store().rotateAtOnce(consumed, refused, SESSION)).toBe(false);
      expect(await store().token(consumed)).toEqual({ revokedAt: AT, reason: null });
      // No child was recorded: there is no row to consume.
      expect(await store().transaction((tx) => tx.consume(refused.refreshJti, AT))).toBe(false);

      const other = await store().openSession(0);
      expect(await store().rotatable(live, other)).toBe(false);
      expect(await store().rotateAtOnce(live, childOf(other), SESSION)).toBe(false);

      await store().endSessionOutside(session.sid);
      expect(await store().rotatable(live, session)).toBe(false);
      expect(await store().rotateAtOnce(live, childOf(session), SESSION)).toBe(false);
      expect(await store().token(live)).toMatchObject({ reason: "session_ended" });
    });

    it("stamps revoked_at with the algorithm's clock, and consumes a token once", async () => {
      const session = await store().openSession(0);
      const jti = randomUUID();
      await store().recordToken(jti, session);
      expect(await store().transaction((tx) => tx.consume(jti, AT))).toBe(true);
      expect(await store().transaction((tx) => tx.consume(jti, AT + 5))).toBe(false);
      expect(await store().token(jti)).toEqual({ revokedAt: AT, reason: null });
    });

    it("locks an open login session as open, an ended or unknown one as closed", async () => {
      const session = await store().openSession(0);
      expect(await store().transaction((tx) => tx.lockSession(session.sid))).toBe(true);
      await store().endSessionOutside(session.sid);
      expect(await store().transaction((tx) => tx.lockSession(session.sid))).toBe(false);
      expect(await store().transaction((tx) => tx.lockSession(randomUUID()))).toBe(false);
    });

    it("keeps the child pair only under a grace window or an Idempotency-Key", async () => {
      for (const [grace, keyHash, kept] of CHILD_PAIR_KEPT) {
        const session = await store().openSession(grace);
        const parent = randomUUID();
        await store().recordToken(parent, session);
        await rotate(session, parent, { keyHash });
        expect(await store().transaction((tx) => tx.consumedToken(parent))).toEqual({
          reason: "rotated",
          revokedAt: AT,
          childPair: kept ? pair(1) : null,
          childLive: true,
          reuseGraceSeconds: grace,
          idempotencyKeyHash: keyHash,
        });
      }
    });

    it("sees the child as used once it has been rotated in turn", async () => {
      const session = await store().openSession(10);
      const parent = randomUUID();
      await store().recordToken(parent, session);
      const child = await rotate(session, parent);
      await rotate(session, child, { at: AT + 1 });
      expect(await store().transaction((tx) => tx.consumedToken(parent))).toMatchObject({ childLive: false });
      expect(await store().token(child)).toEqual({ revokedAt: AT + 1, reason: "rotated" });
    });

    it("ends a session in a refresh: the consumed token gets the reason, the others are revoked as ended", async () => {
      const session = await store().openSession(0);
      const [consumed, live] = [randomUUID(), randomUUID()];
      await store().recordToken(consumed, session);
      await store().recordToken(live, session);
      await store().transaction(async (tx) => {
        expect(await tx.lockSession(session.sid)).toBe(true);
        expect(await tx.consume(consumed, AT)).toBe(true);
        await tx.endSession(session.sid, { kind: "expired", reason: "absolute" });
      });
      expect(await store().token(consumed)).toEqual({ revokedAt: AT, reason: "expired_absolute" });
      expect(await store().token(live)).toMatchObject({ reason: "session_ended", revokedAt: expect.any(Number) });
      expect(await store().transaction((tx) => tx.lockSession(session.sid))).toBe(false);
    });

    it("gives a token ended with its session no reuse signal and no pair", async () => {
      const session = await store().openSession(10);
      const parent = randomUUID();
      await store().recordToken(parent, session);
      const child = await rotate(session, parent);
      await store().endSessionOutside(session.sid);
      expect(await store().transaction((tx) => tx.consume(child, AT))).toBe(false);
      expect(await store().transaction((tx) => tx.consumedToken(child))).toMatchObject({
        reason: "session_ended",
        childPair: null,
      });
      // The rotated parent keeps its reason: presenting it is still reuse, in a session already over.
      expect(await store().transaction((tx) => tx.consumedToken(parent))).toMatchObject({ reason: "rotated" });
    });

    it("knows no consumed token for an unknown jti", async () => {
      expect(await store().transaction((tx) => tx.consumedToken(randomUUID()))).toBeUndefined();
    });
  });
}

const memory = (() => {
  // The double's stand-in for the database's now(): what ending a session stamps.
  const db = new MemoryRefreshStore(() => Math.floor(Date.now() / 1000));
  const harness: RefreshStoreUnderTest = {
    openSession: async (grace) => {
      const sid = randomUUID();
      db.openSession(sid, grace);
      return { sid, userId: "u" };
    },
    recordToken: async (jti, session) => db.recordToken(jti, session.sid),
    endSessionOutside: async (sid) => db.endSessionOutside(sid),
    transaction: (work) => db.transaction(work),
    rotateAtOnce: (parentJti, child, session) => db.rotate(parentJti, child, session),
    rotatable: async (jti, session) => db.rotatable({ jti, sid: session.sid }),
    token: async (jti) => {
      const row = db.tokens.get(jti);
      return { revokedAt: row?.revokedAt, reason: row?.reason ?? null };
    },
  };
  return harness;
})();
describeRefreshStore("in memory", () => memory);

const database = useAuthDatabase("auth_refresh_contract");
let userId: string;
beforeAll(async () => {
  const user = await createUser(database.sql, {
    email: "contract@example.com",
    password: "correct horse battery",
    full_name: "Contract",
    role: "technician",
  });
  userId = user.id;
});
describeRefreshStore("Postgres", () => ({
  openSession: async (grace) => {
    const policy = { preset: "custom" as const, ...PRESETS.strict, reuse_grace_seconds: grace };
    const sid = await inTransaction(database.sql, (tx) =>
      openLoginSession(tx, {
        userId,
        orgId: DEFAULT_ORGANIZATION_ID,
        policy,
        authTime: new Date(AT * 1000),
        userAgent: "",
        ip: "",
      }),
    );
    return { sid, userId };
  },
  recordToken: (jti, session) =>
    inTransaction(database.sql, (tx) =>
      recordRefreshToken(tx, { jti, sid: session.sid, userId: session.userId, issuedAt: AT, expiresAt: AT + 3600 }),
    ),
  endSessionOutside: async (sid) => {
    await inTransaction(database.sql, (tx) =>
      endLoginSessions(tx, { sids: [sid] }, { kind: "revoked", reason: "logout" }),
    );
  },
  transaction: (work) => inTransaction(database.sql, (tx) => work(postgresRefreshTransaction(tx))),
  rotateAtOnce: (parentJti, child, session) => rotateRefreshToken(database.sql, parentJti, child, session),
  rotatable: async (jti, session) =>
    (await findRefreshUser(database.sql, session.userId, { jti, sid: session.sid }))?.rotatable ?? false,
  token: async (jti) => {
    const [row] = await database.sql<{ revoked_at: Date | null; revoked_reason: string | null }[]>`
      select revoked_at, revoked_reason from refresh_tokens where jti = ${jti}`;
    return {
      revokedAt: row?.revoked_at ? Math.floor(row.revoked_at.getTime() / 1000) : undefined,
      reason: row?.revoked_reason ?? null,
    };
  },
}));
