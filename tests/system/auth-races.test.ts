/**
 * Issue 8: ending a login session races a refresh of it. Refresh is fired together with each
 * way a session ends (logout, logout-all, revoke-one, a role change, deactivation), hundreds of
 * trials each, through the gateway. Counted: 0 answers of 5xx, and 1.5 s after the ending call
 * answered, no token of that session works anywhere: the gateway, auth, and trees and sessions
 * called directly over gRPC. Tokens minted by a refresh that won the race are included.
 *
 * The 1.5 s are the claim, so each trial waits them out; meanwhile its lane starts the next
 * trial on another user (a user's trials still run one after another), so the deadlines overlap
 * instead of adding up.
 */
import { createServiceClient, type ServiceClient } from "@tdt/kit";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { type ApiResponse, type api, claimsOf, type TokenPair } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Trials per way of ending a session; RACE_TRIALS overrides it for a longer hunt. */
const TRIALS = Number(process.env.RACE_TRIALS ?? 200);
/** Trials racing at once. */
const LANES = 16;
/**
 * Users taking turns in those lanes, the same for every test: each user runs its trials one after
 * another, resting while the deadline of its last one runs out and it is checked, and a lane takes
 * whichever user is free.
 */
const USERS = 4 * LANES;
const REVOCATION_DEADLINE_MS = 1500;

type Ending = "logout" | "logout_all" | "revoke_one" | "role_change" | "deactivate";
const ENDINGS: Ending[] = ["logout", "logout_all", "revoke_one", "role_change", "deactivate"];

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let trees: ServiceClient<typeof TreesServiceService>;
let sessions: ServiceClient<typeof SessionsServiceService>;
let users: Array<{ id: string; email: string; password: string; role: string }>;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  client = running.client;
  trees = createServiceClient(TreesServiceService, running.system.addresses.trees, { timeoutMs: 5000 });
  sessions = createServiceClient(SessionsServiceService, running.system.addresses.sessions, { timeoutMs: 5000 });
  users = await Promise.all(
    Array.from({ length: USERS }, async () => {
      const account = await client.register(client.uniqueEmail("race"));
      return { ...account, role: "technician" };
    }),
  );
});

afterAll(async () => {
  trees?.close();
  sessions?.close();
  await running?.stop();
});

interface Tally {
  statuses: Record<string, number>;
  refreshWon: number;
  /** Everything that went wrong, described; the test wants none. */
  violations: string[];
}

/** The request that ends the session (or the user's sessions), as its user or an admin. */
function endSession(ending: Ending, user: { id: string; role: string }, pair: TokenPair): Promise<ApiResponse> {
  const admin = running.admin;
  switch (ending) {
    case "logout":
      return client.call("POST", "/api/v1/auth/logout", { token: pair.access_token });
    case "logout_all":
      return client.call("POST", "/api/v1/auth/logout?all=true", { token: pair.access_token });
    case "revoke_one":
      return client.call("DELETE", `/api/v1/auth/sessions/${claimsOf(pair.refresh_token).sid}`, {
        token: pair.access_token,
      });
    case "role_change":
      user.role = user.role === "technician" ? "engineer" : "technician";
      return client.call("PATCH", `/api/v1/auth/users/${user.id}`, { token: admin, json: { role: user.role } });
    case "deactivate":
      return client.call("PATCH", `/api/v1/auth/users/${user.id}`, { token: admin, json: { is_active: false } });
  }
}

const EXPECTED_ENDING_STATUS: Record<Ending, number> = {
  logout: 204,
  logout_all: 204,
  revoke_one: 204,
  role_change: 200,
  deactivate: 200,
};

/** Every place an access token can be used, and whether it was accepted there. */
async function placesAccepting(accessToken: string): Promise<string[]> {
  const options = { requestId: "auth-race", accessToken };
  const refused = (error: { code?: number }) => (error.code === 16 ? false : Promise.reject(error));
  const checks: Array<[string, Promise<boolean>]> = [
    ["gateway /auth/me", client.call("GET", "/api/v1/auth/me", { token: accessToken }).then((r) => r.status !== 401)],
    [
      "gateway /trees",
      client.call("GET", "/api/v1/trees?limit=1", { token: accessToken }).then((r) => r.status !== 401),
    ],
    ["trees over gRPC", trees.listCategories({}, options).then(() => true, refused)],
    ["sessions over gRPC", sessions.listSessions({ all: false, skip: 0, limit: 1 }, options).then(() => true, refused)],
  ];
  const results = await Promise.all(checks.map(async ([place, accepted]) => [place, await accepted] as const));
  return results.filter(([, accepted]) => accepted).map(([place]) => place);
}

/** Waits until REVOCATION_DEADLINE_MS after `since` (ms epoch): the deadline the claim is about. */
function deadline(since: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, since + REVOCATION_DEADLINE_MS - Date.now()));
}

/**
 * Runs TRIALS trials, LANES at a time, each on a user of `users` no other trial holds. `race`
 * runs a trial up to its answers and returns the rest of it (waiting out the deadline, checking);
 * its lane goes on at once with another user, and this user is free again when the rest is done.
 */
async function runTrials<U>(users: U[], race: (user: U) => Promise<() => Promise<void>>): Promise<void> {
  const free = [...users];
  const waiting: Array<(user: U) => void> = [];
  const take = () => {
    const user = free.shift();
    return user !== undefined ? Promise.resolve(user) : new Promise<U>((handed) => waiting.push(handed));
  };
  const give = (user: U) => {
    const next = waiting.shift();
    if (next) next(user);
    else free.push(user);
  };
  const rests: Promise<void>[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (started < TRIALS) {
        started += 1;
        const user = await take();
        const rest = (await race(user))().finally(() => give(user));
        rest.catch(() => {}); // reported by the Promise.all below, not as unhandled meanwhile
        rests.push(rest);
      }
    }),
  );
  await Promise.all(rests);
}

