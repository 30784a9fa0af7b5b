/**
 * The compose stack of docker-compose.yml, run for real by the deploy tests: images built from
 * the one Dockerfile, `docker-compose up`, health checks, and the docker commands the fault and
 * upgrade tests use on its containers. Each stack has its own project name, host ports and
 * volumes, and is torn down with its volumes.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@tdt/test-support/ports";
import { ROOT } from "../../scripts/root.js";

const run = promisify(execFile);

/** The TDT services of the stack and how many replicas compose runs of each. */
export const BACKENDS = ["auth", "trees", "sessions", "hooks"] as const;
export type Backend = (typeof BACKENDS)[number];
export const IMAGES = ["auth", "trees", "sessions", "hooks", "gateway", "web"] as const;

/** Runs a command, resolving with its output; a failure carries the command's stderr. */
export async function sh(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  try {
    const { stdout } = await run(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${failed.stderr || failed.stdout || failed.message}`);
  }
}

export const docker = (...args: string[]) => sh("docker", args);

/** docker-compose 1.29 where installed (Debian's), else Compose v2 as `docker compose`. */
const COMPOSE = spawnSync("docker-compose", ["version"]).status === 0 ? ["docker-compose"] : ["docker", "compose"];

/**
 * Builds the images of the working tree, or of `release`, as tdt/<name>:<tag> with
 * infra/build-images.sh. A release is built from a `git archive` of its commit, so nothing of
 * the working tree leaks into its code; the build recipe is HEAD's Dockerfile (an older one may
 * not take the npm CA secret this machine needs), so the images differ in their code alone. A
 * service the release does not have yet gets no image of its tag (see `releaseHas`).
 */
export async function buildImages(tag: string, release?: { version: string; commit: string }): Promise<void> {
  if (!release) {
    await sh("bash", [join(ROOT, "infra/build-images.sh"), tag]);
    return;
  }
  const context = mkdtempSync(join(tmpdir(), `tdt-${tag}-`));
  await sh("bash", ["-c", `git archive ${release.commit} | tar -x -C ${context}`]);
  copyFileSync(join(ROOT, "Dockerfile"), join(context, "Dockerfile"));
  copyFileSync(join(ROOT, ".dockerignore"), join(context, ".dockerignore"));
  await sh("bash", [join(ROOT, "infra/build-images.sh"), tag, context], {
    env: { ...process.env, VERSION: release.version, REVISION: release.commit },
  });
  rmSync(context, { recursive: true, force: true });
}

/** Whether `release` has the service at all (hooks is newer than v0.1.0): its images are built only then. */
export function releaseHas(release: { commit: string }, service: string): boolean {
  const manifest = `${release.commit}:services/${service}/package.json`;
  return spawnSync("git", ["cat-file", "-e", manifest], { cwd: ROOT }).status === 0;
}

export interface Stack {
  project: string;
  gatewayUrl: string;
  webUrl: string;
  /** NATS client URLs of the three servers on the host's loopback, for the test's own consumer. */
  natsUrls: string[];
  natsPasswords: Record<"auth" | "gateway" | "trees" | "sessions" | "hooks", string>;
  compose(...args: string[]): Promise<string>;
  /** The running containers of a compose service (their ids). */
  containers(service: string): Promise<string[]>;
  /** Waits until every container of the stack that has a health check is healthy. */
  healthy(timeoutMs?: number): Promise<void>;
  /**
   * Runs `service` on the images tagged `tag`. Rolling: one replica at a time, each new one
   * healthy before an old one is stopped (SIGTERM: it drains); otherwise all at once
   * (`docker-compose up`, which stops the old containers first).
   */
  retag(service: string, tag: string, options?: { rolling?: boolean }): Promise<void>;
  down(): Promise<void>;
}

/**
 * Starts docker-compose.yml under a new project name with the images tagged `tag`, publishing
 * the gateway and the web container on free loopback ports (and, for the tests, the NATS
 * servers: tests/containers/compose.test.yml), and waits until every container is healthy.
 */
export async function startStack(
  tag: string,
  /** `env`: settings for compose (GATEWAY_PORT among them, to know the URL before it starts). */
  options: { env?: Record<string, string>; files?: string[] } = {},
): Promise<Stack> {
  const project = `tdt${randomBytes(3).toString("hex")}`;
  const [gatewayPort, webPort, ...natsPorts] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const natsPasswords = {
    auth: `p${randomBytes(16).toString("hex")}`,
    gateway: `p${randomBytes(16).toString("hex")}`,
    trees: `p${randomBytes(16).toString("hex")}`,
    sessions: `p${randomBytes(16).toString("hex")}`,
    hooks: `p${randomBytes(16).toString("hex")}`,
  };
  const directory = mkdtempSync(join(tmpdir(), `${project}-`));
  const envFile = join(directory, ".env");
  const settings: Record<string, string> = {
    TDT_TAG: tag,
    GATEWAY_PORT: String(gatewayPort),
    WEB_PORT: String(webPort),
    NATS_1_TEST_PORT: String(natsPorts[0]),
    NATS_2_TEST_PORT: String(natsPorts[1]),
    NATS_3_TEST_PORT: String(natsPorts[2]),
    NATS_AUTH_PASSWORD: natsPasswords.auth,
    NATS_GATEWAY_PASSWORD: natsPasswords.gateway,
    NATS_TREES_PASSWORD: natsPasswords.trees,
    NATS_SESSIONS_PASSWORD: natsPasswords.sessions,
    NATS_HOOKS_PASSWORD: natsPasswords.hooks,
    NATS_ROUTE_PASSWORD: `p${randomBytes(16).toString("hex")}`,
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "correct-horse-battery-staple",
    // The load runs from one address: the per-address limits are not what these tests measure.
    LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    ...Object.fromEntries(IMAGES.map((image) => [`${image.toUpperCase()}_TAG`, tag])),
    ...options.env,
  };
  const writeEnv = () =>
    writeFileSync(
      envFile,
      Object.entries(settings)
        .map(([key, value]) => `${key}=${value}\n`)
        .join(""),
    );
  writeEnv();
  const files = ["docker-compose.yml", "tests/containers/compose.test.yml", ...(options.files ?? [])].flatMap(
    (file) => ["-f", join(ROOT, file)],
  );
  const compose = (...args: string[]) =>
    sh(
      COMPOSE[0],
      [...COMPOSE.slice(1), "--env-file", envFile, "-p", project, ...files, "--project-directory", ROOT, ...args],
      {
        env: { ...process.env, ...settings },
      },
    );

  /** Container ids, not names: compose gives a recreated container the name of the one it replaced. */
  const containers = async (service: string) =>
    (
      await docker(
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--filter",
        `label=com.docker.compose.service=${service}`,
      )
    )
      .split("\n")
      .filter(Boolean)
      .sort();

  const healthy = async (timeoutMs = 180_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const ids = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`))
        .split("\n")
        .filter(Boolean);
      const states = (
        await docker(
          "inspect",
          "--format",
          "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
          ...ids,
        )
      )
        .split("\n")
        .filter(Boolean);
      // The one-shot certificate maker exits; everything else runs, healthy where it has a check.
      const waiting = states.filter((line) => !/ running healthy$| exited $/.test(line) && !/ running $/.test(line));
      if (ids.length > 0 && waiting.length === 0) return;
      last = waiting.join(", ");
      await new Promise((wake) => setTimeout(wake, 1000));
    }
    throw new Error(`stack ${project} not healthy after ${timeoutMs} ms: ${last}`);
  };

  /** Waits until `service` has `count` healthy containers not in `old`; returns them. */
  const newHealthy = async (service: string, old: string[], count: number) => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const fresh = (await containers(service)).filter((name) => !old.includes(name));
      if (fresh.length >= count) {
        const health = await docker("inspect", "--format", "{{.State.Health.Status}}", ...fresh);
        if (
          health
            .split("\n")
            .filter(Boolean)
            .every((status) => status === "healthy")
        )
          return fresh;
      }
      await new Promise((wake) => setTimeout(wake, 500));
    }
    throw new Error(`no new healthy ${service} container within 120 s`);
  };

  const retag = async (service: string, newTag: string, how: { rolling?: boolean } = {}) => {
    settings[`${service.toUpperCase()}_TAG`] = newTag;
    writeEnv();
    const old = await containers(service);
    if (!how.rolling) {
      await compose("up", "-d", "--no-deps", "--scale", `${service}=${old.length}`, service);
      await newHealthy(service, old, old.length);
      return;
    }
    const replaced: string[] = [];
    for (const container of old) {
      // One more container, on the new image; the old ones stay as they are.
      await compose("up", "-d", "--no-deps", "--no-recreate", "--scale", `${service}=${old.length + 1}`, service);
      replaced.push(...(await newHealthy(service, [...old, ...replaced], 1)));
      await docker("stop", "-t", "20", container);
      await docker("rm", container);
    }
  };

  const stack: Stack = {
    project,
    gatewayUrl: `http://127.0.0.1:${settings.GATEWAY_PORT}`,
    webUrl: `http://127.0.0.1:${settings.WEB_PORT}`,
    natsUrls: natsPorts.map((port) => `nats://127.0.0.1:${port}`),
    natsPasswords,
    compose,
    containers,
    healthy,
    retag,
    down: async () => {
      await compose("down", "-v", "--remove-orphans", "-t", "5").catch((error: unknown) => {
        console.error(`tearing ${project} down: ${String(error)}`);
      });
    },
  };
  try {
    await compose("up", "-d", "--no-build");
    await healthy();
  } catch (error) {
    const logs = await compose("logs", "--no-color", "--tail", "30").catch(() => "");
    await stack.down();
    throw new Error(`${String(error)}\n${logs}`);
  }
  return stack;
}
