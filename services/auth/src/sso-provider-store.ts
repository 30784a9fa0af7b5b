import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError, type Problem, ROLES, type Role, type Sql, type TransactionSql } from "@tdt/kit";
import { PROVIDER_ID_PATTERN } from "@tdt/proto/contracts/sso";
import type { OrganizationSsoProvider } from "@tdt/proto/tdt/auth/v1/auth";
import { domainList } from "./organization-settings.js";
import { DEFAULT_SCOPES, issuerProblem, type OidcProviderConfig } from "./sso-config.js";

/**
 * Client secrets at rest: AES-256-GCM under OIDC_SECRET_KEY, a fresh 96-bit IV each, stored as
 * `v1.<iv>.<tag>.<ciphertext>` (base64url). A copy of the database alone gives no secret away.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {}

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return ["v1", iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** The secret, or undefined when it was sealed under another key (or tampered with). */
  open(sealed: string): string | undefined {
    const [version, iv, tag, body] = sealed.split(".");
    if (version !== "v1" || !iv || !tag || body === undefined) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      return undefined;
    }
  }
}

interface ProviderRow {
  id: string;
  org_id: string;
  name: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  scopes: string[];
  default_role: Role;
  allowed_domains: string[];
  created_at: Date;
  updated_at: Date;
}

/** What an organization's admin gives for a provider: the contract's shape, checked and normalised. */
export interface ProviderInput {
  name: string;
  issuer: string;
  client_id: string;
  client_secret?: string | undefined;
  scopes: string[];
  default_role?: string | undefined;
  allowed_domains: string[];
}

const PROVIDER_ID = new RegExp(PROVIDER_ID_PATTERN);

/**
 * The providers organizations added (`oidc_providers`), beside the deployment's own. An id is
 * the deployment's: one in OIDC_PROVIDERS (`reserved`) or another organization's is taken.
 */
export class StoredProviders {
  private readonly box: SecretBox | undefined;

  constructor(
    private readonly sql: Sql,
    secretKey: Buffer | undefined,
    private readonly reserved: ReadonlySet<string>,
    private readonly callbackUrlOf: (id: string) => string,
  ) {
    this.box = secretKey ? new SecretBox(secretKey) : undefined;
  }

  /** The provider of this id as sign-in uses it, or undefined (none, or its secret cannot be opened). */
  async find(id: string): Promise<OidcProviderConfig | undefined> {
    if (!this.box || !PROVIDER_ID.test(id)) return undefined;
    const [row] = await this.sql<ProviderRow[]>`select * from oidc_providers where id = ${id}`;
    const secret = row && this.box.open(row.client_secret);
    if (!row || secret === undefined) return undefined;
    return {
      id: row.id,
      name: row.name,
      issuer: row.issuer,
      client_id: row.client_id,
      client_secret: secret,
      scopes: row.scopes,
      default_role: row.default_role,
      allowed_domains: row.allowed_domains.length > 0 ? row.allowed_domains : undefined,
      organization: row.org_id,
      version: row.updated_at.toISOString(),
    };
  }

  /** The providers of the organization with this slug, for its login page. */
  async offeredBy(slug: string): Promise<{ id: string; name: string }[]> {
    return this.sql<{ id: string; name: string }[]>`
      select p.id, p.name from oidc_providers p join organizations o on o.id = p.org_id
      where o.slug = ${slug}
      order by lower(p.name), p.id`;
  }

  async list(orgId: string): Promise<OrganizationSsoProvider[]> {
    const rows = await this.sql<ProviderRow[]>`select * from oidc_providers where org_id = ${orgId} order by id`;
    return rows.map((row) => this.shown(row));
  }

  /** Adds a provider to the organization: 409 `provider_id_taken` when the id is the deployment's or another's. */
  async create(tx: TransactionSql, orgId: string, id: string, input: ProviderInput): Promise<OrganizationSsoProvider> {
    const box = this.sealer();
    if (!PROVIDER_ID.test(id)) {
      throw AppError.invalid([
        { loc: ["body", "provider_id"], msg: "1–64 lowercase letters, digits, '-' or '_'", type: "pattern" },
      ]);
    }
    const fields = await checkedProvider(tx, orgId, input);
    if (this.reserved.has(id)) throw new AppError("provider_id_taken");
    const [row] = await tx<ProviderRow[]>`
      insert into oidc_providers (id, org_id, name, issuer, client_id, client_secret, scopes, default_role, allowed_domains)
      values (${id}, ${orgId}, ${fields.name}, ${fields.issuer}, ${fields.client_id},
              ${box.seal(input.client_secret ?? "")}, ${fields.scopes}::text[], ${fields.default_role},
              ${fields.allowed_domains}::text[])
      on conflict (id) do nothing
      returning *`;
    if (!row) throw new AppError("provider_id_taken");
    return this.shown(row);
  }

