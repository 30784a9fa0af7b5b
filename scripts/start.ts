/**
 * `npm start`: the whole system in one terminal. Postgres and NATS from the environment
 * (embedded or local ones when those do not answer), the four services, every log line.
 * It fails whole at start: a service that cannot start stops the others, and the runner exits 1
 * with that service's reason. Once up it supervises: a service that exits is restarted with
 * backoff, for as long as it takes, while the others keep serving. Ctrl-C stops the services
 * first (they drain; a pending restart is cancelled), then what the runner started.
 */
import { DEV_PROVIDER_ID, startDevSso, wantsDevIssuer } from "./dev-sso.js";
import { DEFAULT_DATABASE_URL, ensureNats, ensurePostgres, type Started } from "./infrastructure.js";
import { type RunningStack, startStack } from "./stack.js";
import { takenPorts } from "./taken-ports.js";

const say = (line: string) => process.stderr.write(`[start] ${line}\n`);
/** From this many exits within a minute, each restart line says the service is crash-looping. */
const CRASH_LOOP_EXITS = 5;
const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const started: Started[] = [];
const interrupt = new AbortController();
let stack: RunningStack | undefined;

async function run(): Promise<void> {
  const database = await ensurePostgres(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, say);
  started.push(database);
  if (interrupt.signal.aborted) return;
  const nats = await ensureNats(process.env, say);
  started.push(nats);

  const env: NodeJS.ProcessEnv = {
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "admin-password",
    DEMO_DATA: "true",
    ...process.env,
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
  };
  if (wantsDevIssuer(env)) {
    const sso = await startDevSso(env);
    started.push(sso);
    Object.assign(env, sso.env);
    say(`Single sign-on: the local test issuer at ${sso.url} signs in any email (provider "${DEV_PROVIDER_ID}").`);
  }
  if (interrupt.signal.aborted) return;
  const taken = await takenPorts(env);
  if (taken.length > 0) throw new Error(taken.join("; "));
  if (interrupt.signal.aborted) return;
  stack = await startStack({
    env,
    serviceEnv: nats.serviceEnv,
    signal: interrupt.signal,
    onLine: (_service, line) => process.stdout.write(`${line}\n`),
    supervise: {
      onRestart: (_service, { exit, delayMs, recentExits }) => {
        const looping =
          recentExits >= CRASH_LOOP_EXITS ? ` (${recentExits} exits within a minute, still retrying)` : "";
        say(`${exit.message}; restarting in ${formatSeconds(delayMs)}${looping}.`);
      },
    },
  });
  // Single sign-on comes back to PUBLIC_URL: the web app is to be opened there, or the sign-in's cookie is lost.
  const webApp = env.PUBLIC_URL ?? stack.gatewayUrl;
  say(`TDT is up.
  Web app:  ${webApp}/
  API:      ${stack.gatewayUrl}/api/v1
  Docs:     ${stack.gatewayUrl}/api/docs  (ReDoc: /api/redoc, OpenAPI: /api/openapi.json)
  Ready:    ${stack.gatewayUrl}/ready
  Admin:    ${env.ADMIN_EMAIL} (password from ADMIN_PASSWORD)
Press Ctrl-C to stop.`);
}

const running = run();
let stopping: Promise<void> | undefined;

/** Services first (SIGTERM, each drains and exits), then NATS and Postgres if the runner started them. */
function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    say("stopping…");
    // A start under way stops the services it started and gives up; wait for it so none is missed.
    interrupt.abort();
    await running.catch(() => {});
    await stack?.stop();
    for (const part of started.reverse()) await part.stop().catch(() => {});
    say("stopped.");
    process.exit(code);
  })();
  return stopping;
}

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

running.catch((error: unknown) => {
  if (!interrupt.signal.aborted) say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
