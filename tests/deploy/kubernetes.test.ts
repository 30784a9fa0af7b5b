/**
 * infra/k8s as a cluster would take it, with no cluster here: `kubectl kustomize` renders it, every
 * object is checked against the Kubernetes API's schemas (the kubernetes-models package, Kubernetes
 * 1.27), unknown fields refused as the API server refuses them, and the shape of a production
 * deployment is asserted: requests and limits, a PodDisruptionBudget per workload, autoscalers, and
 * a NATS cluster of three whose command line nats-server runs, and hooks fenced off from the
 * cluster's private addresses.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import * as models from "kubernetes-models";
import { Deployment, type IDeployment, type IStatefulSet, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, type IContainer, Service } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import {
  findNatsServer,
  generateNatsPasswords,
  NATS_CONFIG,
  natsPasswordVariable,
} from "../../scripts/infrastructure.js";
import { freePort } from "../../scripts/ports.js";
import { ROOT } from "../../scripts/root.js";
import { SERVICES } from "../../scripts/stack.js";

const KUBECTL_MISSING =
  "kubectl is not installed, and this test renders infra/k8s with `kubectl kustomize`. Install it: on " +
  "Debian, apt-get install kubernetes-client (an old kubectl, enough to render), or Kubernetes' own kubectl.";

/** The services autoscaled on CPU; auth and hooks are not (infra/k8s/auth.yaml and hooks.yaml say why). */
const AUTOSCALED = ["gateway", "trees", "sessions"];

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

/**
 * `kubectl kustomize infra/k8s`, from a copy with stand-ins for the certificate files its
 * secretGenerator reads (git-ignored, made by infra/tls/make-certs.sh): here only their names matter.
 */
function renderKustomization(): KubernetesObject[] {
  if (spawnSync("kubectl", ["version", "--client"]).error) throw new Error(KUBECTL_MISSING);
  const source = resolve(ROOT, "infra/k8s");
  const copy = mkdtempSync(join(tmpdir(), "tdt-k8s-"));
  try {
    cpSync(source, copy, { recursive: true, filter: (path) => !path.startsWith(join(source, "certs")) });
    const kustomization = parse(readFileSync(join(source, "kustomization.yaml"), "utf8")) as {
      secretGenerator?: { files?: string[] }[];
    };
    for (const entry of kustomization.secretGenerator?.flatMap((generator) => generator.files ?? []) ?? []) {
      // An entry is a path, or key=path.
      const file = join(copy, entry.slice(entry.indexOf("=") + 1));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, "a stand-in: rendered, never applied\n");
    }
    const rendered = spawnSync("kubectl", ["kustomize", copy], { encoding: "utf8" });
    if (rendered.status !== 0) throw new Error(`kubectl kustomize infra/k8s failed: ${rendered.stderr}`);
    return parseAllDocuments(rendered.stdout).map((document) => document.toJS() as KubernetesObject);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(this: unknown): void };
}

const isModelClass = (value: unknown): value is ModelClass =>
  typeof value === "function" && "apiVersion" in value && "kind" in value;

/** The model classes in a module of kubernetes-models: group, then version (the core group: version only). */
const modelsIn = (module: object): ModelClass[] =>
  Object.values(module).flatMap((value) => {
    if (isModelClass(value)) return [value];
    return typeof value === "object" && value !== null ? modelsIn(value) : [];
  });

/** The validator of every kind kubernetes-models has a schema for, by "apiVersion/kind". */
const SCHEMAS = new Map(
  modelsIn(models).map((model) => [
    `${model.apiVersion}/${model.kind}`,
    (object: unknown) => model.prototype.validate.call(object),
  ]),
);

/** What the validator did with one object (not array) of a manifest. */
interface Visit {
  path: string;
  keys: string[];
  read: Set<string>;
  listed: boolean;
}

/**
 * A copy of `value` that notes which keys the validator reads. Kubernetes' schemas leave objects
 * open, yet the API server refuses a field it does not know (kubectl's default, strict field
 * validation). The generated validator reads every property its schema names and lists the keys
 * of a map (labels, data, limits), so a key of any other object that it never read is a field no
 * schema has: a misspelling such as `readinesProbe`.
 */
