import { AppError, type Problem, type Sql, type TransactionSql } from "@tdt/kit";
import type { OrganizationSettings } from "@tdt/proto/tdt/auth/v1/auth";

/** A domain name as an email's address part has it, lowercase. */
export const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

/**
 * Domains as given, lowercased and without repeats; a problem at `loc` for each that is not a
 * domain name.
 */
export function domainList(given: readonly string[], loc: (string | number)[]): string[] {
  const domains = given.map((domain) => domain.trim().toLowerCase());
  const problems: Problem[] = domains.flatMap((domain, index) =>
    DOMAIN_PATTERN.test(domain)
      ? []
      : [{ loc: [...loc, index], msg: "A domain name such as example.com", type: "domain" }],
  );
  if (problems.length > 0) throw AppError.invalid(problems);
  return [...new Set(domains)];
}

/**
 * The organization's seats taken: its members, and its open invitations (but `except`'s, which a
 * new invitation of that address replaces).
 */
async function seatsOf(
  sql: Sql | TransactionSql,
  orgId: string,
  except = "",
): Promise<{ members: number; invited: number }> {
  const [row] = await sql<{ members: number; invited: number }[]>`
    select (select count(*)::int from memberships where org_id = ${orgId}) as members,
           (select count(*)::int from mail_tokens
             where org_id = ${orgId} and purpose = 'invite' and used_at is null and expires_at > now()
               and email <> ${except}) as invited`;
  return row ?? { members: 0, invited: 0 };
}

/** An organization's settings, with its seats taken (members and open invitations). */
export async function organizationSettings(sql: Sql | TransactionSql, orgId: string): Promise<OrganizationSettings> {
  const [row] = await sql<{ id: string; name: string; slug: string; domains: string[]; max_members: number | null }[]>`
    select id, name, slug, domains, max_members from organizations where id = ${orgId}`;
  if (!row) throw new AppError("not_found");
  const seats = await seatsOf(sql, orgId);
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    domains: row.domains,
    limits: { max_members: row.max_members ?? undefined },
    members: seats.members,
    open_invitations: seats.invited,
  };
}

/**
 * Whether `email` may join the organization now: its domain among the organization's (when it
 * has any), and a seat within `max_members`, counting members and open invitations (an open
 * invitation of this very address, which a new one replaces, takes none). The organization's row
 * is locked until the caller's transaction ends, so racing additions take the last seat once.
 */
export async function admission(
  tx: TransactionSql,
  orgId: string,
  email: string,
): Promise<"domain_not_allowed" | "organization_full" | undefined> {
  const [org] = await tx<{ domains: string[]; max_members: number | null }[]>`
    select domains, max_members from organizations where id = ${orgId} for update`;
  if (!org) throw new AppError("not_found");
  if (org.domains.length > 0 && !org.domains.includes(domainOf(email))) return "domain_not_allowed";
  if (org.max_members === null) return undefined;
  const seats = await seatsOf(tx, orgId, email);
  return seats.members + seats.invited >= org.max_members ? "organization_full" : undefined;
}

/** `admission` for a request naming the address at `body.email`: 422 or 409 when it may not join. */
export async function admit(tx: TransactionSql, orgId: string, email: string): Promise<void> {
  const refused = await admission(tx, orgId, email);
  if (refused === "organization_full") throw new AppError("organization_full");
  if (refused === "domain_not_allowed") {
    throw AppError.invalid([
      {
        loc: ["body", "email"],
        msg: "Its domain is not one the organization takes members from",
        type: "domain_not_allowed",
      },
    ]);
  }
}

/**
 * Sets the organization's domains. A provider of the organization signing in a domain left out
 * is 409 `domain_in_use`: its admin changes the provider first.
 */
export async function setDomains(tx: TransactionSql, orgId: string, domains: string[]): Promise<void> {
  await tx`select 1 from organizations where id = ${orgId} for update`;
  if (domains.length > 0) {
    const [outside] = await tx<{ id: string }[]>`
      select id from oidc_providers
      where org_id = ${orgId} and not (allowed_domains <@ ${domains}::text[])
      order by id limit 1`;
    if (outside) throw new AppError("domain_in_use");
  }
  await tx`update organizations set domains = ${domains}::text[] where id = ${orgId}`;
}

/** Sets the organization's member limit; undefined: none. */
export async function setMemberLimit(sql: Sql, orgId: string, maxMembers: number | undefined): Promise<void> {
  await sql`update organizations set max_members = ${maxMembers ?? null} where id = ${orgId}`;
}
