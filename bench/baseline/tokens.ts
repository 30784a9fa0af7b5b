/** ES256 tokens of the baseline: one local key pair, signed and verified in-process with jose. */
import { randomUUID } from "node:crypto";
import { generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from "jose";

const ISSUER = "tdt-baseline";
const ACCESS_SECONDS = 15 * 60;
export const REFRESH_SECONDS = 30 * 24 * 3600;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

export interface Tokens {
  pair(user: { id: string; role: string }, refreshId: string, familyId: string): Promise<TokenPair>;
  verifyAccess(token: string): Promise<{ sub: string; role: string }>;
  verifyRefresh(token: string): Promise<{ sub: string; jti: string; family: string }>;
}

export async function createTokens(): Promise<Tokens> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const sign = (claims: JWTPayload, type: string, seconds: number) =>
    new SignJWT({ ...claims, typ: type })
      .setProtectedHeader({ alg: "ES256", kid: "baseline" })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${seconds}s`)
      .sign(privateKey);
  const verify = async (token: string, type: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(token, publicKey, { issuer: ISSUER, algorithms: ["ES256"] });
    if (payload.typ !== type) throw new Error(`not a ${type} token`);
    return payload;
  };
  return {
    async pair(user, refreshId, familyId) {
      const [access, refresh] = await Promise.all([
        sign({ sub: user.id, role: user.role, jti: randomUUID() }, "access", ACCESS_SECONDS),
        sign({ sub: user.id, jti: refreshId, fam: familyId }, "refresh", REFRESH_SECONDS),
      ]);
      return { access_token: access, refresh_token: refresh, token_type: "bearer", expires_in: ACCESS_SECONDS };
    },
    async verifyAccess(token) {
      const payload = await verify(token, "access");
      return { sub: String(payload.sub), role: String(payload.role) };
    },
    async verifyRefresh(token) {
      const payload = await verify(token, "refresh");
      return { sub: String(payload.sub), jti: String(payload.jti), family: String(payload.fam) };
    },
  };
}
