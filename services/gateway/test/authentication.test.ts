import { randomUUID } from "node:crypto";
import { RevocationList } from "@tdt/kit";
import { freePort } from "@tdt/test-support/ports";
import { exportSPKI, importJWK, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sessionRevoked } from "./support/auth-events.js";
import { FakeAuth } from "./support/fake-auth.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { payloadOf, SigningKeys } from "./support/signing-keys.js";

// How the gateway decides who calls (SPEC §4.2): every way a token can be wrong ends in 401.
let fake: FakeAuth;
let gateway: TestGateway;
const revocations = new RevocationList(900);

const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");

async function me(token: string | undefined) {
  return gateway.app.inject({
    method: "GET",
    url: "/api/v1/auth/me",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

/** A refused request: 401, the code, and the challenge; the auth service never asked. */
async function expectRefused(token: string | undefined, detail: string) {
  const response = await me(token);
  expect(response.statusCode).toBe(401);
  expect(response.headers["www-authenticate"]).toBe("Bearer");
  expect(response.json()).toEqual({ detail });
  expect(fake.callsOf("getMe")).toHaveLength(0);
}

beforeAll(async () => {
  fake = await FakeAuth.start();
  gateway = await startTestGateway(fake.port, { revocations });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await gateway?.close();
  await fake?.stop();
});

describe("a route that requires a user", () => {
  it("admits a valid access token", async () => {
    const response = await me(await fake.keys.accessToken());
    expect(response.statusCode).toBe(200);
    expect(fake.callsOf("getMe")).toHaveLength(1);
  });

  it("answers no token with 401 not_authenticated", async () => {
    await expectRefused(undefined, "not_authenticated");
    const basic = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { authorization: "Basic dXNlcjpwYXNz" },
    });
    expect(basic.statusCode).toBe(401);
    expect(basic.json()).toEqual({ detail: "not_authenticated" });
  });

  it("asks for the user before reading the body", async () => {
    const response = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      payload: { not: "valid" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe("Bearer");
  });

  it("refuses garbage", async () => {
    await expectRefused("not.a.jwt", "invalid_token");
  });

  it("refuses an unsigned token (alg: none)", async () => {
    const claims = payloadOf(await fake.keys.accessToken());
    const unsigned = `${encode({ alg: "none", typ: "at+jwt" })}.${encode(claims)}.`;
    await expectRefused(unsigned, "invalid_token");
  });

  it("refuses an HS256 token keyed with the public key (algorithm confusion)", async () => {
    const [published] = fake.keys.jwks().keys;
    const publicPem = await exportSPKI((await importJWK({ ...published }, "EdDSA", { extractable: true })) as never);
    const claims = payloadOf(await fake.keys.accessToken());
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: published?.kid as string, typ: "at+jwt" })
      .sign(new TextEncoder().encode(publicPem));
    await expectRefused(forged, "invalid_token");
  });

  it("refuses a token signed by a key the auth service never published", async () => {
    const stranger = await SigningKeys.create();
    await expectRefused(await stranger.accessToken(), "invalid_token");
    expect(fake.callsOf("getJwks").length).toBeGreaterThan(0);
  });

  it("picks up a key the auth service rotated to", async () => {
    await me(await fake.keys.accessToken()); // the old key set is cached
    const kid = await fake.keys.rotate();
    const token = await fake.keys.accessToken();
    expect(JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString())).toMatchObject({ kid });
    const response = await me(token);
    expect(response.statusCode).toBe(200);
  });

  it("refuses a refresh token, or any other typ, as an access token", async () => {
    await expectRefused(await fake.keys.accessToken({}, { typ: "refresh+jwt" }), "invalid_token");
    await expectRefused(await fake.keys.accessToken({}, { typ: "JWT" }), "invalid_token");
  });

  it("refuses an expired token with token_expired", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await fake.keys.accessToken({ iat: now - 1000, exp: now - 100 }), "token_expired");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const [header, payload, signature] = (await fake.keys.accessToken({ role: "technician" })).split(".");
    const promoted = encode({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), role: "admin" });
    await expectRefused(`${header}.${promoted}.${signature}`, "invalid_token");
  });

  it("refuses a token for another issuer or audience", async () => {
    await expectRefused(await fake.keys.accessToken({}, { issuer: "someone-else" }), "invalid_token");
    await expectRefused(await fake.keys.accessToken({}, { audience: "another-api" }), "invalid_token");
  });

  it("refuses a token whose login session was revoked, with session_revoked", async () => {
    const sid = randomUUID();
    const token = await fake.keys.accessToken({ sid });
    expect((await me(token)).statusCode).toBe(200);
    fake.reset();
    revocations.record(sessionRevoked(sid));
    await expectRefused(token, "session_revoked");
    // Another session of the same kind is untouched.
    expect((await me(await fake.keys.accessToken())).statusCode).toBe(200);
  });
});

describe("roles", () => {
  it("keeps admin routes from engineers and technicians, and lets admins through", async () => {
    for (const role of ["technician", "engineer"] as const) {
      const response = await gateway.app.inject({
        method: "GET",
        url: "/api/v1/auth/users",
        headers: { authorization: `Bearer ${await fake.keys.accessToken({ role })}` },
      });
      expect(response.statusCode, role).toBe(403);
      expect(response.json()).toEqual({ detail: "forbidden" });
      expect(response.headers["www-authenticate"]).toBeUndefined();
    }
    const admin = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/auth/users",
      headers: { authorization: `Bearer ${await fake.keys.accessToken({ role: "admin" })}` },
    });
    expect(admin.statusCode).toBe(200);
  });
});

describe("with the auth service down", () => {
  let orphan: TestGateway;

  beforeAll(async () => {
    orphan = await startTestGateway(await freePort());
  });
  afterAll(async () => {
    await orphan?.close();
  });

  it("answers public routes with 503 service_unavailable", async () => {
    const response = await orphan.app.inject({
      method: "POST",
      url: "/api/v1/auth/login/json",
      payload: { email: "tech@example.com", password: "s3cret pass" },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ detail: "service_unavailable" });
  });

  it("answers a route that needs a user with 503, not with a 401 the caller would act on", async () => {
    const response = await orphan.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { authorization: `Bearer ${await fake.keys.accessToken()}` },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ detail: "service_unavailable" });
  });
});
