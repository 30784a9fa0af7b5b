/**
 * The shipped NATS config is the one every deployment runs: Kubernetes holds a copy in a
 * ConfigMap (kustomize cannot read files outside infra/k8s), compose mounts the file, and each
 * service gets its own NATS user everywhere.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  findNatsServer,
  generateNatsPasswords,
  NATS_CONFIG,
  natsPasswordVariable,
} from "../../scripts/infrastructure.js";
import { ROOT } from "../../scripts/root.js";
import { SERVICES } from "../../scripts/stack.js";

const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

/** The `nats.conf: |` block of infra/k8s/nats.yaml, unindented. */
function configMapCopy(): string {
  const lines = read("infra/k8s/nats.yaml").split("\n");
  const start = lines.indexOf("  nats.conf: |") + 1;
  const end = lines.indexOf("---", start);
  expect(start).toBeGreaterThan(0);
  return `${lines
    .slice(start, end)
    .map((line) => line.replace(/^ {4}/, ""))
    .join("\n")
    .trimEnd()}\n`;
}

describe("the shipped NATS config", () => {
  it("is copied unchanged into the Kubernetes ConfigMap", () => {
    expect(configMapCopy()).toBe(readFileSync(NATS_CONFIG, "utf8"));
  });

  it("is valid with every password set, and refused while one is missing", () => {
    const binary = findNatsServer();
    if (!binary) throw new Error("nats-server is not installed (apt-get install nats-server)");
    const passwords = generateNatsPasswords();
    const all = Object.fromEntries(SERVICES.map((service) => [natsPasswordVariable(service), passwords[service]]));
    const check = (env: Record<string, string>) =>
      spawnSync(binary, ["-c", NATS_CONFIG, "-t"], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
    expect(check(all).status).toBe(0);
    for (const service of SERVICES) {
      const { [natsPasswordVariable(service)]: _missing, ...rest } = all;
      const result = check(rest);
      expect(result.status).not.toBe(0);
      expect(result.stderr + result.stdout).toContain(natsPasswordVariable(service));
    }
  });

  it("lets no user create a consumer by a subject that does not name it (issue 23)", () => {
    const config = readFileSync(NATS_CONFIG, "utf8");
    const allowed = [...config.matchAll(/^\s*"(\$JS\.API\.CONSUMER\.[^"]*)",?$/gm)].map((match) => match[1]);
    expect(allowed.length).toBeGreaterThan(0);
    // $JS.API.CONSUMER.CREATE.<stream> carries the name in the body, where no permission sees it.
    expect(allowed.filter((subject) => /^\$JS\.API\.CONSUMER\.CREATE\.[^.]+$/.test(subject))).toEqual([]);
    // The older durable form only for an owner's own durable, by its name.
    expect(allowed.filter((subject) => subject?.includes(".DURABLE."))).toEqual([
      "$JS.API.CONSUMER.DURABLE.CREATE.SESSION_EVENTS.trees-analytics",
      "$JS.API.CONSUMER.DURABLE.CREATE.AUTH_EVENTS.sessions-user-deactivated",
      "$JS.API.CONSUMER.DURABLE.CREATE.SESSION_EVENTS.hooks-sessions",
      "$JS.API.CONSUMER.DURABLE.CREATE.TREE_EVENTS.hooks-trees",
    ]);
  });

  it("gives each service its own NATS user in compose and in Kubernetes", () => {
    const compose = read("docker-compose.yml");
    expect(compose).toContain("./infra/nats/nats.conf:/etc/nats/nats.conf:ro");
    for (const service of SERVICES) {
      const variable = natsPasswordVariable(service);
      expect(compose).toMatch(new RegExp(`NATS_USER: ${service}\\n\\s+NATS_PASSWORD: \\$\\{${variable}:\\?`));
      const deployment = read(`infra/k8s/${service}.yaml`);
      expect(deployment).toMatch(new RegExp(`- name: NATS_USER\\n\\s+value: ${service}\\n`));
      expect(deployment).toContain(`key: ${variable}\n`);
      // Only its own password: no other service's key in its manifest.
      for (const other of SERVICES.filter((name) => name !== service)) {
        expect(deployment).not.toContain(natsPasswordVariable(other));
      }
    }
  });
});
