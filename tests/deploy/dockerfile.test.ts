/**
 * Every service's image comes from the one Dockerfile at the root, its name the SERVICE build
 * argument: compose builds each service with it, Kubernetes runs the images it names, and the
 * Dockerfile keeps what each image needs (every workspace manifest for npm ci, the dependency
 * patches, production dependencies only, a non-root user, the service's migrations).
 * No Docker engine here: these read the files.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/root.js";
import { SERVICES } from "../../scripts/stack.js";

const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");
const dockerfile = read("Dockerfile");

/** The `build:` block of a compose service, as text. */
function composeBuild(service: string): string {
  const compose = read("docker-compose.yml");
  const start = compose.indexOf(`\n  ${service}:\n`);
  expect(start).toBeGreaterThan(0);
  const block = compose.slice(start + 1).split(/\n {2}[a-z]+:\n/)[0] ?? "";
  return block.slice(block.indexOf("    build:"), block.indexOf("\n    image:"));
}

describe("the one Dockerfile", () => {
  it("is the only image definition: no service keeps its own", () => {
    for (const service of SERVICES) {
      expect(existsSync(resolve(ROOT, `services/${service}/Dockerfile`)), service).toBe(false);
    }
    expect(dockerfile).toMatch(/^ARG SERVICE$/m);
  });

  it("builds each compose service from the root with SERVICE set to its name", () => {
    for (const service of SERVICES) {
      const build = composeBuild(service);
      expect(build, service).toBe(`    build:\n      context: .\n      args:\n        SERVICE: ${service}`);
      // Tagged by TDT_TAG (latest unless set): the deploy tests run images of two releases.
      expect(read("docker-compose.yml")).toContain(`image: tdt/${service}:\${TDT_TAG:-latest}`);
    }
  });

  it("names, in Kubernetes, the images compose builds", () => {
    for (const service of SERVICES) {
      expect(read(`infra/k8s/${service}.yaml`)).toContain(`image: tdt/${service}:latest`);
    }
  });

  it("copies every workspace manifest, so npm ci accepts the lock file", () => {
    const { workspaces } = JSON.parse(read("package.json")) as { workspaces: string[] };
    for (const workspace of workspaces) {
      // A workspace newer than the previous release is copied through a pattern (its last letter
      // in brackets), which matches nothing in that release's tree, where the plain path would fail.
      const pattern = `${workspace.slice(0, -1)}[${workspace.slice(-1)}]`;
      expect([
        dockerfile.includes(`COPY ${workspace}/package.json ${workspace}/`),
        dockerfile.includes(`COPY ${pattern}/package.json ${workspace}/`),
      ]).toContain(true);
      if (workspace.startsWith("tests/")) {
        expect(read(".dockerignore")).toContain(`!${workspace}/package.json`);
      }
    }
  });

  it("installs the service's production dependencies only, with the dependency patches applied", () => {
    expect(dockerfile).toContain(
      "npm ci --workspace=@tdt/$SERVICE --omit=dev --ignore-scripts --no-audit --no-fund && node patches/apply.mjs",
    );
    expect(dockerfile).toContain("COPY patches/ patches/");
  });

  it("runs the service as the non-root node user, with its migrations and the health check", () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(final).toMatch(/^USER node$/m);
    expect(final).toContain("COPY --from=deps /app ./");
    expect(final).toContain("COPY --from=build /out/ ./");
    expect(final).toContain('CMD ["node", "infra/docker/healthcheck.mjs"]');
    expect(final).toContain("exec node services/$TDT_SERVICE/dist/main.js");
    // /out holds dist, and migrations and demo where the service has them.
    expect(dockerfile).toMatch(/for part in dist migrations demo; do/);
    for (const service of SERVICES) {
      expect(existsSync(resolve(ROOT, `services/${service}/src/main.ts`)), service).toBe(true);
    }
    for (const service of SERVICES.filter((name) => name !== "gateway")) {
      expect(existsSync(resolve(ROOT, `services/${service}/migrations`)), service).toBe(true);
    }
  });
});

describe("the stand-in base images (infra/standin/build.sh)", () => {
  /** The `name=target` entries of build.sh's IMAGES list. */
  const standIns = [...read("infra/standin/build.sh").matchAll(/^ {2}"([^"=]+)=([a-z]+)"$/gm)].map((match) => match[1]);

  it("stand in for every public image the Dockerfile builds on and the default compose stack runs", () => {
    const stages = new Set([...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((match) => match[1]));
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)]
      .map((match) => match[1])
      .filter((name) => !stages.has(name));
    const compose = read("docker-compose.yml");
    // The observability profile's images are optional and have no stand-in; everything else does.
    const profileStart = compose.indexOf("# --- The observability profile");
    const runs = [...compose.slice(0, profileStart).matchAll(/^ +image: (\S+)$/gm)]
      .map((match) => match[1])
      .filter((name) => !name.startsWith("tdt/"));
    expect(standIns.length).toBeGreaterThan(0);
    expect(new Set([...bases, ...runs])).toEqual(new Set(standIns));
  });

  it("each has a stage of that name in the stand-in Dockerfile", () => {
    const targets = read("infra/standin/build.sh").matchAll(/^ {2}"[^"=]+=([a-z]+)"$/gm);
    const standinDockerfile = read("infra/standin/Dockerfile");
    for (const [, target] of targets) expect(standinDockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${target}$`, "m"));
  });
});
