/**
 * The refresh algorithm's storage in memory, for the unit tests of the algorithm. It keeps the
 * rules of `postgresRefreshTransaction` (src/refresh-store.ts), and the contract suite
 * (test/refresh-store-contract.test.ts) runs the same cases against both.
 */
import type { SessionEnd } from "../../src/login-sessions.js";
import type { ConsumedToken, RefreshTransaction, RotationChild } from "../../src/refresh.js";
import type { SessionClaims, TokenPair } from "../../src/token-minting.js";

export interface MemoryTokenRow {
  sid: string;
  /** Epoch seconds. */
  revokedAt?: number;
  reason: string | null;
  child?: string;
  childPair: TokenPair | null;
  keyHash: string | null;
}

export class MemoryRefreshStore {
  readonly tokens = new Map<string, MemoryTokenRow>();
  /** Login sessions by sid: open or not, and the grace window of the policy they were opened under. */
  readonly sessions = new Map<string, { open: boolean; reuseGraceSeconds: number }>();
  /** The sessions a refresh ended, in order. */
  readonly ended: Array<{ sid: string; end: SessionEnd }> = [];

  /** `clock` stands for the database's `now()`, which stamps what ending a session revokes. */
  constructor(private readonly clock: () => number) {}

  openSession(sid: string, reuseGraceSeconds: number): void {
    this.sessions.set(sid, { open: true, reuseGraceSeconds });
  }

  /** A refresh token as login records it. */
  recordToken(jti: string, sid: string): void {
    this.tokens.set(jti, { sid, reason: null, childPair: null, keyHash: null });
  }

  /** A login session ended outside a refresh (logout, revocation, deactivation): `endLoginSessions`. */
  endSessionOutside(sid: string): void {
    const session = this.sessions.get(sid);
    if (!session?.open) return;
    session.open = false;
    this.revokeLiveTokens(sid);
  }

  transaction<T>(work: (tx: RefreshTransaction) => Promise<T>): Promise<T> {
    return work(this.refreshTransaction());
  }

  /** `findRefreshUser`'s hint: the token unused and its login session open. */
  rotatable(token: { sid: string; jti: string }): boolean {
    const row = this.tokens.get(token.jti);
    return row?.sid === token.sid && row.revokedAt === undefined && (this.sessions.get(token.sid)?.open ?? false);
  }

  /** `rotateRefreshToken`: consume and record the child at once, or change nothing. */
  async rotate(parentJti: string, child: RotationChild, session: SessionClaims): Promise<boolean> {
    if (!this.rotatable({ sid: child.sid, jti: parentJti })) return false;
    const tx = this.refreshTransaction();
    await tx.consume(parentJti, child.issuedAt);
    await tx.recordChild(parentJti, child, session);
    return true;
  }

  private revokeLiveTokens(sid: string): void {
    for (const row of this.tokens.values()) {
      if (row.sid === sid && row.revokedAt === undefined) {
        row.revokedAt = this.clock();
        row.reason = "session_ended";
        row.childPair = null;
      }
    }
  }

  private refreshTransaction(): RefreshTransaction {
    return {
      lockSession: async (sid) => this.sessions.get(sid)?.open ?? false,

      consume: async (jti, at) => {
        const row = this.tokens.get(jti);
        if (!row || row.revokedAt !== undefined) return false;
        row.revokedAt = at;
        return true;
      },

      consumedToken: async (jti): Promise<ConsumedToken | undefined> => {
        const row = this.tokens.get(jti);
        const session = row && this.sessions.get(row.sid);
        if (!row || row.revokedAt === undefined || !session) return undefined;
        const child = row.child ? this.tokens.get(row.child) : undefined;
        return {
          reason: row.reason,
          revokedAt: row.revokedAt,
          childPair: row.childPair,
          childLive: child !== undefined && child.revokedAt === undefined,
          reuseGraceSeconds: session.reuseGraceSeconds,
          idempotencyKeyHash: row.keyHash,
        };
      },

      endSession: async (sid, end) => {
        this.ended.push({ sid, end });
        const session = this.sessions.get(sid);
        if (session?.open) {
          session.open = false;
          this.revokeLiveTokens(sid);
        }
        // The consumed token itself is marked with the reason the session ended.
        for (const row of this.tokens.values()) {
          if (row.sid === sid && row.reason === null) {
            row.reason = end.kind === "expired" ? `expired_${end.reason}` : end.reason;
          }
        }
      },

      recordChild: async (parentJti, child) => {
        this.recordToken(child.refreshJti, child.sid);
        const parent = this.tokens.get(parentJti);
        if (!parent) return;
        parent.reason = "rotated";
        parent.child = child.refreshJti;
        parent.keyHash = child.idempotencyKeyHash;
        // Kept only while it may be asked for again: a grace window, or a retry with the same key.
        const grace = this.sessions.get(child.sid)?.reuseGraceSeconds ?? 0;
        parent.childPair = child.idempotencyKeyHash !== null || grace > 0 ? child.pair : null;
      },
    };
  }
}
