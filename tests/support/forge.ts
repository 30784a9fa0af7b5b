/**
 * Tokens a test needs that the API would never hand out (legacy, backdated, forged), signed
 * with the auth service's real key read from its database, with the rows the service expects.
 */
import { randomUUID } from "node:crypto";
import { importJWK, type JWK, SignJWT } from "jose";
import type { Sql } from "postgres";

export async function signingKeyOf(sql: Sql): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const [row] = await sql<{ kid: string; private_jwk: JWK; public_jwk: JWK }[]>`
    select kid, private_jwk, public_jwk from signing_keys where retired_at is null order by created_at desc limit 1`;
  if (!row) throw new Error("auth has no signing key");
  return { kid: row.kid, privateJwk: row.private_jwk, publicJwk: row.public_jwk };
}

export async function signWithServiceKey(
  sql: Sql,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await signingKeyOf(sql);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, ...header })
    .sign(await importJWK(key.privateJwk, "EdDSA"));
}

/**
 * A refresh token for a user, with its login session and token rows, as login (or the legacy
 * monolith) would have stored them. Omit `session` for a legacy token without the three claims.
 */
export async function forgeRefreshToken(
  sql: Sql,
  input: {
    userId: string;
    session?: { auth_time: number; idle_max: number; abs_max: number };
    iat?: number;
    exp?: number;
    grace?: number;
  },
): Promise<{ token: string; sid: string; jti: string }> {
  const now = Math.floor(Date.now() / 1000);
  const sid = randomUUID();
  const jti = randomUUID();
  const iat = input.iat ?? now;
  const exp = input.exp ?? iat + (input.session?.idle_max ?? 3 * 86_400);
  const snapshot = input.session ?? { auth_time: now, idle_max: 3 * 86_400, abs_max: 14 * 86_400 };
  await sql`
    insert into login_sessions (sid, user_id, auth_time, idle_max_seconds, abs_max_seconds, reuse_grace_seconds)
    values (${sid}, ${input.userId}, ${new Date(snapshot.auth_time * 1000)}, ${snapshot.idle_max}, ${snapshot.abs_max}, ${input.grace ?? 0})`;
  await sql`
    insert into refresh_tokens (jti, sid, user_id, issued_at, expires_at)
    values (${jti}, ${sid}, ${input.userId}, ${new Date(iat * 1000)}, ${new Date(exp * 1000)})`;
  const token = await signWithServiceKey(
    sql,
    { sub: input.userId, sid, jti, iat, exp, iss: "tdt-auth", aud: "tdt-api", ...(input.session ?? {}) },
    { typ: "refresh+jwt" },
  );
  return { token, sid, jti };
}