function tracked(value: unknown, path: string, visits: Visit[]): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item, index) => tracked(item, `${path}/${index}`, visits));
  const visit: Visit = { path, keys: Object.keys(value), read: new Set(), listed: false };
  visits.push(visit);
  const copy = Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, tracked(item, `${path}/${key}`, visits)]),
  );
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") visit.read.add(key);
      return Reflect.get(target, key, receiver);
    },
    ownKeys(target) {
      visit.listed = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** What the API server would refuse in `object`: schema violations, then unknown fields. */
function schemaErrors(object: KubernetesObject): string[] {
  const validate = SCHEMAS.get(`${object.apiVersion}/${object.kind}`);
  if (!validate) return [`no schema for ${object.apiVersion} ${object.kind}`];
  const visits: Visit[] = [];
  const errors: string[] = [];
  try {
    validate(tracked(object, "", visits));
  } catch (error) {
    const { errors: found = [] } = error as { errors?: { instancePath: string; message?: string }[] };
    errors.push(...found.map(({ instancePath, message }) => `${instancePath} ${message}`));
    if (found.length === 0) throw error;
  }
  // Parents come before their children: what lies inside an unknown field is not named again.
  const unknown: string[] = [];
  for (const visit of visits) {
    if (visit.listed || unknown.some((path) => `${visit.path}/`.startsWith(`${path}/`))) continue;
    unknown.push(...visit.keys.filter((key) => !visit.read.has(key)).map((key) => `${visit.path}/${key}`));
  }
  return [...errors, ...unknown.map((path) => `${path} is not a field`)];
}

let objects: KubernetesObject[];

beforeAll(() => {
  objects = renderKustomization();
});

const ofKind = <T>(is: (value: unknown) => value is T) => objects.filter(is) as (T & KubernetesObject)[];
const named = <T extends KubernetesObject>(list: T[], name: string): T => {
  const found = list.find((object) => object.metadata.name === name);
  if (!found) throw new Error(`no ${name} among ${list.map((object) => object.metadata.name).join(", ")}`);
  return found;
};
const workloads = () => [...ofKind(Deployment.is), ...ofKind(StatefulSet.is)];
const podLabels = (workload: IDeployment | IStatefulSet) => workload.spec?.template.metadata?.labels ?? {};
const containersOf = (workload: IDeployment | IStatefulSet): IContainer[] => {
  const spec = workload.spec?.template.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
};
/** Whether a selector with at least one label picks pods labelled `labels`. */
const selects = (matchLabels: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.keys(matchLabels ?? {}).length > 0 &&
  Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value);

describe("the Kubernetes manifests (kubectl kustomize infra/k8s)", () => {
  it("are valid against the Kubernetes schemas, with no field the API server would refuse", () => {
    const example = parseAllDocuments(readFileSync(resolve(ROOT, "infra/k8s/secret.example.yaml"), "utf8")).map(
      (document) => document.toJS() as KubernetesObject,
    );
    expect(objects.length).toBeGreaterThan(20);
    for (const object of [...objects, ...example]) {
      expect(schemaErrors(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
    }
  });

  it("would be refused with a field of the wrong type, a misspelt field or a bad quantity", () => {
    const gateway = named(ofKind(Deployment.is), "gateway");
    const broken = (change: (spec: Record<string, unknown>, container: Record<string, unknown>) => void) => {
      const copy = structuredClone(gateway);
      const spec = copy.spec as unknown as Record<string, unknown>;
      change(spec, copy.spec?.template.spec?.containers[0] as unknown as Record<string, unknown>);
      return schemaErrors(copy);
    };
    expect(broken(() => {})).toEqual([]);
    expect(
      broken((spec) => {
        spec.minReadySeconds = "ten";
      }),
    ).toContain("/spec/minReadySeconds must be integer");
    expect(
      broken((_, container) => {
        container.readinesProbe = container.readinessProbe;
        delete container.readinessProbe;
      }),
    ).toEqual(["/spec/template/spec/containers/0/readinesProbe is not a field"]);
    expect(
      broken((_, container) => {
        (container.resources as { limits: Record<string, string> }).limits.cpu = "half a core";
      }),
    ).toContain('/spec/template/spec/containers/0/resources/limits/cpu must match format "quantity"');
    expect(schemaErrors({ apiVersion: "apps/v1", kind: "Deploymnt", metadata: { name: "x" } })).toEqual([
      "no schema for apps/v1 Deploymnt",
    ]);
  });

  it("give every container CPU and memory requests and limits, and readiness and liveness probes", () => {
    expect(workloads().map((workload) => workload.metadata.name)).toEqual(
      expect.arrayContaining([...SERVICES, "nats"]),
    );
    for (const workload of workloads()) {
      for (const container of containersOf(workload)) {
        const where = `${workload.metadata.name}/${container.name}`;
        const { requests = {}, limits = {} } = container.resources ?? {};
        expect(Object.keys(requests).sort(), where).toEqual(["cpu", "memory"]);
        expect(Object.keys(limits).sort(), where).toEqual(["cpu", "memory"]);
        expect(container.readinessProbe, where).toBeDefined();
        expect(container.livenessProbe, where).toBeDefined();
      }
    }
  });

  it("run two pods of each service at least, and roll one new pod in before an old one goes", () => {
    const autoscalers = ofKind(HorizontalPodAutoscaler.is);
    for (const deployment of ofKind(Deployment.is)) {
      const name = deployment.metadata.name;
      const autoscaler = autoscalers.find((candidate) => candidate.spec?.scaleTargetRef.name === name);
      // An autoscaled Deployment names no count: every `kubectl apply` would reset the autoscaler's.
      if (autoscaler) expect(deployment.spec?.replicas, name).toBeUndefined();
      expect(autoscaler?.spec?.minReplicas ?? deployment.spec?.replicas, name).toBeGreaterThanOrEqual(2);
      expect(deployment.spec?.strategy?.type ?? "RollingUpdate", name).toBe("RollingUpdate");
      expect(deployment.spec?.strategy?.rollingUpdate, name).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    }
  });

  it("cover every workload with one PodDisruptionBudget, which lets one pod go at a time", () => {
    const budgets = ofKind(PodDisruptionBudget.is);
    for (const workload of workloads()) {
      const covering = budgets.filter((budget) => selects(budget.spec?.selector?.matchLabels, podLabels(workload)));
      expect(covering.map((budget) => budget.metadata.name)).toEqual([workload.metadata.name]);
      expect(covering[0]?.spec?.maxUnavailable).toBe(1);
    }
  });

  it("autoscale gateway, trees and sessions on CPU, each a Deployment that is there, and not auth", () => {
    const autoscalers = ofKind(HorizontalPodAutoscaler.is);
    expect(autoscalers.map((autoscaler) => autoscaler.metadata.name).sort()).toEqual([...AUTOSCALED].sort());
    for (const autoscaler of autoscalers) {
      const target = autoscaler.spec?.scaleTargetRef;
      expect({ apiVersion: target?.apiVersion, kind: target?.kind }).toEqual({
        apiVersion: "apps/v1",
        kind: "Deployment",
      });
      const deployment = named(ofKind(Deployment.is), target?.name ?? "");
      expect(deployment.metadata.name).toBe(autoscaler.metadata.name);
      expect(autoscaler.spec?.minReplicas).toBe(2);
      expect(autoscaler.spec?.maxReplicas).toBeGreaterThan(2);
      expect(autoscaler.spec?.metrics).toEqual([
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
      ]);
      // Utilisation is a share of the request, so every container asks for CPU.
      for (const container of containersOf(deployment)) expect(container.resources?.requests?.cpu).toBeDefined();
    }
  });

  it("let hooks take gRPC from the gateway alone, and reach out only to its dependencies and public 443", () => {
    const policy = named(ofKind(NetworkPolicy.is), "hooks");
    expect(selects(policy.spec?.podSelector.matchLabels, podLabels(named(ofKind(Deployment.is), "hooks")))).toBe(true);
    expect(policy.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    const grpcIn = policy.spec?.ingress?.filter((rule) => rule.ports?.some((port) => port.port === "grpc")) ?? [];
    expect(grpcIn.flatMap((rule) => rule.from?.map((peer) => peer.podSelector?.matchLabels) ?? [])).toEqual([
      { "app.kubernetes.io/name": "gateway" },
    ]);

    const egress = policy.spec?.egress ?? [];
    // Every rule names its ports: none lets hooks reach any port of any address.
    for (const rule of egress) expect(rule.ports?.length, JSON.stringify(rule)).toBeGreaterThan(0);
    const reaches = (name: string, port: number) =>
      egress.some(
        (rule) =>
          rule.to?.some((peer) => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === name) &&
          rule.ports?.some((allowed) => allowed.port === port),
      );
    expect(reaches("auth", 50051)).toBe(true);
    expect(reaches("nats", 4222)).toBe(true);
    // The receivers: every address on 443 but the private, shared and link-local ranges.
    const https = egress.filter((rule) => rule.ports?.some((allowed) => allowed.port === 443));
    expect(https).toHaveLength(1);
    const blocks = https[0]?.to?.map((peer) => peer.ipBlock) ?? [];
    expect(blocks.map((block) => block?.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(blocks[0]?.except).toEqual(
      expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]),
    );
    expect(blocks[1]?.except).toEqual(expect.arrayContaining(["fc00::/7", "fe80::/10"]));
  });

  it("run NATS as a JetStream cluster of three, every stream kept on all three", () => {
    const nats = named(ofKind(StatefulSet.is), "nats");
    expect(nats.spec?.replicas).toBe(3);
    expect(nats.spec?.podManagementPolicy).toBe("Parallel");
    expect(nats.spec?.volumeClaimTemplates?.map((claim) => claim.metadata?.name)).toEqual(["data"]);
    // The servers find one another by their names in a headless Service, published before they are ready.
    const routes = named(ofKind(Service.is), nats.spec?.serviceName ?? "");
    expect(routes.spec?.clusterIP).toBe("None");
    expect(routes.spec?.publishNotReadyAddresses).toBe(true);
    expect(routes.spec?.ports?.map((port) => port.port)).toEqual([6222]);
    expect(selects(routes.spec?.selector, podLabels(nats))).toBe(true);

    const [container] = containersOf(nats);
    expect(container?.readinessProbe?.httpGet).toEqual({ path: "/healthz", port: "monitor" });
    expect(container?.ports?.find((port) => port.name === "monitor")?.containerPort).toBe(8222);
    const podName = container?.env?.find((variable) => variable.name === "POD_NAME");
    expect(podName?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(container?.args).toContain("--server_name=$(POD_NAME)");
    const routeList = container?.args?.find((arg) => arg.startsWith("--routes=")) ?? "";
    for (let index = 0; index < 3; index++) expect(routeList).toContain(`@nats-${index}.${routes.metadata.name}:6222`);

    const config = named(ofKind(ConfigMap.is), "tdt-config");
    expect(config.data?.NATS_STREAM_REPLICAS).toBe("3");
  });
});

/** One server of the StatefulSet run on loopback: its pod's name, and ports and a store of its own. */
interface LoopbackServer {
  pod: string;
  client: number;
  cluster: number;
  monitor: number;
  store: string;
}

/**
 * The StatefulSet's arguments for one pod, moved onto loopback: $(VAR) expanded from the pod's
 * environment as the kubelet does, then each mounted path, port and pod address replaced by its
 * stand-in (`replacements`, longest first, so that no shorter one cuts into a longer one).
 */
function onLoopback(args: string[], podEnv: Record<string, string>, replacements: Record<string, string>): string[] {
  const ordered = Object.entries(replacements).sort(([a], [b]) => b.length - a.length);
  return args.map((arg) => {
    const expanded = arg.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => {
      const value = podEnv[name];
      if (value === undefined) throw new Error(`the pod sets no ${name}, which ${arg} uses`);
      return value;
    });
    return ordered.reduce((text, [from, to]) => text.replaceAll(from, to), expanded);
  });
}

async function monitorJson(port: number, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
    return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The INFO line a NATS server sends first on a connection to `port`, as JSON. */
function infoAt(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, "127.0.0.1");
    let text = "";
    socket.setTimeout(2000, () => socket.destroy(new Error(`no INFO on port ${port}`)));
    socket.on("error", reject);
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      if (!text.includes("\r\n")) return;
      socket.destroy();
      resolve(JSON.parse(text.slice("INFO ".length, text.indexOf("\r\n"))) as Record<string, unknown>);
    });
  });
}

