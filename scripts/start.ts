/**
 * `npm start`: the whole system in one terminal. Postgres and NATS from the environment
 * (embedded or local ones when those do not answer), SMTP from SMTP_URL (else a local catcher
 * that keeps each message in the data folder), the four services, every log line. Everything
 * listens on 127.0.0.1 unless GATEWAY_HOST / METRICS_HOST say otherwise; the first admin's
 * password is ADMIN_PASSWORD or one made for the data folder (first-admin.ts).
 * It fails whole at start: a service that cannot start stops the others, and the runner exits 1
 * with that service's reason. Once up it supervises: a service that exits is restarted with
 * backoff, for as long as it takes, while the others keep serving. Ctrl-C stops the services
 * first (they drain; a pending restart is cancelled), then what the runner started.
 */
import { join } from "node:path";
import { redactUrl } from "@tdt/kit";
import { dataFolder, shownPath } from "./data-folder.js";
import { DEV_PROVIDER_ID, localPublicUrl, startDevSso, wantsDevIssuer } from "./dev-sso.js";
import { firstAdmin } from "./first-admin.js";
import { DEFAULT_DATABASE_URL, ensureNats, ensurePostgres, type Started } from "./infrastructure.js";
import { mailLine, startMailCatcher } from "./mail-catcher.js";
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
  const data = dataFolder(process.env);
  const database = await ensurePostgres(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, data, say);
  started.push(database);
  if (interrupt.signal.aborted) return;
  const nats = await ensureNats(process.env, data, say);
  started.push(nats);
  const admin = firstAdmin(process.env, data);
  const mail = await ensureMail(process.env, join(data, "mail"));
  started.push(mail);

  const env: NodeJS.ProcessEnv = {
    DEMO_DATA: "true",
    // Where mailed links and single sign-on lead: this gateway, whatever its port.
    PUBLIC_URL: localPublicUrl(process.env),
    ...process.env,
    ...admin.env,
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
  Admin:    ${admin.summary}
  Mail:     ${mail.summary}
Press Ctrl-C to stop.`);
}

/**
 * SMTP_URL when set; otherwise a local catcher whose URL auth gets, each message kept in
 * `folder` and told in one line. The sender is auth's MAIL_FROM, with auth's default.
 */
async function ensureMail(
  given: NodeJS.ProcessEnv,
  folder: string,
): Promise<Started & { env: Record<string, string>; summary: string }> {
  const url = given.SMTP_URL?.trim();
  if (url) return { url, env: {}, summary: `sent through ${redactUrl(url)}`, stop: async () => {} };
  const catcher = await startMailCatcher({
    folder,
    // A free port now may be a service's configured port that it has not bound yet.
    avoid: Object.entries(given)
      .filter(([name]) => name.endsWith("_PORT"))
      .map(([, value]) => Number(value))
      .filter(Number.isInteger),
    onMail: (message) => process.stderr.write(`[mail] ${mailLine(message)}\n`),
  });
  const where = `${shownPath(folder)}/`;
  say(`Mail: no SMTP_URL, so ${catcher.url} keeps every message in ${where} (one [mail] line each).`);
  return { ...catcher, env: { SMTP_URL: catcher.url }, summary: `lands in ${where} (set SMTP_URL to send it)` };
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
