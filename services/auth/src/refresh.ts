import { createHash } from "node:crypto";
import { AppError, type AppErrorCode, type Role } from "@tdt/kit";
import type { SessionEnd } from "./login-sessions.js";
import type { SessionPolicy } from "./policy.js";
import type { RefreshClaims, SessionClaims, TokenPair } from "./token-minting.js";

/**
 * POST /auth/refresh — the seed's algorithm (SPEC §4.3), kept step by step, plus reuse
 * detection with a grace window. Everything it touches comes in through `RefreshPorts`, so
 * the algorithm is a plain function: Postgres in the service, an in-memory double in unit tests.
 */
export async function refreshSession(token: string, ports: RefreshPorts, idempotencyKey?: string): Promise<TokenPair> {
  const keyHash = idempotencyKey ? hashIdempotencyKey(idempotencyKey) : null;

  // 1. Verify the JWT: an expired `exp` is the idle limit, anything else is invalid.
  const claims = await ports.verify(token);

  // 2. Load the user; missing or inactive → invalid. The same read tells whether the token looks
  //    rotatable (unused, its login session open), without a lock: only a hint for step 2a.
  const user = await ports.findUser(claims.sub, { sid: claims.sid, jti: claims.jti });
  if (!user?.is_active) throw invalidRefreshToken();

  const now = ports.now();
  const carried = carriedSessionClaims(claims);

  // 2a. The common case in one atomic step, without a transaction's round trips: a token that
  //     carries its session claims, before the absolute deadline, unused, of an open login
  //     session. `rotate` does steps 4–7 as one statement or changes nothing; when it changed
  //     nothing (a race since the read), the full algorithm below decides, as if alone.
  if (carried && user.rotatable && !isPastAbsoluteDeadline(carried, now)) {
    const child = await ports.mint(user, claims.sid, carried, now);
    const rotated = await ports.rotate(
      claims.jti,
      { ...child, sid: claims.sid, userId: user.id, issuedAt: now, idempotencyKeyHash: keyHash },
      carried,
    );
    if (rotated) return child.pair;
  }

  // 3. The effective auth_time / idle_max / abs_max, grandfathering a legacy token (the
  //    account's policy is read only for one).
  const session = carried ?? resolveRefreshClaims(claims, now, await ports.currentPolicy(user.org));

  const outcome = await ports.transaction(async (tx): Promise<Outcome> => {
    // 4. Lock the login session (the one lock order of every path that ends or rotates in it),
    //    then consume the token whatever happens next (one compare-and-set).
    const sessionOpen = await tx.lockSession(claims.sid);
    const consumed = await tx.consume(claims.jti, now);

    // 5. A login session already ended (logout, revocation, deactivation) refreshes nothing;
    //    a token already consumed gets the same child again within the grace window, else is reuse.
    if (!sessionOpen) return { kind: "refused", code: "invalid_refresh_token" };
    if (!consumed) return handleConsumedToken(tx, claims, now, keyHash);

    // 6. At or past the absolute deadline: the revoke commits, the session ends.
    if (isPastAbsoluteDeadline(session, now)) {
      await tx.endSession(claims.sid, { kind: "expired", reason: "absolute" });
      return { kind: "refused", code: "session_expired_absolute" };
    }

    // 7. Mint the new pair, carrying the session's claims forward.
    const child = await ports.mint(user, claims.sid, session, now);
    await tx.recordChild(
      claims.jti,
      { ...child, sid: claims.sid, userId: user.id, issuedAt: now, idempotencyKeyHash: keyHash },
      session,
    );
    return { kind: "issued", pair: child.pair };
  });

  // Refusals are thrown only now, after the transaction that consumed the token committed.
  if (outcome.kind === "refused") throw new AppError(outcome.code);
  return outcome.pair;
}

type Outcome = { kind: "issued"; pair: TokenPair } | { kind: "refused"; code: AppErrorCode };

/** A token that was consumed before: who consumed it, and what it was rotated into. */
export interface ConsumedToken {
  /** "rotated" when a refresh replaced it; anything else (logout, expiry) is no reuse signal. */
  reason: string | null;
  revokedAt: number;
  /** The pair it was rotated into, kept only under a policy with a grace window. */
  childPair: TokenPair | null;
  /** The child is still unused: this token is its immediate predecessor. */
  childLive: boolean;
  reuseGraceSeconds: number;
  /** The hash of the Idempotency-Key the rotation was asked with, if any. */
  idempotencyKeyHash: string | null;
}

/** The child a rotation records: the new pair, its refresh token's row, and the key it was asked with. */
export interface RotationChild {
  pair: TokenPair;
  refreshJti: string;
  refreshExp: number;
  sid: string;
  userId: string;
  issuedAt: number;
  /** Set when the client sent an Idempotency-Key: the child pair is then kept for a retry. */
  idempotencyKeyHash: string | null;
}

