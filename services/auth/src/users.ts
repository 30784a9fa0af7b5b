import { AppError, inTransaction, type Problem, ROLES, type Role, type Sql, type TransactionSql } from "@tdt/kit";
import type { User } from "@tdt/proto/tdt/auth/v1/auth";
import { FIELD_RULES } from "@tdt/proto/tdt/contract";
import { normalizeEmail } from "./email-address.js";
import { hashPassword } from "./passwords.js";

export interface UserRow {
  id: string;
  email: string;
  full_name: string;
  role: Role;
  is_active: boolean;
  created_at: Date;
  /** Null for a user made by single sign-on who has not set a password. */
  password_hash: string | null;
  /** When the address was proven (a mailed link, an invitation, a provider owning the domain); null: never. */
  email_verified_at: Date | null;
  /** Registered under REGISTRATION=verify: no sign-in before the address is proven. */
  verification_required: boolean;
}

/** The public shape of a user: never the hash. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    full_name: row.full_name,
    role: row.role,
    is_active: row.is_active,
    created_at: row.created_at.toISOString(),
  };
}

/** The contract's bounds of a registration (auth.proto), which the gateway's schema reads too. */
const REGISTER = FIELD_RULES["tdt.auth.v1.RegisterRequest"];
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What is wrong with registration input, by field; empty when it is fine. One set of rules for
 * registration, `create-admin` and the first admin from the environment.
 */
export function registrationProblems(input: { email: string; password: string; full_name: string }): Problem[] {
  const problems: Problem[] = [];
  if (!EMAIL.test(input.email) || input.email.length > REGISTER.email.string.max_len) {
    problems.push({ loc: ["body", "email"], msg: "Not a valid email address", type: "email_format" });
  }
  const password = REGISTER.password.string;
  if (input.password.length < password.min_len) {
    problems.push({
      loc: ["body", "password"],
      msg: `At least ${password.min_len} characters`,
      type: "string_too_short",
    });
  } else if (input.password.length > password.max_len) {
    problems.push({
      loc: ["body", "password"],
      msg: `At most ${password.max_len} characters`,
      type: "string_too_long",
    });
  }
  const name = input.full_name.trim();
  const fullName = REGISTER.full_name.string;
  if (name.length < fullName.min_len || name.length > fullName.max_len) {
    problems.push({
      loc: ["body", "full_name"],
      msg: `From ${fullName.min_len} to ${fullName.max_len} characters`,
      type: "string_length",
    });
  }
  return problems;
}

