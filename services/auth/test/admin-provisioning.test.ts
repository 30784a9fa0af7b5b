import type { Sql } from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { provisionAdmin } from "../src/admin-provisioning.js";
import { passwordMatches } from "../src/passwords.js";
import { createUser } from "../src/users.js";
import { useAuthDatabase } from "./support/auth-database.js";

const database = useAuthDatabase("auth_provisioning");
let sql: Sql;
beforeAll(() => {
  sql = database.sql;
});

describe("create-admin racing a self-registration of the same email", () => {
  it("never leaves the squatter's password on an admin, over many trials", async () => {
    const TRIALS = 40;
    const outcomes = { adminFirst: 0, registrationFirst: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      const email = `race-${trial}@example.com`;
      const [registration, provisioning] = await Promise.allSettled([
        createUser(sql, { email, password: "squatter-password", full_name: "Squatter", role: "technician" }),
        provisionAdmin(sql, { email, password: "operator-password", resetExisting: false, actor: "test" }),
      ]);
      const rows = await sql`select role, password_hash from users where lower(email) = ${email}`;
      expect(rows).toHaveLength(1);
      const [row] = rows;
      if (row?.role === "admin") {
        // The operator won: registration saw a taken email.
        expect(provisioning).toMatchObject({ status: "fulfilled", value: { outcome: "created" } });
        expect(registration).toMatchObject({ status: "rejected", reason: { code: "email_already_registered" } });
        expect(await passwordMatches("operator-password", row.password_hash)).toBe(true);
        outcomes.adminFirst++;
      } else {
        // The squatter won: the command refused and changed nothing.
        expect(registration.status).toBe("fulfilled");
        expect(provisioning).toMatchObject({ status: "fulfilled", value: { outcome: "refused" } });
        expect(await passwordMatches("squatter-password", row?.password_hash)).toBe(true);
        outcomes.registrationFirst++;
      }
    }
    expect(outcomes.adminFirst + outcomes.registrationFirst).toBe(TRIALS);
    console.log(`create-admin vs registration over ${TRIALS} trials:`, outcomes);
  });
});