/** The user behind a refresh token, read before anything is locked. */
export interface RefreshUser {
  id: string;
  /** The role in the login session's organization. */
  role: Role;
  /** The login session's organization. */
  org: string;
  is_active: boolean;
  /**
   * The token was unused and its login session open when read: worth trying the one-step
   * rotation. Only a hint: `rotate` checks both again under its lock.
   */
  rotatable: boolean;
}

export interface RefreshTransaction {
  /** Locks the login session row before any of its tokens; true while the session is open. */
  lockSession(sid: string): Promise<boolean>;
  /**
   * Marks the token used, once: true for the one call that does. `at` (the algorithm's clock,
   * epoch seconds) stamps `revoked_at`, so the grace and idempotency windows are measured on
   * the clock that reads them (`now - revokedAt` in step 5).
   */
  consume(jti: string, at: number): Promise<boolean>;
  consumedToken(jti: string): Promise<ConsumedToken | undefined>;
  endSession(sid: string, end: SessionEnd): Promise<void>;
  recordChild(parentJti: string, child: RotationChild, session: SessionClaims): Promise<void>;
}

export interface RefreshPorts {
  /** Epoch seconds. */
  now(): number;
  verify(token: string): Promise<RefreshClaims>;
  findUser(id: string, token: { sid: string; jti: string }): Promise<RefreshUser | undefined>;
  /** The policy of an organization. */
  currentPolicy(orgId: string): Promise<SessionPolicy>;
  mint(
    user: { id: string; role: Role; org: string },
    sid: string,
    session: SessionClaims,
    /** The algorithm's own clock reading, so the token and its row agree on when it was issued. */
    now: number,
  ): Promise<{ pair: TokenPair; refreshJti: string; refreshExp: number }>;
  transaction<T>(work: (tx: RefreshTransaction) => Promise<T>): Promise<T>;
  /**
   * Steps 4–7 at once, atomically, for the common case: when the login session is open and the
   * token unused (checked under the session's lock, taken first as in `lockSession`), consume
   * the token and record its child exactly as `consume` + `recordChild` would, and return true;
   * otherwise change nothing and return false.
   */
  rotate(parentJti: string, child: RotationChild, session: SessionClaims): Promise<boolean>;
}

export function invalidRefreshToken(): AppError {
  return new AppError("invalid_refresh_token");
}

/** The session claims a token carries, or undefined for a legacy token without them. */
export function carriedSessionClaims(claims: RefreshClaims): SessionClaims | undefined {
  if (claims.auth_time === undefined || claims.idle_max === undefined || claims.abs_max === undefined) return undefined;
  return { auth_time: claims.auth_time, idle_max: claims.idle_max, abs_max: claims.abs_max };
}

/**
 * Step 3. A token that carries its session claims keeps them; a legacy token without them is
 * grandfathered: its session starts now, under a snapshot of the account's current policy.
 */
export function resolveRefreshClaims(claims: RefreshClaims, now: number, policy: SessionPolicy): SessionClaims {
  const carried = carriedSessionClaims(claims);
  if (carried) return carried;
  return { auth_time: now, idle_max: policy.idle_max_seconds, abs_max: policy.abs_max_seconds };
}

/** Step 6. `>=`: a deadline equal to now has passed. */
export function isPastAbsoluteDeadline(session: SessionClaims, now: number): boolean {
  return now >= session.auth_time + session.abs_max;
}

/** How long a refresh sent with an Idempotency-Key can be retried with the same key. */
export const IDEMPOTENCY_WINDOW_SECONDS = 60;

/** Only a hash of the client's key is stored. */
export function hashIdempotencyKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * Step 5. The immediate predecessor of a still-unused child gets that same child pair when it
 * comes again within the grace window (two tabs refreshing at once), or within a minute with the
 * Idempotency-Key it was first sent with (a retry after a lost answer). Any other rotated token
 * presented again is reuse: the whole login session is revoked.
 */
async function handleConsumedToken(
  tx: RefreshTransaction,
  claims: RefreshClaims,
  now: number,
  keyHash: string | null,
): Promise<Outcome> {
  const previous = await tx.consumedToken(claims.jti);
  if (previous?.reason !== "rotated") return { kind: "refused", code: "invalid_refresh_token" };
  const since = now - previous.revokedAt;
  const withinGrace = previous.reuseGraceSeconds > 0 && since <= previous.reuseGraceSeconds;
  const sameRequestAgain =
    keyHash !== null && previous.idempotencyKeyHash === keyHash && since <= IDEMPOTENCY_WINDOW_SECONDS;
  if ((withinGrace || sameRequestAgain) && previous.childLive && previous.childPair) {
    return { kind: "issued", pair: previous.childPair };
  }
  await tx.endSession(claims.sid, { kind: "revoked", reason: "refresh_token_reuse" });
  return { kind: "refused", code: "invalid_refresh_token" };
}
