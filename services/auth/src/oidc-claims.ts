import { createHash } from "node:crypto";
import { decodeProtectedHeader } from "jose";

/**
 * What a sign-in reads about the person, as OpenID Connect Core says a relying party gets it
 * rather than as one provider sends it: the ID token may carry only the claims the `claims`
 * parameter asked for, and a scope's claims (`email`, `email_verified`, `name`) come from the
 * UserInfo endpoint in the code flow (§5.4). Those the ID token lacks are read there, and the
 * ID token's own win where both say something.
 */
export const PERSON_CLAIMS = ["email", "email_verified", "name"] as const;

type Claims = Record<string, unknown>;

/** True when the ID token lacks a claim a sign-in reads: UserInfo is asked for it. */
export function lacksPersonClaims(idToken: Claims): boolean {
  return PERSON_CLAIMS.some((name) => idToken[name] === undefined);
}

/** The ID token's claims, with those it lacks taken from UserInfo (whose `sub` was checked). */
export function withUserInfo(idToken: Claims, userInfo: Claims): Claims {
  const added = Object.fromEntries(
    PERSON_CLAIMS.filter((name) => idToken[name] === undefined && userInfo[name] !== undefined).map((name) => [
      name,
      userInfo[name],
    ]),
  );
  return { ...idToken, ...added };
}

/** `email_verified` as a yes: `true`, or the string "true" some providers send; anything else is a no. */
export function isVerified(value: unknown): boolean {
  return value === true || value === "true";
}

/** The hash an `at_hash` claim is made with, by the ID token's algorithm (Core §3.1.3.6; Ed25519: SHA-512). */
function hashOf(alg: string): "sha256" | "sha384" | "sha512" | undefined {
  if (/^(RS|PS|ES)256$/.test(alg) || alg === "ES256K") return "sha256";
  if (/^(RS|PS|ES)384$/.test(alg)) return "sha384";
  if (/^(RS|PS|ES)512$/.test(alg) || alg === "EdDSA" || alg === "Ed25519") return "sha512";
  return undefined;
}

/**
 * True when the ID token's `at_hash` (where present) is the left half of the access token's
 * hash: the access token UserInfo is asked with is the one issued with this ID token.
 */
export function accessTokenHashMatches(idToken: string, accessToken: string, atHash: unknown): boolean {
  if (atHash === undefined) return true;
  if (typeof atHash !== "string") return false;
  const alg = decodeProtectedHeader(idToken).alg ?? "";
  const hash = hashOf(alg);
  if (!hash) return false;
  const digest = createHash(hash).update(accessToken, "ascii").digest();
  return digest.subarray(0, digest.length / 2).toString("base64url") === atHash;
}
