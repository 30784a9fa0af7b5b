/**
 * `npm start`: the whole system in one terminal. Postgres and NATS from the environment
 * (embedded or local ones when those do not answer), the four services, every log line, and
 * Ctrl-C stops it all.
 */
import { DEFAULT_DATABASE_URL, ensureNats, ensurePostgres, type Started } from "./infrastructure.js";
import { type RunningStack, startStack } from "./stack.js";

const say = (line: string) => process.stderr.write(`[start] ${line}\n`);

const started: Started[] = [];
let stack: RunningStack | undefined;
let stopping = false;

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  await stack?.stop();
  for (const part of started.reverse()) await part.stop().catch(() => {});
  process.exit(code);
}

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  const database = await ensurePostgres(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, say);
  started.push(database);
  const nats = await ensureNats(process.env, say);
  started.push(nats);

  const env = {
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "admin-password",
    DEMO_DATA: "true",
    ...process.env,
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
  };
  stack = await startStack({
    env,
    serviceEnv: nats.serviceEnv,
    onLine: (_service, line) => process.stdout.write(`${line}\n`),
    onExit: (service, code) => {
      say(`${service} exited with code ${code}; stopping everything.`);
      void stopAll(1);
    },
  });
  say(`TDT is up.
  API:      ${stack.gatewayUrl}/api/v1
  Docs:     ${stack.gatewayUrl}/api/docs  (ReDoc: /api/redoc, OpenAPI: /api/openapi.json)
  Ready:    ${stack.gatewayUrl}/ready
  Admin:    ${env.ADMIN_EMAIL} (password from ADMIN_PASSWORD)
Press Ctrl-C to stop.`);
} catch (error) {
  say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}