/** A trial up to the answers of the refresh and the ending; the rest checks the tokens after the deadline. */
async function trial(
  ending: Ending,
  user: { id: string; email: string; password: string; role: string },
  tally: Tally,
): Promise<() => Promise<void>> {
  const pair = await client.login(user.email, user.password);
  const [refresh, ended] = await Promise.all([
    client.call<TokenPair>("POST", "/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } }),
    endSession(ending, user, pair),
  ]);
  const answeredAt = Date.now();
  for (const response of [refresh, ended]) {
    const key = `${response === refresh ? "refresh" : ending} ${response.status}`;
    tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
    if (response.status >= 500) tally.violations.push(`${key}: ${JSON.stringify(response.body)}`);
  }
  if (ended.status !== EXPECTED_ENDING_STATUS[ending]) {
    tally.violations.push(`${ending} answered ${ended.status} ${JSON.stringify(ended.body)}`);
  }
  if (refresh.status !== 200 && refresh.status !== 401) {
    tally.violations.push(`refresh answered ${refresh.status}`);
  }

  const accessTokens = [pair.access_token];
  const refreshTokens = [pair.refresh_token];
  if (refresh.status === 200) {
    tally.refreshWon += 1;
    accessTokens.push(refresh.body.access_token);
    refreshTokens.push(refresh.body.refresh_token);
  }
  return async () => {
    await deadline(answeredAt);
    for (const [index, token] of accessTokens.entries()) {
      const accepted = await placesAccepting(token);
      if (accepted.length > 0) {
        tally.violations.push(
          `${ending}: ${index === 0 ? "the first" : "the rotated"} access token accepted by ${accepted}`,
        );
      }
    }
    for (const [index, token] of refreshTokens.entries()) {
      const again = await client.call("POST", "/api/v1/auth/refresh", { json: { refresh_token: token } });
      if (again.status !== 401) {
        tally.violations.push(
          `${ending}: ${index === 0 ? "the first" : "the rotated"} refresh token answered ${again.status}`,
        );
      }
    }

    if (ending === "deactivate" && ended.status === 200) {
      const reactivated = await client.call("PATCH", `/api/v1/auth/users/${user.id}`, {
        token: running.admin,
        json: { is_active: true },
      });
      if (reactivated.status !== 200) throw new Error(`could not reactivate: ${reactivated.status}`);
    }
  };
}

describe("a refresh racing the end of its login session", () => {
  it.each(ENDINGS)(
    "%s: no 5xx, and no token of the ended session works anywhere 1.5 s after the answer",
    async (ending) => {
      const tally: Tally = { statuses: {}, refreshWon: 0, violations: [] };
      await runTrials(users, (user) => trial(ending, user, tally));
      console.log(
        `${ending}: ${TRIALS} trials ${JSON.stringify(tally.statuses)}, refresh won ${tally.refreshWon}, ${tally.violations.length} violations`,
      );
      expect(tally.violations.slice(0, 20)).toEqual([]);
      expect(Object.values(tally.statuses).reduce((sum, count) => sum + count, 0)).toBe(2 * TRIALS);
    },
    600_000,
  );

  it("a login racing its user's deactivation: refused, or its tokens stop working with the rest", async () => {
    const tally: Tally = { statuses: {}, refreshWon: 0, violations: [] };
    await runTrials(users, async (user) => {
      const [login, deactivated] = await Promise.all([
        client.call<TokenPair>("POST", "/api/v1/auth/login/json", {
          json: { email: user.email, password: user.password },
        }),
        client.call("PATCH", `/api/v1/auth/users/${user.id}`, { token: running.admin, json: { is_active: false } }),
      ]);
      const answeredAt = Date.now();
      for (const [name, response] of [
        ["login", login],
        ["deactivate", deactivated],
      ] as const) {
        tally.statuses[`${name} ${response.status}`] = (tally.statuses[`${name} ${response.status}`] ?? 0) + 1;
      }
      if (deactivated.status !== 200 || (login.status !== 200 && login.status !== 401)) {
        tally.violations.push(`login ${login.status}, deactivate ${deactivated.status}`);
      }
      return async () => {
        if (login.status === 200) {
          tally.refreshWon += 1;
          await deadline(answeredAt);
          const accepted = await placesAccepting(login.body.access_token);
          if (accepted.length > 0) tally.violations.push(`a deactivated user's access token accepted by ${accepted}`);
          const refresh = await client.call("POST", "/api/v1/auth/refresh", {
            json: { refresh_token: login.body.refresh_token },
          });
          if (refresh.status !== 401) tally.violations.push(`a deactivated user's refresh answered ${refresh.status}`);
        }
        const reactivated = await client.call("PATCH", `/api/v1/auth/users/${user.id}`, {
          token: running.admin,
          json: { is_active: true },
        });
        if (reactivated.status !== 200) throw new Error(`could not reactivate: ${reactivated.status}`);
      };
    });
    console.log(
      `login vs deactivate: ${TRIALS} trials ${JSON.stringify(tally.statuses)}, login won ${tally.refreshWon}, ${tally.violations.length} violations`,
    );
    expect(tally.violations.slice(0, 20)).toEqual([]);
  }, 600_000);
});
