import { hash, verify } from "@node-rs/argon2";

// argon2id (the library's default algorithm) with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A real hash of a random password, verified against when the email is unknown. */
let decoy: Promise<string> | undefined;

/**
 * Checks a password against a stored hash, or against a decoy when there is no account, so an
 * unknown email and a wrong password cost the same time and look the same.
 */
export async function passwordMatches(password: string, storedHash: string | undefined): Promise<boolean> {
  decoy ??= hashPassword(crypto.randomUUID());
  const target = storedHash ?? (await decoy);
  const matches = await verify(target, password).catch(() => false);
  return storedHash !== undefined && matches;
}
