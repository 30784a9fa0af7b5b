/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the headers a delivery
 * carries, signed with HMAC-SHA256 of `id.timestamp.body` under each of the endpoint's current
 * secrets (two during a rotation's overlap).
 */
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

/** A new endpoint secret: `whsec_` and 24 random bytes in base64, as the specification shows them. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(24).toString("base64")}`;
}

/** The key bytes of a `whsec_` secret; undefined for anything else. */
export function keyOf(secret: string): Buffer | undefined {
  if (!secret.startsWith(PREFIX)) return undefined;
  const key = Buffer.from(secret.slice(PREFIX.length), "base64");
  return key.length >= 24 && key.length <= 64 ? key : undefined;
}

/** `v1,<base64 signature>` of one message under one secret. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = keyOf(secret);
  if (!key) throw new Error("not a whsec_ secret");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The three headers of a delivery attempt, signed under every secret given (newest first). */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string } {
  if (secrets.length === 0) throw new Error("an endpoint without a secret signs nothing");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((secret) => signature(secret, id, timestamp, body)).join(" "),
  };
}
