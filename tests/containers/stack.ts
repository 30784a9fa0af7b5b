/**
 * The compose stack of docker-compose.yml, run for real by the deploy tests: images built from
 * the one Dockerfile, `docker-compose up`, health checks, and the docker commands the fault and
 * upgrade tests use on its containers. Each stack has its own project name, host ports and
 * volumes, and is torn down with its volumes.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@tdt/test-support/ports";
import { ROOT } from "../../scripts/root.js";

const run = promisify(execFile);

/** The TDT services of the stack and how many replicas compose runs of each. */
export const BACKENDS = ["auth", "trees", "sessions"] as const;
export type Backend = (typeof BACKENDS)[number];
export const IMAGES = ["auth", "trees", "sessions", "gateway", "web"] as const;

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

/**
 * Builds the five images at `ref` (a commit or tag; the working tree when omitted) as
 * tdt/<name>:<tag>, with the version and revision in their labels and the gateway's /health.
 * A ref is built from a `git archive` of it, so nothing of the working tree leaks in.
 */
export async function buildImages(tag: string, ref?: string): Promise<void> {
  let context = ROOT;
  if (ref) {
    context = mkdtempSync(join(tmpdir(), `tdt-${tag}-`));
    await sh("bash", ["-c", `git archive ${ref} | tar -x -C ${context}`]);
  }
  const revision = (await sh("git", ["rev-parse", ref ?? "HEAD"])).trim();
  const version = (await sh("git", ["describe", "--tags", "--always", ...(ref ? [ref] : ["--dirty"])])).trim();
  const secret = process.env.NPM_CA_FILE ?? process.env.NODE_EXTRA_CA_CERTS;
  for (const image of IMAGES) {
    await sh("bash", [
      join(ROOT, "infra/docker-build.sh"),
      "--quiet",
      "--network",
      "host",
      ...(secret ? ["--secret", `id=npm_ca,src=${secret}`] : []),
      "--build-arg",
      `SERVICE=${image}`,
      "--build-arg",
      `VERSION=${version}`,
      "--build-arg",
      `REVISION=${revision}`,
      ...(image === "web" ? ["--target", "web"] : []),
      "-t",
      `tdt/${image}:${tag}`,
      context,
    ]);
  }
}

export interface Stack {
  project: string;
  gatewayUrl: string;
  webUrl: string;
  /** NATS client URLs of the three servers on the host's loopback, for the test's own consumer. */
  natsUrls: string[];
  natsPasswords: Record<"auth" | "gateway" | "trees" | "sessions", string>;
  compose(...args: string[]): Promise<string>;
  /** The running containers of a compose service, by name. */
  containers(service: string): Promise<string[]>;
  /** Waits until every container of the stack that has a health check is healthy. */
  healthy(timeoutMs?: number): Promise<void>;
  down(): Promise<void>;
}

/**
 * Starts docker-compose.yml under a new project name with the images tagged `tag`, publishing
 * the gateway and the web container on free loopback ports (and, for the tests, the NATS
 * servers: tests/containers/compose.test.yml), and waits until every container is healthy.
 */
export async function startStack(tag: string, overrides: Record<string, string> = {}): Promise<Stack> {
  const project = `tdt${randomBytes(3).toString("hex")}`;
  const [gatewayPort, webPort, ...natsPorts] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const natsPasswords = {
    auth: `p${randomBytes(16).toString("hex")}`,
    gateway: `p${randomBytes(16).toString("hex")}`,
    trees: `p${randomBytes(16).toString("hex")}`,
    sessions: `p${randomBytes(16).toString("hex")}`,
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
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "correct-horse-battery-staple",
    // The load runs from one address: the per-address limits are not what these tests measure.
    LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    ...overrides,
  };
  writeFileSync(
    envFile,
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
  );
  const files = ["-f", join(ROOT, "docker-compose.yml"), "-f", join(ROOT, "tests/containers/compose.test.yml")];
  const compose = (...args: string[]) =>
    sh("docker-compose", ["--env-file", envFile, "-p", project, ...files, "--project-directory", ROOT, ...args], {
      env: { ...process.env, ...settings },
    });

  const containers = async (service: string) => {
    const ids = (
      await docker(
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--filter",
        `label=com.docker.compose.service=${service}`,
      )
    )
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    return (await docker("inspect", "--format", "{{.Name}}", ...ids))
      .split("\n")
      .filter(Boolean)
      .map((name) => name.replace(/^\//, ""))
      .sort();
  };

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

  const stack: Stack = {
    project,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    webUrl: `http://127.0.0.1:${webPort}`,
    natsUrls: natsPorts.map((port) => `nats://127.0.0.1:${port}`),
    natsPasswords,
    compose,
    containers,
    healthy,
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

/** A container's compose service (from its labels). */
export async function serviceOf(container: string): Promise<string> {
  return (
    await docker("inspect", "--format", '{{index .Config.Labels "com.docker.compose.service"}}', container)
  ).trim();
}

/** Follows a command's output until stopped, for a test that wants a container's logs as they come. */
export function follow(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { output: () => output, stop: () => child.kill() };
}