/** Registration input, checked here too: gRPC callers do not pass through the gateway's schemas. */
export function checkRegistration(input: { email: string; password: string; full_name: string }): void {
  const problems = registrationProblems(input);
  if (problems.length > 0) throw AppError.invalid(problems);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export async function findUserByEmail(sql: Sql | TransactionSql, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from users where lower(email) = ${normalizeEmail(email)}`;
  return row;
}

export async function findUserById(sql: Sql, id: string): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const [row] = await sql<UserRow[]>`select * from users where id = ${id}`;
  return row;
}

/**
 * A user as GET /auth/me shows them: the row, the providers they sign in with (oldest link first),
 * and the organization the login session acts in with their role there.
 */
export type LiveUser = UserRow & {
  linked_providers: Array<{ provider_id: string; email: string; linked_at: string }>;
  is_platform_admin: boolean;
  org: { id: string; name: string; slug: string; role: Role; created_at: string };
};

/**
 * The user of an access token while its login session is open and the user active, in one
 * read: what `isLoginSessionLive` checks, the user's row and their linked providers together;
 * undefined otherwise.
 */
export async function findLiveUser(sql: Sql, claims: { sub: string; sid: string }): Promise<LiveUser | undefined> {
  if (!UUID.test(claims.sub) || !UUID.test(claims.sid)) return undefined;
  const [row] = await sql<LiveUser[]>`
    select u.*, coalesce((
        select json_agg(json_build_object('provider_id', i.provider_id, 'email', i.email, 'linked_at', i.linked_at)
                        order by i.linked_at, i.provider_id)
        from oidc_identities i where i.user_id = u.id), '[]') as linked_providers,
      json_build_object('id', o.id, 'name', o.name, 'slug', o.slug, 'role', m.role, 'created_at', o.created_at) as org
    from login_sessions s join users u on u.id = s.user_id
      join memberships m on m.org_id = s.org_id and m.user_id = u.id
      join organizations o on o.id = s.org_id
    where s.sid = ${claims.sid} and s.ended_at is null and u.id = ${claims.sub} and u.is_active`;
  return row;
}

/**
 * The user's role and state, the row locked for share: a deactivation or role change either
 * finished before (and is seen here) or waits for the caller's transaction to end.
 */
export async function readUserForShare(
  tx: TransactionSql,
  id: string,
): Promise<Pick<UserRow, "role" | "is_active" | "email_verified_at" | "verification_required"> | undefined> {
  const [row] = await tx<Pick<UserRow, "role" | "is_active" | "email_verified_at" | "verification_required">[]>`
    select role, is_active, email_verified_at, verification_required from users where id = ${id} for share`;
  return row;
}

/** The user's row as it is, locked until the caller's transaction ends, for a change decided against it. */
export async function lockUser(tx: TransactionSql, id: string): Promise<UserRow | undefined> {
  const [row] = await tx<UserRow[]>`select * from users where id = ${id} for no key update`;
  return row;
}

/** Sets the role and/or the active flag; what is undefined is kept. */
export async function updateUser(
  tx: TransactionSql,
  id: string,
  change: { role?: Role | undefined; is_active?: boolean | undefined },
): Promise<UserRow> {
  const [row] = await tx<UserRow[]>`
    update users set
      role = coalesce(${change.role ?? null}, role),
      is_active = coalesce(${change.is_active ?? null}::boolean, is_active)
    where id = ${id}
    returning *`;
  return row as UserRow;
}

/** The caller's password hash (null: none yet) and when their login session began. */
export async function passwordOfSession(
  sql: Sql,
  claims: { sub: string; sid: string },
): Promise<{ password_hash: string | null; auth_time: Date } | undefined> {
  const [row] = await sql<{ password_hash: string | null; auth_time: Date }[]>`
    select u.password_hash, s.auth_time from users u join login_sessions s on s.user_id = u.id
    where u.id = ${claims.sub} and s.sid = ${claims.sid}`;
  return row;
}

export async function setPasswordHash(tx: TransactionSql, id: string, hash: string): Promise<void> {
  await tx`update users set password_hash = ${hash} where id = ${id}`;
}

/** A user's columns with the role of the membership `m` (in place of users.role, the default organization's). */
const memberColumns = (sql: Sql | TransactionSql) => sql`
  u.id, u.email, u.full_name, m.role, u.is_active, u.created_at, u.password_hash, u.email_verified_at,
  u.verification_required`;

/**
 * One page of an organization's members, oldest account first, with the count of all of them;
 * each with their role there.
 */
export async function listUsers(
  sql: Sql,
  orgId: string,
  page: { skip: number; limit: number },
): Promise<{ users: UserRow[]; total: number }> {
  const rows = await sql<(UserRow & { total: number })[]>`
    select ${memberColumns(sql)}, count(*) over () ::int as total
    from users u join memberships m on m.user_id = u.id and m.org_id = ${orgId}
    order by u.created_at, u.id offset ${page.skip} limit ${page.limit}`;
  const total =
    rows[0]?.total ??
    (await sql<{ n: number }[]>`select count(*)::int as n from memberships where org_id = ${orgId}`)[0]?.n ??
    0;
  return { users: rows, total };
}

/** A member of an organization, with their role there; undefined for anyone else. */
export async function findMember(sql: Sql | TransactionSql, orgId: string, id: string): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const [row] = await sql<UserRow[]>`
    select ${memberColumns(sql)} from users u join memberships m on m.user_id = u.id and m.org_id = ${orgId}
    where u.id = ${id}`;
  return row;
}

/** Creates a user; a taken email (in any letter case) is 409 `email_already_registered`. */
export async function createUser(
  sql: Sql,
  input: { email: string; password: string; full_name: string; role: Role },
): Promise<UserRow> {
  const password_hash = await hashPassword(input.password);
  try {
    const [row] = await sql<UserRow[]>`
      insert into users (email, full_name, password_hash, role)
      values (${normalizeEmail(input.email)}, ${input.full_name.trim()}, ${password_hash}, ${input.role})
      returning *`;
    return row as UserRow;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") throw new AppError("email_already_registered");
    throw error;
  }
}

/**
 * The first admin from ADMIN_EMAIL / ADMIN_PASSWORD, when no admin exists yet. Replicas
 * starting together create one: the check and the insert run under a transaction lock.
 */
export async function ensureFirstAdmin(
  sql: Sql,
  admin: { email: string; password: string },
): Promise<"created" | "exists" | "email_taken"> {
  return inTransaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(7317003)`;
    const [existing] = await tx`select 1 from users where role = 'admin' limit 1`;
    if (existing) return "exists";
    const email = normalizeEmail(admin.email);
    const [taken] = await tx`select 1 from users where lower(email) = ${email}`;
    if (taken) return "email_taken";
    // A platform admin, and (through users.role) an admin of the default organization.
    await tx`
      insert into users (email, full_name, password_hash, role, is_platform_admin)
      values (${email}, 'Administrator', ${await hashPassword(admin.password)}, 'admin', true)`;
    return "created";
  });
}
