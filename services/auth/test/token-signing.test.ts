/** Tokens signed with node:crypto directly (signToken) are the tokens jose's SignJWT makes, and pass jose's checks. */
import {
  ACCESS_TOKEN_TYPE,
  REFRESH_TOKEN_TYPE,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  verifyJwt,
} from "@tdt/kit";
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/token-minting.js";

async function signingKey() {
  const { publicKey, privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
  const kid = "test-key";
  const key = await importJWK({ ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM }, TOKEN_ALGORITHM);
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" }] };
  return { signing: { kid, key }, verifying: createLocalJWKSet(jwks) };
}

const NOW = Math.floor(Date.now() / 1000);

describe("signToken", () => {
  it("makes the header and claims SignJWT makes, and jose verifies it with every pin", async () => {
    const { signing, verifying } = await signingKey();
    for (const typ of [ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE]) {
      const claims = { sid: "s-1", role: "technician", sub: "u-1", jti: "j-1", iat: NOW, exp: NOW + 900 };
      const ours = signToken(claims, signing, typ);
      const { sub, jti, iat, exp, ...rest } = claims;
      const theirs = await new SignJWT(rest)
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: signing.kid, typ })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(sub)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(signing.key);
      expect(decodeProtectedHeader(ours)).toEqual(decodeProtectedHeader(theirs));
      // Ed25519 signatures are deterministic: the same header and claims give the same token.
      expect(ours).toBe(theirs);
      expect(await verifyJwt(ours, verifying, typ)).toEqual({
        ...rest,
        iss: TOKEN_ISSUER,
        aud: TOKEN_AUDIENCE,
        sub,
        jti,
        iat,
        exp,
      });
    }
  });

  it("is refused by jose with another key, another typ, or one byte changed", async () => {
    const { signing, verifying } = await signingKey();
    const other = await signingKey();
    const token = signToken({ sid: "s", sub: "u", jti: "j", iat: NOW, exp: NOW + 60 }, signing, ACCESS_TOKEN_TYPE);
    await expect(verifyJwt(token, other.verifying, ACCESS_TOKEN_TYPE)).rejects.toThrow();
    await expect(verifyJwt(token, verifying, REFRESH_TOKEN_TYPE)).rejects.toThrow();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    await expect(verifyJwt(`${header}.${payload}.${flipped}`, verifying, ACCESS_TOKEN_TYPE)).rejects.toThrow();
  });
});