describe("the NATS StatefulSet's command line", () => {
  // `nats-server -t` checks the config file only: it passes an unknown flag or a --cluster URL
  // without a password alike. So the servers are run, three of them, as the StatefulSet would.
  it("forms a JetStream cluster of three with nats-server 2.9, and keeps a stream on all three", async () => {
    const binary = findNatsServer();
    if (!binary) throw new Error("nats-server is not installed (apt-get install nats-server)");
    const nats = named(ofKind(StatefulSet.is), "nats");
    const [container] = containersOf(nats);
    const mountPath = (volume: string) =>
      container?.volumeMounts?.find((mount) => mount.name === volume)?.mountPath ?? `no mount of ${volume}`;
    const portOf = (name: string) => container?.ports?.find((port) => port.name === name)?.containerPort;
    const headless = nats.spec?.serviceName;
    const passwords = generateNatsPasswords();
    const routePassword = `p${randomBytes(24).toString("hex")}`;
    const stores = mkdtempSync(join(tmpdir(), "tdt-nats-cluster-"));
    const servers: LoopbackServer[] = [];
    for (let index = 0; index < (nats.spec?.replicas ?? 0); index++) {
      servers.push({
        pod: `${nats.metadata.name}-${index}`,
        client: await freePort(),
        cluster: await freePort(),
        monitor: await freePort(),
        store: join(stores, String(index)),
      });
    }
    const children: ChildProcess[] = [];
    const output: string[] = [];
    try {
      for (const server of servers) {
        const args = onLoopback(
          container?.args ?? [],
          { POD_NAME: server.pod, NATS_ROUTE_PASSWORD: routePassword },
          {
            [`${mountPath("config")}/nats.conf`]: NATS_CONFIG,
            [`=${mountPath("data")}`]: `=${server.store}`,
            [`=${portOf("monitor")}`]: `=${server.monitor}`,
            [`0.0.0.0:${portOf("cluster")}`]: `127.0.0.1:${server.cluster}`,
            ...Object.fromEntries(
              servers.map((peer) => [`${peer.pod}.${headless}:${portOf("cluster")}`, `127.0.0.1:${peer.cluster}`]),
            ),
          },
        );
        expect(args.join(" ")).not.toMatch(new RegExp(`0\\.0\\.0\\.0|\\.${headless}|=/data|=/etc`));
        const child = spawn(binary, [...args, "--addr=127.0.0.1", `--port=${server.client}`], {
          env: {
            PATH: process.env.PATH,
            ...Object.fromEntries(SERVICES.map((service) => [natsPasswordVariable(service), passwords[service]])),
          },
          stdio: ["ignore", "ignore", "pipe"],
        });
        child.stderr?.setEncoding("utf8").on("data", (chunk: string) => output.push(`${server.pod}: ${chunk.trim()}`));
        children.push(child);
      }

      // Ready as the readiness probe sees it, each under its pod's name, in one JetStream cluster.
      const deadline = Date.now() + 20_000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        const exited = children.find((child) => child.exitCode !== null);
        if (exited) throw new Error(`a nats-server exited (${exited.exitCode}): ${output.slice(-10).join("\n")}`);
        const states = await Promise.all(
          servers.map(async (server) => ({
            server,
            healthy: (await monitorJson(server.monitor, "/healthz")) !== undefined,
            varz: await monitorJson(server.monitor, "/varz"),
            jsz: await monitorJson(server.monitor, "/jsz"),
          })),
        );
        ready = states.every(({ server, healthy, varz, jsz }) => {
          const meta = jsz?.meta_cluster as { cluster_size?: number; leader?: string } | undefined;
          return healthy && varz?.server_name === server.pod && meta?.cluster_size === servers.length && !!meta.leader;
        });
        if (!ready) await new Promise((wake) => setTimeout(wake, 200));
      }
      expect(ready, output.slice(-10).join("\n")).toBe(true);
      // Routes in with the route password only: no other pod joins and bypasses the users' permissions.
      expect((await infoAt(servers[0]?.cluster ?? 0)).auth_required).toBe(true);

      // A stream on all three, as auth makes its own with NATS_STREAM_REPLICAS=3, and an event in it.
      const nc = await connect({ servers: `127.0.0.1:${servers[0]?.client}`, user: "auth", pass: passwords.auth });
      try {
        const stream = await (await jetstreamManager(nc)).streams.add({
          name: "AUTH_EVENTS",
          subjects: ["auth.>"],
          num_replicas: servers.length,
        });
        expect(stream.cluster?.replicas?.length).toBe(servers.length - 1);
        const ack = await jetstream(nc).publish("auth.cluster-check", "{}");
        expect(ack).toMatchObject({ stream: "AUTH_EVENTS", seq: 1 });
      } finally {
        await nc.close();
      }
    } finally {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((exited) => {
              if (child.exitCode !== null || child.signalCode !== null) return exited();
              child.once("exit", () => exited());
              child.kill("SIGTERM");
            }),
        ),
      );
      rmSync(stores, { recursive: true, force: true });
    }
  }, 60_000);
});
