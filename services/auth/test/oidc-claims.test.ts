import { createHash } from "node:crypto";
import { generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { accessTokenHashMatches, isVerified, lacksPersonClaims, withUserInfo } from "../src/oidc-claims.js";

describe("the person's claims of a sign-in", () => {
  it("asks UserInfo when the ID token lacks one, and keeps the ID token's own where both say something", () => {
    expect(lacksPersonClaims({ sub: "a", email: "a@x.example", email_verified: true, name: "A" })).toBe(false);
    expect(lacksPersonClaims({ sub: "a" })).toBe(true);
    expect(
      withUserInfo(
        { sub: "a", email: "token@x.example" },
        { sub: "a", email: "userinfo@x.example", email_verified: true, name: "A", picture: "p" },
      ),
    ).toEqual({ sub: "a", email: "token@x.example", email_verified: true, name: "A" });
  });

  it("takes email_verified as a yes only when it is true or the string true", () => {
    expect([true, "true", false, "false", "yes", 1, undefined, null].map(isVerified)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("checks at_hash where present, with the hash of the ID token's algorithm", async () => {
    const accessToken = "an-access-token";
    const half = (hash: string) => {
      const digest = createHash(hash).update(accessToken).digest();
      return digest.subarray(0, digest.length / 2).toString("base64url");
    };
    for (const [alg, hash] of [
      ["RS256", "sha256"],
      ["ES384", "sha384"],
      ["EdDSA", "sha512"],
    ] as const) {
      const { privateKey } = await generateKeyPair(alg);
      const idToken = await new SignJWT({}).setProtectedHeader({ alg }).sign(privateKey);
      expect(accessTokenHashMatches(idToken, accessToken, half(hash)), alg).toBe(true);
      expect(accessTokenHashMatches(idToken, "another-token", half(hash)), alg).toBe(false);
      expect(accessTokenHashMatches(idToken, accessToken, undefined), alg).toBe(true);
      expect(accessTokenHashMatches(idToken, accessToken, 42), alg).toBe(false);
    }
  });
});
