/**
 * Issue 8: ending a login session races a refresh of it. Refresh is fired together with each
 * way a session ends (logout, logout-all, revoke-one, a role change, deactivation), hundreds of
 * trials each, through the gateway. Counted: 0 answers of 5xx, and 1.5 s after the ending call
 * answered, no token of that session works anywhere: the gateway, auth, and trees and sessions
 * called directly over gRPC. Tokens minted by a refresh that won the race are included.
 */
import { createServiceClient, type ServiceClient } from "@tdt/kit";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";
import { type ApiResponse, type api, claimsOf, type TokenPair } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Trials per way of ending a session; RACE_TRIALS overrides it for a longer hunt. */
const TRIALS = Number(process.env.RACE_TRIALS ?? 200);
/** Users racing at once; each user runs its trials one after another. */
const LANES = 16;
const REVOCATION_DEADLINE_MS = 1500;

type Ending = "logout" | "logout_all" | "revoke_one" | "role_change" | "deactivate";
const ENDINGS: Ending[] = ["logout", "logout_all", "revoke_one", "role_change", "deactivate"];

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let trees: ServiceClient<typeof TreesServiceService>;
let sessions: ServiceClient<typeof SessionsServiceService>;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  client = running.client;
  trees = createServiceClient(TreesServiceService, running.system.addresses.trees, { timeoutMs: 5000 });
  sessions = createServiceClient(SessionsServiceService, running.system.addresses.sessions, { timeoutMs: 5000 });
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

async function trial(
  ending: Ending,
  user: { id: string; email: string; password: string; role: string },
  tally: Tally,
) {
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
  await new Promise((wake) => setTimeout(wake, answeredAt + REVOCATION_DEADLINE_MS - Date.now()));
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
}

describe("a refresh racing the end of its login session", () => {
  it.each(ENDINGS)(
    "%s: no 5xx, and no token of the ended session works anywhere 1.5 s after the answer",
    async (ending) => {
      const tally: Tally = { statuses: {}, refreshWon: 0, violations: [] };
      const users = await Promise.all(
        Array.from({ length: LANES }, async () => {
          const account = await client.register(client.uniqueEmail(`race-${ending}`));
          return { ...account, role: "technician" };
        }),
      );
      await Promise.all(
        users.map(async (user, lane) => {
          for (let index = lane; index < TRIALS; index += LANES) await trial(ending, user, tally);
        }),
      );
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
    const users = await Promise.all(
      Array.from({ length: LANES }, () => client.register(client.uniqueEmail("race-login"))),
    );
    await Promise.all(
      users.map(async (user, lane) => {
        for (let index = lane; index < TRIALS; index += LANES) {
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
          if (login.status === 200) {
            tally.refreshWon += 1;
            await new Promise((wake) => setTimeout(wake, answeredAt + REVOCATION_DEADLINE_MS - Date.now()));
            const accepted = await placesAccepting(login.body.access_token);
            if (accepted.length > 0) tally.violations.push(`a deactivated user's access token accepted by ${accepted}`);
            const refresh = await client.call("POST", "/api/v1/auth/refresh", {
              json: { refresh_token: login.body.refresh_token },
            });
            if (refresh.status !== 401)
              tally.violations.push(`a deactivated user's refresh answered ${refresh.status}`);
          }
          const reactivated = await client.call("PATCH", `/api/v1/auth/users/${user.id}`, {
            token: running.admin,
            json: { is_active: true },
          });
          if (reactivated.status !== 200) throw new Error(`could not reactivate: ${reactivated.status}`);
        }
      }),
    );
    console.log(
      `login vs deactivate: ${TRIALS} trials ${JSON.stringify(tally.statuses)}, login won ${tally.refreshWon}, ${tally.violations.length} violations`,
    );
    expect(tally.violations.slice(0, 20)).toEqual([]);
  }, 600_000);
});
