/**
 * Operator commands against the auth database (same configuration as the service):
 *   node dist/cli.js create-admin --email a@b.c --password '…' [--name 'Full Name'] [--reset-existing]
 *   node dist/cli.js rotate-keys
 * Exit codes: 0 done (or nothing to do), 1 refused or failed, 2 usage.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { connectDatabase, createLogger, env, loadConfig, migrate, OUTBOX_MIGRATIONS } from "@tdt/kit";
import { type AdminProvisioning, provisionAdmin } from "./admin-provisioning.js";
import { authConfig } from "./config.js";
import { SigningKeys } from "./keys.js";

const config = loadConfig({
  ...authConfig,
  databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
  ownDatabaseUrl: env.optional("AUTH_DATABASE_URL"),
});
const log = createLogger("auth-cli", process.env.LOG_LEVEL ?? "warn");
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    email: { type: "string" },
    password: { type: "string" },
    name: { type: "string" },
    "reset-existing": { type: "boolean", default: false },
  },
});

const sql = await connectDatabase({
  serverUrl: config.databaseUrl,
  explicitUrl: config.ownDatabaseUrl,
  database: "tdt_auth",
  log,
  max: 2,
});
await migrate(sql, new URL("../migrations", import.meta.url).pathname, log, OUTBOX_MIGRATIONS);

try {
  switch (positionals[0]) {
    case "create-admin": {
      const result = await provisionAdmin(sql, {
        email: values.email ?? "",
        password: values.password ?? "",
        ...(values.name === undefined ? {} : { name: values.name }),
        resetExisting: values["reset-existing"] ?? false,
        actor: `cli:${operatorName()}`,
      });
      report(result);
      break;
    }
    case "rotate-keys": {
      const kid = await new SigningKeys(sql).rotate(config.accessTokenTtlSeconds);
      console.log(`new signing key ${kid}; the previous key stays published until its tokens expire`);
      break;
    }
    default:
      console.error("usage: cli.js create-admin --email E --password P [--name N] [--reset-existing] | rotate-keys");
      process.exitCode = 2;
  }
} catch (error) {
  const problems = (error as { extra?: { problems?: unknown } }).extra?.problems;
  console.error(`failed: ${problems ? JSON.stringify(problems) : String(error)}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}

function report(result: AdminProvisioning): void {
  const { email, id } = result.user;
  switch (result.outcome) {
    case "created":
      console.log(`created admin ${email} (${id})`);
      return;
    case "already_admin":
      console.log(`${email} is already an active admin; nothing changed (--reset-existing sets a new password)`);
      return;
    case "refused": {
      const state = `${result.user.is_active ? "an active" : "a deactivated"} ${result.user.role} account`;
      console.error(
        `refused: ${email} is already ${state}, which anyone may have registered; nothing changed. ` +
          "To take it over (new password, active admin, all its sessions ended), run again with --reset-existing.",
      );
      process.exitCode = 1;
      return;
    }
    case "reset":
      console.log(
        `reset ${email} (${id}): new password, active admin (was ${result.previous.is_active ? "active" : "deactivated"} ` +
          `${result.previous.role}), ${result.sessionsEnded} login session(s) ended, ${result.providersUnlinked} provider link(s) removed`,
      );
      return;
  }
}

/** The operator's login name, for the audit record; containers may have none. */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
