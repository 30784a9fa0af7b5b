import type { Role, Sql, TransactionSql } from "@tdt/kit";
import { recordAuditEvent } from "./audit.js";
import { normalizeEmail } from "./email-address.js";
import { announceUserUpdated } from "./events.js";
import { endLoginSessions } from "./login-sessions.js";
import { hashPassword } from "./passwords.js";
import { checkRegistration, type UserRow } from "./users.js";

/** What `create-admin` did, or why it did nothing. */
export type AdminProvisioning =
  | { outcome: "created"; user: UserRow }
  | { outcome: "already_admin"; user: UserRow }
  | { outcome: "refused"; user: UserRow }
  | {
      outcome: "reset";
      user: UserRow;
      previous: { role: Role; is_active: boolean };
      sessionsEnded: number;
      providersUnlinked: number;
    };

export interface AdminRequest {
  email: string;
  password: string;
  /** Kept from the account on a reset when not given. */
  name?: string;
  /** Take over an account that already has this email: new password, active admin, sessions ended. */
  resetExisting: boolean;
  /** Who asked, for the audit record. */
  actor: string;
}

/**
 * `create-admin`'s rules. Anyone can register an email before the operator runs the command, so
 * an existing account is never promoted as it is (its owner knows its password): it is refused,
 * or, when asked explicitly, reset — new password, active admin, every login session ended —
 * and recorded, in one transaction.
 */
export async function provisionAdmin(sql: Sql, request: AdminRequest): Promise<AdminProvisioning> {
  checkRegistration({ email: request.email, password: request.password, full_name: request.name ?? "Administrator" });
  // Hashed before the transaction: argon2 is slow on purpose and row locks should not wait for it.
  const passwordHash = await hashPassword(request.password);
  return sql.begin(async (tx) => {
    const created = await insertAdmin(tx, request, passwordHash);
    if (created) {
      await audit(tx, request, "admin_created", created, {});
      return { outcome: "created", user: created };
    }
    const existing = await lockUserByEmail(tx, request.email);
    if (!request.resetExisting) {
      // A deactivated admin is refused too: making it usable again is a reset.
      return existing.role === "admin" && existing.is_active
        ? { outcome: "already_admin", user: existing }
        : { outcome: "refused", user: existing };
    }
    const [user] = await tx<UserRow[]>`
      update users set password_hash = ${passwordHash}, role = 'admin', is_active = true, is_platform_admin = true,
        full_name = coalesce(${request.name?.trim() ?? null}, full_name)
      where id = ${existing.id}
      returning *`;
    const ended = await endLoginSessions(tx, { userId: existing.id }, { kind: "revoked", reason: "admin" });
    // Whoever held the account may have linked their own provider account to it: those links go
    // too, or they would sign in to the admin the operator just took back.
    const unlinked = await tx`delete from oidc_identities where user_id = ${existing.id} returning provider_id`;
    await announceUserUpdated(tx, existing.id, existing, user as UserRow);
    const previous = { role: existing.role, is_active: existing.is_active };
    await audit(tx, request, "admin_reset", existing, {
      previous,
      sessions_ended: ended.length,
      providers_unlinked: unlinked.map((row) => row.provider_id),
    });
    return {
      outcome: "reset",
      user: user as UserRow,
      previous,
      sessionsEnded: ended.length,
      providersUnlinked: unlinked.length,
    };
  });
}

/** The new admin, or undefined when the email is taken (a racing registration waits for us, or we for it). */
async function insertAdmin(tx: TransactionSql, request: AdminRequest, passwordHash: string) {
  const [row] = await tx<UserRow[]>`
    insert into users (email, full_name, password_hash, role, is_platform_admin)
    values (${normalizeEmail(request.email)}, ${(request.name ?? "Administrator").trim()}, ${passwordHash}, 'admin', true)
    on conflict ((lower(email))) do nothing
    returning *`;
  return row;
}

async function lockUserByEmail(tx: TransactionSql, email: string): Promise<UserRow> {
  const [row] = await tx<UserRow[]>`select * from users where lower(email) = ${normalizeEmail(email)} for update`;
  if (!row) throw new Error(`no account has ${email} and none could be created`);
  return row;
}

function audit(
  tx: TransactionSql,
  request: AdminRequest,
  action: "admin_created" | "admin_reset",
  user: UserRow,
  detail: Record<string, unknown>,
) {
  return recordAuditEvent(tx, {
    action,
    userId: user.id,
    actor: request.actor,
    detail: { email: user.email, ...detail },
  });
}
