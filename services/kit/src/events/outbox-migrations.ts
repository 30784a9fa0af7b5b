import type { KitMigration } from "../database/migrations.js";

/**
 * The outbox table, the kit's: `runService` applies these before the migrations of a service
 * that has an `outbox`, and a tool migrating that service's database passes them to `migrate`.
 *
 * Up to v0.1.0 each service's own migrations made this table, in this very shape; their files
 * stay, emptied, so that their names stay recorded (docs/decisions/outbox-migration.md). On such
 * a database the migration does nothing and locks nothing: an older replica beside this release
 * keeps writing to the table while a newer one migrates.
 */
export const OUTBOX_MIGRATIONS: readonly KitMigration[] = [
  {
    name: "0001_outbox",
    sql: `
do $$
begin
  if to_regclass('outbox') is null then
    create table outbox (
      id uuid primary key,
      subject text not null,
      payload bytea not null,
      created_at timestamptz not null default now(),
      sent_at timestamptz,
      attempts integer not null default 0,
      -- The W3C traceparent of the change that wrote the event, sent with it as a NATS header;
      -- null when tracing is off.
      trace_context text
    );
    create index outbox_unsent on outbox (created_at) where sent_at is null;
  elsif not exists (select from information_schema.columns
                    where table_schema = current_schema() and table_name = 'outbox'
                      and column_name = 'trace_context') then
    -- Made by a service's migrations of before issue 13, never run up to v0.1.0's.
    alter table outbox add column trace_context text;
  end if;
end
$$;
`,
  },
];
