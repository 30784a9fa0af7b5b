/**
 * Work inside a transaction must not wait for a second connection from the same pool: when
 * every connection is held by such a transaction, each waits for another for ever and the
 * service stops answering (seen under the race tests' load: auth answered only 504s, its ten
 * connections idle in transaction). Here the pool has one connection and the signing keys are
 * read afresh at every use (as when the key cache expires), so a refresh that read its key
 * inside its transaction would never answer.
 */
import { Metadata } from "@grpc/grpc-js";
import type { RequestContext } from "@tdt/kit";
import { testLogger } from "@tdt/test-support/silent-logger";
import { within } from "@tdt/test-support/within";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authConfig } from "../src/config.js";
import { authHandlers } from "../src/handlers.js";
import { SigningKeys } from "../src/keys.js";
import { RateLimiter } from "../src/rate-limit.js";
import { StoredProviders } from "../src/sso-provider-store.js";
import { OidcProviders } from "../src/sso-providers.js";
import { useAuthDatabase } from "./support/auth-database.js";

const database = useAuthDatabase("auth_pool_exhaustion");
let pool: Sql;

beforeAll(async () => {
  pool = postgres(database.url, { max: 1, onnotice: () => {} });
  await new SigningKeys(pool).ensureKey();
});

afterAll(async () => {
  await pool?.end({ timeout: 1 });
});

const context = (): RequestContext => ({
  requestId: "pool-exhaustion",
  log: testLogger(),
  accessToken: undefined,
  metadata: new Metadata(),
  caller: undefined,
  peerAddress: "127.0.0.1",
});

const NO_SSO = {
  providers: [],
  secretKey: undefined,
  publicUrl: "http://localhost:8000",
  returnOrigins: [],
  postLogoutUrl: "/",
};

/** Handlers whose signing keys are never cached. */
const freshHandlers = () =>
  authHandlers({
    sql: pool,
    keys: new SigningKeys(pool, 0),
    rateLimiter: new RateLimiter(pool, 1000),
    ssoRateLimiter: new RateLimiter(pool, 1000),
    sso: {
      config: NO_SSO,
      providers: new OidcProviders([], testLogger()),
      stored: new StoredProviders(pool, undefined, new Set(), (id) => id),
    },
    accounts: {
      registration: "open",
      publicUrl: "http://localhost:8000",
      mailQueued: () => {},
      providersOwning: () => [],
    },
    mailRateLimiter: new RateLimiter(pool, 1000),
    loginThrottle: authConfig.loginThrottle.read({}),
    accessTokenTtlSeconds: 900,
    sessionPolicyMinSeconds: 300,
    log: testLogger(),
  });

describe("a pool of one connection", () => {
  it("answers register, login and refresh with the key read at every use, several times over", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const email = `pool-${trial}-${Date.now()}@example.com`;
      await within(5000, freshHandlers().register({ email, password: "a-long-password", full_name: "P" }, context()));
      const login = await within(5000, freshHandlers().login({ email, password: "a-long-password" }, context()));
      const refresh = await within(
        5000,
        freshHandlers().refresh({ refresh_token: login.tokens?.refresh_token ?? "", idempotency_key: "" }, context()),
      );
      expect(refresh.tokens?.access_token).toMatch(/^ey/);
    }
  });
});