  /** Replaces the organization's provider; a secret left out stays. 404 for another organization's. */
  async update(tx: TransactionSql, orgId: string, id: string, input: ProviderInput): Promise<OrganizationSsoProvider> {
    const box = this.sealer();
    const fields = await checkedProvider(tx, orgId, input);
    const sealed = input.client_secret === undefined ? null : box.seal(input.client_secret);
    const [row] = await tx<ProviderRow[]>`
      update oidc_providers set name = ${fields.name}, issuer = ${fields.issuer}, client_id = ${fields.client_id},
        client_secret = coalesce(${sealed}, client_secret), scopes = ${fields.scopes}::text[],
        default_role = ${fields.default_role}, allowed_domains = ${fields.allowed_domains}::text[],
        updated_at = greatest(now(), updated_at + interval '1 millisecond')
      where id = ${id} and org_id = ${orgId}
      returning *`;
    if (!row) throw new AppError("not_found");
    return this.shown(row);
  }

  /**
   * Removes the organization's provider and the links made through it, answering the open login
   * sessions it started (for the caller to end); undefined when the organization has none of this id.
   */
  async remove(tx: TransactionSql, orgId: string, id: string): Promise<string[] | undefined> {
    const gone = await tx`delete from oidc_providers where id = ${id} and org_id = ${orgId} returning 1`;
    if (gone.length === 0) return undefined;
    await tx`delete from oidc_identities where provider_id = ${id}`;
    const open = await tx<{ sid: string }[]>`
      select sid from login_sessions where oidc_provider = ${id} and ended_at is null`;
    return open.map((row) => row.sid);
  }

  private sealer(): SecretBox {
    if (!this.box) throw new AppError("sso_secret_key_missing");
    return this.box;
  }

  private shown(row: ProviderRow): OrganizationSsoProvider {
    return {
      id: row.id,
      name: row.name,
      issuer: row.issuer,
      client_id: row.client_id,
      scopes: row.scopes,
      default_role: row.default_role,
      allowed_domains: row.allowed_domains,
      callback_url: this.callbackUrlOf(row.id),
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}

/**
 * The provider's fields held to what OIDC_PROVIDERS holds its entries to: an https issuer (plain
 * http only on this machine) without query or fragment, `openid` among the scopes, a known role,
 * and domains within the organization's (read under its lock, so a racing change of the
 * organization's domains waits).
 */
async function checkedProvider(tx: TransactionSql, orgId: string, input: ProviderInput) {
  const problems: Problem[] = [];
  const wrongIssuer = issuerProblem(input.issuer.trim());
  if (wrongIssuer) problems.push({ loc: ["body", "issuer"], msg: wrongIssuer, type: "url" });
  const scopes =
    input.scopes.length > 0 ? [...new Set(input.scopes.map((scope) => scope.trim()))] : [...DEFAULT_SCOPES];
  if (!scopes.includes("openid"))
    problems.push({ loc: ["body", "scopes"], msg: 'Must include "openid"', type: "scopes" });
  const role = input.default_role ?? "technician";
  if (!(ROLES as readonly string[]).includes(role)) {
    problems.push({ loc: ["body", "default_role"], msg: `One of ${ROLES.join(", ")}`, type: "enum" });
  }
  if (problems.length > 0) throw AppError.invalid(problems);
  const domains = domainList(input.allowed_domains, ["body", "allowed_domains"]);
  const [org] = await tx<{ domains: string[] }[]>`select domains from organizations where id = ${orgId} for update`;
  if (!org) throw new AppError("not_found");
  const outside = org.domains.length > 0 ? domains.findIndex((domain) => !org.domains.includes(domain)) : -1;
  if (outside >= 0) {
    throw AppError.invalid([
      {
        loc: ["body", "allowed_domains", outside],
        msg: "Not one of the organization's domains: add it there first",
        type: "domain_not_allowed",
      },
    ]);
  }
  return {
    name: input.name.trim(),
    issuer: input.issuer.trim(),
    client_id: input.client_id.trim(),
    scopes,
    default_role: role as Role,
    allowed_domains: domains,
  };
}
