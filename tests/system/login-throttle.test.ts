/**
 * The login throttle end to end (issue 23, docs/decisions/login-throttling.md): real processes,
 * logins through the gateway, which takes the client address from `X-Forwarded-For`
 * (TRUST_PROXY) and forwards it to auth. Failures count per (email, address) and per address,
 * never per email alone: guessing the admin's password from elsewhere cannot keep the admin out.
 */
import { type ApiResponse, api } from "@tdt/test-support/api";
import { ADMIN, type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PAIR_FREE = 5;
const ADDRESS_FREE = 20;

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  running = await startSystemWithAdmin({
    TRUST_PROXY: "true",
    // The shipped default, which the system tests otherwise lift: before the throttle, its
    // per-email window let 10 wrong passwords a minute from anywhere keep the admin out.
    LOGIN_RATE_LIMIT_PER_MINUTE: "10",
    LOGIN_FREE_FAILURES: String(PAIR_FREE),
    LOGIN_FREE_FAILURES_PER_ADDRESS: String(ADDRESS_FREE),
  });
  client = api(running.system.url);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

function login(email: string, password: string, from: string): Promise<ApiResponse<{ detail?: string }>> {
  return client.call("POST", "/api/v1/auth/login/json", {
    json: { email, password },
    headers: { "x-forwarded-for": from },
  });
}

const sleep = (seconds: number) => new Promise((wake) => setTimeout(wake, seconds * 1000));

/** The admin's email as an attacker may type it: any case, any surrounding spaces. */
const ADMIN_SPELLINGS = [
  `  ${ADMIN.email.toUpperCase()}  `,
  ADMIN.email,
  ` ${ADMIN.email[0]?.toUpperCase()}${ADMIN.email.slice(1)}`,
  `${ADMIN.email}\t`,
];

describe("guessing the admin's password", () => {
  it("from several addresses slows those addresses and never the admin's own login", async () => {
    const attackers = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    for (const attacker of attackers) {
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) {
        statuses.push(
          (await login(ADMIN_SPELLINGS[i % ADMIN_SPELLINGS.length] as string, `guess-${i}`, attacker)).status,
        );
      }
      // Every spelling is one pair: the free failures and one more, then waits.
      expect(statuses.slice(0, PAIR_FREE + 1)).toEqual(Array(PAIR_FREE + 1).fill(401));
      expect(statuses[PAIR_FREE + 1]).toBe(429);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(PAIR_FREE + 2);
    }
    // 60 failures for the admin's email in well under a minute; its owner logs in from elsewhere.
    expect((await login(ADMIN.email, ADMIN.password, "198.51.100.10")).status).toBe(200);
    expect((await login(`  ${ADMIN.email.toUpperCase()} `, ADMIN.password, "198.51.100.11")).status).toBe(200);
    // And from the gateway's own address (no X-Forwarded-For).
    expect((await client.call("POST", "/api/v1/auth/login/json", { json: ADMIN })).status).toBe(200);
  });

  it("answers the attacking pair 429 with an honest Retry-After: a retry exactly then is considered", async () => {
    const attacker = "203.0.113.50";
    for (let i = 0; i <= PAIR_FREE; i++) expect((await login(ADMIN.email, `guess-${i}`, attacker)).status).toBe(401);

    const first = await login(ADMIN.email, "guess-early", attacker);
    expect(first.status).toBe(429);
    expect(first.body).toEqual({ detail: "too_many_attempts" });
    expect(first.headers.get("retry-after")).toBe("1");
    await sleep(1);
    expect((await login(ADMIN.email, "guess-on-time", attacker)).status).toBe(401);

    // That was a failure past the free ones again: the wait doubles, and is told as it is.
    const second = await login(` ${ADMIN.email.toUpperCase()}`, "guess-early-again", attacker);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("2");
    await sleep(2);
    // The right password after waiting as told: accepted, and the pair's failures end with it.
    expect((await login(ADMIN.email, ADMIN.password, attacker)).status).toBe(200);
    expect((await login(ADMIN.email, "guess-after-reset", attacker)).status).toBe(401);
  });
});

describe("a racing burst", () => {
  it("of 20 wrong guesses at once for one email from one address gets the free failures and one more, 5 trials", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const from = `192.0.2.${trial + 1}`;
      const email = client.uniqueEmail("burst");
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(email, `guess-${i}`, from)));
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([...Array(PAIR_FREE + 1).fill(401), ...Array(20 - PAIR_FREE - 1).fill(429)]);
      for (const response of responses.filter((item) => item.status === 429)) {
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it("of guesses at many emails from one address gets the address's free failures and one more", async () => {
    const from = "192.0.2.200";
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(client.uniqueEmail(`stuffing-${i}`), "password123", from)),
    );
    const refused = responses.filter((response) => response.status === 429).length;
    expect(responses.length - refused).toBe(ADDRESS_FREE + 1);
    // The wait is that address's: the admin logs in from another.
    expect((await login(ADMIN.email, ADMIN.password, "192.0.2.201")).status).toBe(200);
  });
});
