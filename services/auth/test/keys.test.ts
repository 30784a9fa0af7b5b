import { randomUUID } from "node:crypto";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import type { Sql } from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { SigningKeys } from "../src/keys.js";
import { useAuthDatabase } from "./support/auth-database.js";

const database = useAuthDatabase("auth_keys");
let sql: Sql;
beforeAll(() => {
  sql = database.sql;
});

const sign = async (keys: SigningKeys) => {
  const key = await keys.signingKey();
  return new SignJWT({ sub: "u" }).setProtectedHeader({ alg: "EdDSA", kid: key.kid }).sign(key.key);
};

describe("signing keys", () => {
  it("creates one key however many replicas start together, and keeps it across restarts", async () => {
    await Promise.all([1, 2, 3].map(() => new SigningKeys(sql).ensureKey()));
    const [count] = await sql`select count(*)::int as n from signing_keys`;
    expect(count?.n).toBe(1);
    const first = await new SigningKeys(sql).signingKey();
    const afterRestart = await new SigningKeys(sql).signingKey();
    expect(afterRestart.kid).toBe(first.kid);
  });

  it("publishes only public keys", async () => {
    const jwks = await new SigningKeys(sql).jwks();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(key).not.toHaveProperty("d");
    }
  });

  it("rotates: the new key signs, the old one stays published until its tokens have expired", async () => {
    const keys = new SigningKeys(sql);
    const oldToken = await sign(keys);
    const oldKid = (await keys.signingKey()).kid;
    // An open login session whose absolute deadline is 10 days away.
    const [user] = await sql`
      insert into users (email, full_name, password_hash, role)
      values (${`${randomUUID()}@example.com`}, 'K', 'x', 'technician') returning id`;
    await sql`
      insert into login_sessions (sid, user_id, auth_time, idle_max_seconds, abs_max_seconds, reuse_grace_seconds)
      values (${randomUUID()}, ${user?.id}, now(), 86400, 864000, 0)`;

    const newKid = await keys.rotate(900);
    expect(newKid).not.toBe(oldKid);
    expect((await keys.signingKey()).kid).toBe(newKid);
    const jwks = await keys.jwks();
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    await expect(jwtVerify(oldToken, createLocalJWKSet(jwks))).resolves.toBeTruthy();
    await expect(jwtVerify(await sign(keys), createLocalJWKSet(jwks))).resolves.toBeTruthy();

    const [retired] = await sql<{ expires_at: Date }[]>`select expires_at from signing_keys where kid = ${oldKid}`;
    expect(retired?.expires_at.getTime()).toBeGreaterThan(Date.now() + 9 * 86_400_000);

    // Once that moment has passed, the old key leaves the JWKS.
    await sql`update signing_keys set expires_at = now() - interval '1 second' where kid = ${oldKid}`;
    keys.invalidate();
    expect((await keys.jwks()).keys.map((key) => key.kid)).not.toContain(oldKid);
  });
});
