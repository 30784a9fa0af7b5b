/**
 * Operator commands against the auth database (same configuration as the service):
 *   node dist/cli.js create-admin --email a@b.c --password '…' [--name 'Full Name']
 *   node dist/cli.js rotate-keys
 */
import { parseArgs } from "node:util";
import { connectDatabase, createLogger, env, loadConfig, migrate } from "@tdt/kit";
import { authConfig } from "./config.js";
import { SigningKeys } from "./keys.js";
import { checkRegistration, createUser, findUserByEmail } from "./users.js";

const config = loadConfig({
  ...authConfig,
  databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
  ownDatabaseUrl: env.optional("AUTH_DATABASE_URL"),
});
const log = createLogger("auth-cli", process.env.LOG_LEVEL ?? "warn");
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
});

const sql = await connectDatabase({
  serverUrl: config.databaseUrl,
  explicitUrl: config.ownDatabaseUrl,
  database: "tdt_auth",
  log,
  max: 2,
});
await migrate(sql, new URL("../migrations", import.meta.url).pathname, log);

try {
  switch (positionals[0]) {
    case "create-admin": {
      const input = {
        email: values.email ?? "",
        password: values.password ?? "",
        full_name: values.name ?? "Administrator",
      };
      checkRegistration(input);
      const existing = await findUserByEmail(sql, input.email);
      if (existing) {
        await sql`update users set role = 'admin', is_active = true where id = ${existing.id}`;
        console.log(`${existing.email} is now an active admin (password unchanged)`);
      } else {
        const user = await createUser(sql, { ...input, role: "admin" });
        console.log(`created admin ${user.email} (${user.id})`);
      }
      break;
    }
    case "rotate-keys": {
      const kid = await new SigningKeys(sql).rotate(config.accessTokenTtlSeconds);
      console.log(`new signing key ${kid}; the previous key stays published until its tokens expire`);
      break;
    }
    default:
      console.error("usage: cli.js create-admin --email E --password P [--name N] | rotate-keys");
      process.exitCode = 2;
  }
} catch (error) {
  const problems = (error as { extra?: { problems?: unknown } }).extra?.problems;
  console.error(`failed: ${problems ? JSON.stringify(problems) : String(error)}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}
