import { AppError, DEFAULT_ORGANIZATION_ID } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { PRESETS } from "../src/policy.js";
import {
  IDEMPOTENCY_WINDOW_SECONDS,
  isPastAbsoluteDeadline,
  type RefreshPorts,
  refreshSession,
  resolveRefreshClaims,
} from "../src/refresh.js";
import type { RefreshClaims, TokenPair } from "../src/token-minting.js";
import { MemoryRefreshStore } from "./support/memory-refresh-store.js";

const DAY = 86_400;
const NOW = 1_800_000_000;

/** The refresh algorithm's ports in memory: the rules without a network or a database. */
function world(options: { grace?: number; userActive?: boolean; now?: number } = {}) {
  const claimsByToken = new Map<string, RefreshClaims>();
  let minted = 0;
  let clock = options.now ?? NOW;
  const store = new MemoryRefreshStore(() => clock);
  const policy = { preset: "strict" as const, ...PRESETS.strict };

  const ports: RefreshPorts = {
    now: () => clock,
    verify: async (token) => {
      const claims = claimsByToken.get(token);
      if (!claims) throw new AppError("invalid_refresh_token");
      return claims;
    },
    findUser: async (id, token) => ({
      id,
      role: "technician",
      org: DEFAULT_ORGANIZATION_ID,
      is_active: options.userActive ?? true,
      rotatable: store.rotatable(token),
    }),
    currentPolicy: async () => policy,
    mint: async (_user, sid, session) => {
      minted += 1;
      const refreshJti = `jti-${minted}`;
      const pair: TokenPair = {
        access_token: `access-${minted}`,
        refresh_token: `refresh-${minted}`,
        token_type: "bearer",
        expires_in: 900,
      };
      claimsByToken.set(pair.refresh_token, {
        sub: "u",
        sid,
        jti: refreshJti,
        iat: clock,
        exp: clock + session.idle_max,
        ...session,
      });
      return { pair, refreshJti, refreshExp: clock + session.idle_max };
    },
    transaction: (work) => store.transaction(work),
    rotate: (parentJti, child, session) => store.rotate(parentJti, child, session),
  };

  /** A stored refresh token, as login would have made it. */
  const issue = (claims: Partial<RefreshClaims> & { jti: string }) => {
    const full: RefreshClaims = { sub: "u", sid: "s1", iat: clock, exp: clock + 3 * DAY, ...claims };
    if (!store.sessions.has(full.sid)) store.openSession(full.sid, options.grace ?? 0);
    store.recordToken(full.jti, full.sid);
    claimsByToken.set(`token-${full.jti}`, full);
    return `token-${full.jti}`;
  };

  /** A logout: the session ends and every token of it is revoked. */
  const logout = (sid: string) => store.endSessionOutside(sid);

  return {
    ports,
    issue,
    logout,
    ended: store.ended,
    tokens: store.tokens,
    advance: (seconds: number) => {
      clock += seconds;
    },
    get minted() {
      return minted;
    },
  };
}

const refusal = (code: string) => expect.objectContaining({ code });

