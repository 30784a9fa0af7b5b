import { randomUUID } from "node:crypto";
import { inTransaction, type Sql, TOKEN_ALGORITHM, type TransactionSql } from "@tdt/kit";
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from "jose";

type PrivateKey = Awaited<ReturnType<typeof importJWK>>;

export interface SigningKey {
  kid: string;
  key: PrivateKey;
}

/** How long a cached key set is trusted before it is read again (a rotation elsewhere shows up). */
const CACHE_MS = 30_000;

/**
 * The Ed25519 keys that sign tokens, kept in the database so a restart logs nobody out and
 * every replica signs with the same key. The newest unretired key signs; retired keys stay
 * published until every token they signed has expired.
 */
export class SigningKeys {
  private cached: { at: number; signing: SigningKey; jwks: JSONWebKeySet } | undefined;

  constructor(
    private readonly sql: Sql,
    /** How long a read key set is used before it is read again; tests set 0 to read every time. */
    private readonly cacheMs = CACHE_MS,
  ) {}

  /** Creates the first key when there is none (one replica wins; the others use it). */
  async ensureKey(): Promise<void> {
    await inTransaction(this.sql, async (tx) => {
      await tx`select pg_advisory_xact_lock(7317002)`;
      const [active] = await tx`select kid from signing_keys where retired_at is null limit 1`;
      if (!active) await this.insertNewKey(tx);
    });
    this.cached = undefined;
  }

  /**
   * Starts signing with a new key. The old key stays in the JWKS until `expires_at`: the latest
   * moment a token it signed can still be valid (the newest absolute deadline of an open login
   * session, or an access token's lifetime, whichever is later).
   */
  async rotate(accessTokenTtlSeconds: number): Promise<string> {
    const kid = await inTransaction(this.sql, async (tx) => {
      await tx`select pg_advisory_xact_lock(7317002)`;
      await tx`
        update signing_keys set retired_at = now(), expires_at = greatest(
          now() + make_interval(secs => ${accessTokenTtlSeconds}),
          (select max(auth_time + make_interval(secs => abs_max_seconds)) from login_sessions where ended_at is null)
        )
        where retired_at is null`;
      return this.insertNewKey(tx);
    });
    this.cached = undefined;
    return kid;
  }

  private async insertNewKey(tx: TransactionSql): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
    const kid = randomUUID();
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" };
    const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM };
    await tx`
      insert into signing_keys (kid, algorithm, private_jwk, public_jwk)
      values (${kid}, ${TOKEN_ALGORITHM}, ${tx.json(privateJwk as never)}, ${tx.json(publicJwk as never)})`;
    return kid;
  }

  private async load(): Promise<NonNullable<typeof this.cached>> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached;
    const rows = await this.sql<{ kid: string; private_jwk: JWK; public_jwk: JWK; retired_at: Date | null }[]>`
      select kid, private_jwk, public_jwk, retired_at from signing_keys
      where expires_at is null or expires_at > now()
      order by created_at desc`;
    const newest = rows.find((row) => row.retired_at === null);
    if (!newest) throw new Error("no signing key: ensureKey() was not called");
    this.cached = {
      at: Date.now(),
      signing: { kid: newest.kid, key: await importJWK(newest.private_jwk, TOKEN_ALGORITHM) },
      jwks: { keys: rows.map((row) => row.public_jwk) },
    };
    return this.cached;
  }

  async signingKey(): Promise<SigningKey> {
    return (await this.load()).signing;
  }

  async jwks(): Promise<JSONWebKeySet> {
    return (await this.load()).jwks;
  }

  /** Forgets the cache, e.g. when a token names a kid this replica has not seen yet. */
  invalidate(): void {
    this.cached = undefined;
  }
}
