import { randomUUID } from "node:crypto";
import { ACCESS_TOKEN_TYPE, type AccessClaims, DEFAULT_ORGANIZATION_ID, TOKEN_AUDIENCE, TOKEN_ISSUER } from "@tdt/kit";
import { type CryptoKey, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, SignJWT } from "jose";

/** The claims of an access token (SPEC §4.2) a test may set; the rest get sane values. */
export type TestClaims = AccessClaims;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

/** Ed25519 keys as the auth service holds them: the newest signs, all are published. */
export class SigningKeys {
  private constructor(private readonly keys: SigningKey[]) {}

  static async create(): Promise<SigningKeys> {
    return new SigningKeys([await newKey(`key-${randomUUID()}`)]);
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1] as SigningKey;
  }

  jwks(): JSONWebKeySet {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  /** Adds a new signing key; the old ones stay published. */
  async rotate(): Promise<string> {
    const key = await newKey(`key-${randomUUID()}`);
    this.keys.push(key);
    return key.kid;
  }

  /** An access token signed by the current key; `options` make it wrong in one way. */
  async accessToken(
    claims: Partial<TestClaims> = {},
    options: { typ?: string; issuer?: string; audience?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const full: TestClaims = {
      sub: randomUUID(),
      sid: randomUUID(),
      role: "technician",
      org: DEFAULT_ORGANIZATION_ID,
      jti: randomUUID(),
      iat: now,
      exp: now + 900,
      ...claims,
    };
    return new SignJWT({ ...full })
      .setProtectedHeader({ alg: "EdDSA", kid: this.current.kid, typ: options.typ ?? ACCESS_TOKEN_TYPE })
      .setIssuer(options.issuer ?? TOKEN_ISSUER)
      .setAudience(options.audience ?? TOKEN_AUDIENCE)
      .sign(this.current.privateKey);
  }
}

/** The claims part of a compact JWT. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}
