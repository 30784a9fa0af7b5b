import {
  AppError,
  DEFAULT_ORGANIZATION_ID,
  inTransaction,
  type Problem,
  type Role,
  type Sql,
  type TransactionSql,
} from "@tdt/kit";
import type { Organization } from "@tdt/proto/tdt/auth/v1/auth";
import { PRESETS } from "./policy.js";

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

/**
 * Makes a just-made account a member of `orgId` only. users.role made it a member of the default
 * organization (the trigger kept for v0.1.0's reader of users.role); an account made to join
 * another organization (an invitation there, its single sign-on) leaves that membership.
 */
export async function joinOnly(tx: TransactionSql, userId: string, orgId: string, role: Role): Promise<void> {
  if (orgId === DEFAULT_ORGANIZATION_ID) return;
  await tx`
    insert into memberships (org_id, user_id, role) values (${orgId}, ${userId}, ${role})
    on conflict (org_id, user_id) do update set role = excluded.role`;
  await tx`delete from memberships where org_id = ${DEFAULT_ORGANIZATION_ID} and user_id = ${userId}`;
}

/** Whether the user administers anything: an organization, or the platform. */
export async function isAdminAnywhere(sql: Sql | TransactionSql, userId: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from users u where u.id = ${userId}
      and (u.is_platform_admin or exists (select 1 from memberships m where m.user_id = u.id and m.role = 'admin'))`;
  return row !== undefined;
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

/** A slug: lowercase letters, digits and inner hyphens (the organizations table's check). */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Makes an organization: empty, under the strict session policy, with `creator` its first admin.
 * A slug another organization has is 409 `slug_taken`.
 */
export async function createOrganization(
  sql: Sql,
  input: { name: string; slug: string },
  creator: string,
): Promise<Omit<Organization, "current">> {
  const name = input.name.trim();
  const problems: Problem[] = [];
  if (name.length === 0 || [...name].length > 200) {
    problems.push({ loc: ["body", "name"], msg: "From 1 to 200 characters", type: "string_length" });
  }
  if (!SLUG.test(input.slug)) {
    problems.push({
      loc: ["body", "slug"],
      msg: "1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
      type: "slug",
    });
  }
  if (problems.length > 0) throw AppError.invalid(problems);
  return inTransaction(sql, async (tx) => {
    const [made] = await tx<{ id: string; created_at: Date }[]>`
      insert into organizations (name, slug) values (${name}, ${input.slug})
      on conflict (slug) do nothing
      returning id, created_at`;
    if (!made) throw new AppError("slug_taken");
    await startStrict(tx, made.id);
    await tx`insert into memberships (org_id, user_id, role) values (${made.id}, ${creator}, 'admin')`;
    return { id: made.id, name, slug: input.slug, role: "admin", created_at: made.created_at.toISOString() };
  });
}

/** A new organization's session policy: the strict preset, as the default organization's began. */
async function startStrict(tx: TransactionSql, orgId: string): Promise<void> {
  const { idle_max_seconds, abs_max_seconds, reuse_grace_seconds } = PRESETS.strict;
  await tx`
    insert into session_policy (org_id, preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds)
    values (${orgId}, 'strict', ${idle_max_seconds}, ${abs_max_seconds}, ${reuse_grace_seconds})`;
}

/**
 * What `npm start` shows (DEMO_DATA): the default organization, which holds the demo trees, named
 * "Demo", and a second, empty "Sandbox" whose admins are the platform's, so the switch has
 * somewhere to go. Once: an organization renamed or a sandbox made since is left as it is.
 */
export async function ensureDemoOrganizations(sql: Sql): Promise<void> {
  await inTransaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(7317005)`;
    await tx`
      update organizations set name = 'Demo', slug = 'demo'
      where id = ${DEFAULT_ORGANIZATION_ID} and slug = 'default'
        and not exists (select 1 from organizations where slug = 'demo')`;
    const [sandbox] = await tx<{ id: string }[]>`
      insert into organizations (name, slug) values ('Sandbox', 'sandbox')
      on conflict (slug) do nothing
      returning id`;
    if (!sandbox) return;
    await startStrict(tx, sandbox.id);
    await tx`
      insert into memberships (org_id, user_id, role)
      select ${sandbox.id}, id, 'admin' from users where is_platform_admin and is_active`;
  });
}
