/**
 * The database's wall between organizations (docs/decisions/organizations.md): every tenant table
 * has an `org_id` and one row-level security policy, forced, that lets a transaction see and write
 * only the rows of the organization it names; a service runs as a role that cannot bypass it.
 * A tenant query outside `inOrganization` sees nothing rather than everything.
 */
import { inTransaction, type Sql, type TransactionSql } from "./connection.js";
import type { KitMigration } from "./migrations.js";

/**
 * The organization every deployment starts with (migrated data, tokens minted before organizations
 * existed, a single-organization deployment). A fixed id, so every service knows it without asking.
 */
export const DEFAULT_ORGANIZATION_ID = "00000000-0000-4000-8000-000000000001";

/** The transaction-local setting the policy reads. */
export const ORGANIZATION_SETTING = "app.org_id";

/**
 * What a service's own migrations call, installed once per database by the kit:
 * - `tdt_current_org()`: the organization of the running transaction, or null;
 * - `tdt_app_role(name)`: makes a login role that is neither superuser nor owner and cannot
 *   bypass row-level security (roles are the server's, so a second database finds it made);
 * - `tdt_org_wall(table, role)`: walls a table with an `org_id uuid not null` column off by
 *   organization (the one policy) and grants `role` its rows' data only (and its serial columns'
 *   sequences). Not forced: the owner, which runs the migrations, sees every organization's rows
 *   (a migration that moves data must); the services never connect as it (`connectDatabase`'s
 *   `role`), and the role they connect as is bound by the policy.
 */
export const ORGANIZATION_WALL_MIGRATIONS: readonly KitMigration[] = [
  {
    name: "0002_organization_wall",
    sql: `
create or replace function tdt_current_org() returns uuid
  language sql stable
  as $$ select nullif(current_setting('${ORGANIZATION_SETTING}', true), '')::uuid $$;

create or replace function tdt_app_role(name text) returns void
  language plpgsql
  as $$
begin
  begin
    execute format('create role %I login nosuperuser nobypassrls nocreatedb nocreaterole noinherit', name);
  exception when duplicate_object or unique_violation then
    -- Made already, perhaps by another database's migration at the same moment: make sure it
    -- still cannot bypass the wall.
    execute format('alter role %I nosuperuser nobypassrls', name);
  end;
  execute format('grant usage on schema public to %I', name);
end
$$;

create or replace function tdt_org_wall(target regclass, app_role text) returns void
  language plpgsql
  as $$
declare
  sequence regclass;
begin
  execute format('alter table %s enable row level security', target);
  execute format('drop policy if exists organization_wall on %s', target);
  execute format(
    'create policy organization_wall on %s using (org_id = tdt_current_org()) with check (org_id = tdt_current_org())',
    target);
  execute format('grant select, insert, update, delete on %s to %I', target, app_role);
  -- The sequences of its serial and identity columns too, or the role could not insert a row.
  for sequence in
    select s.oid::regclass from pg_class s join pg_depend d on d.objid = s.oid
    where s.relkind = 'S' and d.refobjid = target and d.deptype in ('a', 'i')
  loop
    execute format('grant usage on sequence %s to %I', sequence, app_role);
  end loop;
end
$$;
`,
  },
  {
    // Roles are the server's, shared by every database, and two databases migrating at once
    // (two services' first starts, parallel tests) each altering the same role fail one with
    // "tuple concurrently updated". Made once; altered only when it could bypass the wall.
    name: "0003_app_role_once",
    sql: `
create or replace function tdt_app_role(name text) returns void
  language plpgsql
  as $$
begin
  if not exists (select 1 from pg_roles where rolname = name) then
    begin
      execute format('create role %I login nosuperuser nobypassrls nocreatedb nocreaterole noinherit', name);
    exception when duplicate_object or unique_violation then
      null; -- made by another database's migration at the same moment
    end;
  end if;
  -- Made already: it must still be unable to bypass the wall.
  if exists (select 1 from pg_roles where rolname = name and (rolsuper or rolbypassrls)) then
    execute format('alter role %I nosuperuser nobypassrls', name);
  end if;
  execute format('grant usage on schema public to %I', name);
end
$$;
`,
  },
];

/** The login role a walled service connects as: `trees_app` for trees (its migrations make it). */
export function appRoleOf(service: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(service)) throw new Error(`not a service name: ${service}`);
  return `${service}_app`;
}

/**
 * Gives the service's role the password of the owner's URL, when it has one: the operator
 * configures one secret (DATABASE_URL), and a server that asks for passwords (as the
 * deployments' do) lets the role in with it. Under trust authentication there is none to give.
 */
export async function shareOwnerPassword(owner: Sql, role: string, ownerUrl: string): Promise<void> {
  const password = decodeURIComponent(new URL(ownerUrl).password);
  if (!password) return;
  if (!/^[a-z][a-z0-9_]*$/.test(role)) throw new Error(`not a role name: ${role}`);
  // The role is the server's: another database's service may set it at this moment ("tuple
  // concurrently updated", which the migration lock of one database does not prevent). Again,
  // after a random wait that grows (full jitter): racers that waited alike would meet again, as
  // one in 18 did in CI on a loaded machine with fixed waits of 20, 40, 60 and 80 ms.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await owner.unsafe(`alter role "${role}" password '${password.replaceAll("'", "''")}'`);
      return;
    } catch (error) {
      const concurrent = (error as { code?: string; message?: string }).code === "XX000";
      if (!concurrent || attempt >= 12) throw error;
      await new Promise((wake) => setTimeout(wake, Math.random() * 20 * 2 ** Math.min(attempt, 6)));
    }
  }
}

/**
 * Runs `work` in a transaction of organization `orgId`: the wall shows it that organization's rows
 * only, and refuses a write of any other's. The setting is the transaction's own, so a pooled
 * connection never carries it to its next caller. Retried as `inTransaction` is.
 */
export function inOrganization<T>(sql: Sql, orgId: string, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return inTransaction(sql, async (tx) => {
    await setOrganization(tx, orgId);
    return work(tx);
  });
}

/**
 * Names the organization of the rest of `tx` (local to it): what `inOrganization` does first, and
 * what work spanning organizations in one transaction does before each (a rebuild, a user-wide event).
 */
export async function setOrganization(tx: TransactionSql, orgId: string): Promise<void> {
  await tx`select set_config(${ORGANIZATION_SETTING}, ${orgId}, true)`;
}