describe("the refresh algorithm (SPEC §4.3)", () => {
  it("refuses a token whose auth_time is backdated by exactly abs_max: the deadline equal to now has passed", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW - 14 * DAY, idle_max: 3 * DAY, abs_max: 14 * DAY });
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("session_expired_absolute"));
    expect(w.ended).toEqual([{ sid: "s1", end: { kind: "expired", reason: "absolute" } }]);
    expect(w.minted).toBe(0);
  });

  it("rotates a token one second before the absolute deadline", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW - 14 * DAY + 1, idle_max: 3 * DAY, abs_max: 14 * DAY });
    const pair = await refreshSession(token, w.ports);
    expect(pair.refresh_token).toBe("refresh-1");
  });

  it("consumes an absolute-expired token: the second try is invalid_refresh_token", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW - 20 * DAY, idle_max: 3 * DAY, abs_max: 14 * DAY });
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("session_expired_absolute"));
    expect(w.tokens.get("a")?.revokedAt).toBe(NOW);
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.ended).toHaveLength(1);
  });

  it("grandfathers a legacy token once, with the account's policy snapshot (strict: 3 d / 14 d)", async () => {
    const w = world();
    const legacy = w.issue({ jti: "old" });
    const pair = await refreshSession(legacy, w.ports);
    const next = await w.ports.verify(pair.refresh_token);
    expect(next).toMatchObject({ auth_time: NOW, idle_max: 3 * DAY, abs_max: 14 * DAY });
    await expect(refreshSession(legacy, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
  });

  it("carries auth_time, idle_max and abs_max forward unchanged", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW - 5 * DAY, idle_max: 2 * DAY, abs_max: 9 * DAY });
    const pair = await refreshSession(token, w.ports);
    expect(await w.ports.verify(pair.refresh_token)).toMatchObject({
      auth_time: NOW - 5 * DAY,
      idle_max: 2 * DAY,
      abs_max: 9 * DAY,
    });
  });

  it("refuses an inactive user's token without consuming it", async () => {
    const w = world({ userActive: false });
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.tokens.get("a")?.revokedAt).toBeUndefined();
  });

  it("refuses a token of a login session that has ended, minting nothing and announcing no reuse", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    w.logout("s1");
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.minted).toBe(0);
    expect(w.ended).toEqual([]);
  });

  it("refuses the predecessor within the grace window once the login session has ended", async () => {
    const w = world({ grace: 10 });
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    await refreshSession(token, w.ports);
    w.logout("s1");
    w.advance(1);
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.minted).toBe(1);
  });

  it("treats a rotated token presented again as reuse and revokes the whole login session", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    const child = await refreshSession(token, w.ports);
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.ended).toEqual([{ sid: "s1", end: { kind: "revoked", reason: "refresh_token_reuse" } }]);
    // The thief's replay also killed the child the legitimate holder has.
    await expect(refreshSession(child.refresh_token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
  });

  it("returns the same child pair within the grace window, and calls it reuse after", async () => {
    const w = world({ grace: 10 });
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    const first = await refreshSession(token, w.ports);
    w.advance(10);
    expect(await refreshSession(token, w.ports)).toEqual(first);
    w.advance(1);
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.ended.map((entry) => entry.end.reason)).toEqual(["refresh_token_reuse"]);
  });

  it("answers a retry with the same Idempotency-Key with the same pair, even with no grace window", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    const first = await refreshSession(token, w.ports, "key-1");
    w.advance(IDEMPOTENCY_WINDOW_SECONDS);
    expect(await refreshSession(token, w.ports, "key-1")).toEqual(first);
    expect(w.minted).toBe(1);
    expect(w.ended).toEqual([]);
    // The pair it got keeps working: the session was never revoked.
    await expect(refreshSession(first.refresh_token, w.ports)).resolves.toBeDefined();
  });

  it("calls it reuse when the key differs, is missing, or comes after the window", async () => {
    for (const [key, wait] of [
      ["key-2", 0],
      [undefined, 0],
      ["key-1", IDEMPOTENCY_WINDOW_SECONDS + 1],
    ] as const) {
      const w = world();
      const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
      await refreshSession(token, w.ports, "key-1");
      w.advance(wait);
      await expect(refreshSession(token, w.ports, key)).rejects.toEqual(refusal("invalid_refresh_token"));
      expect(w.ended.map((entry) => entry.end.reason)).toEqual(["refresh_token_reuse"]);
    }
  });

  it("does not answer a key's retry once the child it got has been used", async () => {
    const w = world();
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    const first = await refreshSession(token, w.ports, "key-1");
    await refreshSession(first.refresh_token, w.ports, "key-2");
    await expect(refreshSession(token, w.ports, "key-1")).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.ended.map((entry) => entry.end.reason)).toEqual(["refresh_token_reuse"]);
  });

  it("calls a grandparent presented within the grace window reuse: only the immediate predecessor is let through", async () => {
    const w = world({ grace: 10 });
    const token = w.issue({ jti: "a", auth_time: NOW, idle_max: DAY, abs_max: 2 * DAY });
    const child = await refreshSession(token, w.ports);
    await refreshSession(child.refresh_token, w.ports);
    await expect(refreshSession(token, w.ports)).rejects.toEqual(refusal("invalid_refresh_token"));
    expect(w.ended).toHaveLength(1);
  });
});

describe("refresh helpers", () => {
  it("uses >= at the absolute boundary", () => {
    const session = { auth_time: 100, idle_max: 10, abs_max: 50 };
    expect(isPastAbsoluteDeadline(session, 149)).toBe(false);
    expect(isPastAbsoluteDeadline(session, 150)).toBe(true);
  });

  it("keeps a token's own claims over the current policy", () => {
    const claims = { sub: "u", sid: "s", jti: "j", iat: 1, exp: 2, auth_time: 5, idle_max: 6, abs_max: 7 };
    expect(resolveRefreshClaims(claims, 99, { preset: "aal2", ...PRESETS.aal2 })).toEqual({
      auth_time: 5,
      idle_max: 6,
      abs_max: 7,
    });
  });

  it("treats a token missing any one of the three claims as legacy", () => {
    const claims = { sub: "u", sid: "s", jti: "j", iat: 1, exp: 2, auth_time: 5, idle_max: 6 };
    expect(resolveRefreshClaims(claims, 99, { preset: "aal2", ...PRESETS.aal2 })).toEqual({
      auth_time: 99,
      idle_max: 1800,
      abs_max: 43_200,
    });
  });
});
