import { AppError, DEFAULT_ORGANIZATION_ID, type Role, type Sql, type TransactionSql } from "@tdt/kit";
import type { Organization } from "@tdt/proto/tdt/auth/v1/auth";

export { DEFAULT_ORGANIZATION_ID };

/** A user's place in one organization. */
export interface Membership {
  org_id: string;
  role: Role;
}

/**
 * The organization a new login session of the user acts in, with their role there: the one
 * asked for, else the one they last signed in to, else the one they joined first. The membership
 * row is locked for share: a removal or role change finishes before (and is seen) or waits.
 * Undefined when the user is no member (of the one asked for).
 */
export async function loginOrganization(
  tx: TransactionSql,
  userId: string,
  asked?: string,
): Promise<Membership | undefined> {
  const [row] = await tx<Membership[]>`
    select m.org_id, m.role from memberships m
    where m.user_id = ${userId} and m.org_id = coalesce(${asked ?? null}::uuid, m.org_id)
    order by (select max(s.created_at) from login_sessions s where s.user_id = m.user_id and s.org_id = m.org_id)
               desc nulls last,
             m.created_at, m.org_id
    limit 1
    for share of m`;
  return row;
}

/** The organizations a user belongs to, with their role in each, by name; `current` marks `currentOrg`. */
export async function organizationsOf(sql: Sql, userId: string, currentOrg: string): Promise<Organization[]> {
  const rows = await sql<(Omit<Organization, "current" | "created_at"> & { created_at: Date })[]>`
    select o.id, o.name, o.slug, m.role, o.created_at from memberships m join organizations o on o.id = m.org_id
    where m.user_id = ${userId}
    order by lower(o.name), o.id`;
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    slug: row.slug,
    role: row.role,
    created_at: row.created_at.toISOString(),
    current: row.id === currentOrg,
  }));
}

/** The caller's role in an organization, or undefined when not a member. */
export async function roleIn(sql: Sql | TransactionSql, orgId: string, userId: string): Promise<Role | undefined> {
  const [row] = await sql<
    { role: Role }[]
  >`select role from memberships where org_id = ${orgId} and user_id = ${userId}`;
  return row?.role;
}

/** Whether the user manages organizations (the platform's admins). */
export async function isPlatformAdmin(sql: Sql | TransactionSql, userId: string): Promise<boolean> {
  const [row] = await sql`select 1 from users where id = ${userId} and is_platform_admin and is_active`;
  return row !== undefined;
}

/**
 * Who may administer organization `orgId`: its admins and the platform's. Anyone else learns
 * nothing about it: 404, as for an organization that does not exist.
 */
export async function requireOrganizationAdmin(sql: Sql, orgId: string, userId: string): Promise<void> {
  const [row] = await sql<{ role: Role | null; platform: boolean; exists: boolean }[]>`
    select (select role from memberships where org_id = ${orgId} and user_id = ${userId}) as role,
           exists (select 1 from users where id = ${userId} and is_platform_admin and is_active) as platform,
           exists (select 1 from organizations where id = ${orgId}) as exists`;
  if (!row?.exists || (!row.platform && row.role === null)) throw new AppError("not_found");
  if (!row.platform && row.role !== "admin") throw new AppError("forbidden");
}
