/**
 * A second organization for tests, made in the auth database as its migration makes the default
 * one: the organization, its session policy and its members with their roles.
 */
import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";

export interface TestOrganization {
  id: string;
  slug: string;
}

export async function makeOrganization(
  authDb: Sql,
  members: Array<{ id: string; role: string }> = [],
  policy: { idle: number; abs: number } = { idle: 600, abs: 3600 },
): Promise<TestOrganization> {
  const id = randomUUID();
  const slug = `org-${id.slice(0, 8)}`;
  await authDb`insert into organizations (id, name, slug) values (${id}, ${`Org ${slug}`}, ${slug})`;
  await authDb`
    insert into session_policy (org_id, preset, idle_max_seconds, abs_max_seconds, reuse_grace_seconds)
    values (${id}, 'custom', ${policy.idle}, ${policy.abs}, 0)`;
  for (const member of members) {
    await authDb`insert into memberships (org_id, user_id, role) values (${id}, ${member.id}, ${member.role})`;
  }
  return { id, slug };
}
