/**
 * A fresh auth database for one test file, migrated as the service would, and dropped after.
 * Read `sql` and `url` inside tests or hooks (they are set once `beforeAll` has run).
 */
import { fileURLToPath } from "node:url";
import { migrate, OUTBOX_MIGRATIONS } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import type { Sql } from "postgres";
import { afterAll, beforeAll } from "vitest";

export function useAuthDatabase(label: string): { readonly sql: Sql; readonly url: string } {
  let database: { name: string; url: string } | undefined;
  let sql: Sql | undefined;
  beforeAll(async () => {
    database = await createDatabase(label);
    sql = connect(database.url);
    await migrate(sql, fileURLToPath(new URL("../../migrations", import.meta.url)), testLogger(), OUTBOX_MIGRATIONS);
  });
  afterAll(async () => {
    await sql?.end();
    if (database) await dropDatabase(database.name);
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the auth test database is set up in beforeAll");
    return value;
  };
  return {
    get sql() {
      return ready(sql);
    },
    get url() {
      return ready(database).url;
    },
  };
}
