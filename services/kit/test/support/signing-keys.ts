import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  ACCESS_TOKEN_TYPE,
  type Role,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "../../src/tokens/access-tokens.js";

export interface SigningKey {
  kid: string;
  /** What auth would publish in its JWKS. */
  publicJwk: JWK;
  /** An access token signed with this key, as auth would mint it. */
  accessToken(role: Role): Promise<string>;
}

/** A fresh Ed25519 key: auth's own, or an attacker's with a `kid` of their choosing. */
export async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519" });
  return {
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM },
    accessToken: (role) =>
      new SignJWT({ sid: randomUUID(), role })
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: ACCESS_TOKEN_TYPE })
        .setSubject(randomUUID())
        .setJti(randomUUID())
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey),
  };
}
