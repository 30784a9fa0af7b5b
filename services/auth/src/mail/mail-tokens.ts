import { randomBytes } from "node:crypto";
import { DEFAULT_ORGANIZATION_ID, type Role, type Sql, type TransactionSql } from "@tdt/kit";
import { digest } from "../sso-store.js";

/** What a mailed link does. */
export type MailTokenPurpose = "verify_email" | "change_email" | "reset_password" | "invite";

/** How long each kind of link works. */
export const MAIL_TOKEN_TTL_SECONDS: Record<MailTokenPurpose, number> = {
  verify_email: 24 * 3600,
  change_email: 24 * 3600,
  // A reset hands over the account: short.
  reset_password: 30 * 60,
  invite: 7 * 24 * 3600,
};

export interface MailTokenRow {
  purpose: MailTokenPurpose;
  user_id: string | null;
  email: string;
  role: Role | null;
  created_by: string | null;
  /** The organization an invitation is to. */
  org_id: string;
}

/**
 * A new token for a link: 256 random bits, stored only as their hash. An earlier open token of
 * the same purpose for the same account (or invited address) stops working: only the newest link
 * in a mailbox does anything.
 */
export async function issueMailToken(
  tx: TransactionSql,
  input: {
    purpose: MailTokenPurpose;
    userId?: string;
    email: string;
    role?: Role;
    createdBy?: string;
    /** An invitation's organization. */
    orgId?: string;
  },
): Promise<{ token: string; ttlSeconds: number }> {
  const token = randomBytes(32).toString("base64url");
  const ttlSeconds = MAIL_TOKEN_TTL_SECONDS[input.purpose];
  if (input.userId) {
    await tx`
      update mail_tokens set used_at = now()
      where user_id = ${input.userId} and purpose = ${input.purpose} and used_at is null`;
  } else {
    await tx`
      update mail_tokens set used_at = now()
      where user_id is null and email = ${input.email} and purpose = ${input.purpose} and used_at is null
        and org_id = ${input.orgId ?? DEFAULT_ORGANIZATION_ID}`;
  }
  await tx`
    insert into mail_tokens (token_hash, purpose, user_id, email, role, created_by, org_id, expires_at)
    values (${digest(token)}, ${input.purpose}, ${input.userId ?? null}, ${input.email}, ${input.role ?? null},
            ${input.createdBy ?? null}, ${input.orgId ?? DEFAULT_ORGANIZATION_ID}, now() + make_interval(secs => ${ttlSeconds}))`;
  await tx`delete from mail_tokens where expires_at < now() - interval '7 days'`;
  return { token, ttlSeconds };
}

/**
 * Uses a token once, in the caller's transaction: of racing uses, one gets the row; an unknown,
 * used, expired or other-purpose token gets nothing.
 */
export async function useMailToken(
  tx: TransactionSql | Sql,
  token: string,
  purposes: readonly MailTokenPurpose[],
): Promise<MailTokenRow | undefined> {
  const [row] = await tx<MailTokenRow[]>`
    update mail_tokens set used_at = now()
    where token_hash = ${digest(token)} and used_at is null and expires_at > now()
      and purpose in ${tx(purposes as MailTokenPurpose[])}
    returning purpose, user_id, email, role, created_by, org_id`;
  return row;
}
