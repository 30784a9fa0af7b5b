/**
 * What `npm run bench:scale` loads, generated deterministically from the fraction: the people of
 * two organizations, 100,000 trees (most 10–40 nodes, a tail up to 300, 1–5 versions each) and a
 * million sessions over them. A tree is made again from its index whenever it is needed, so
 * nothing holds the whole corpus in memory. The special trees: the busiest (about a million steps
 * over its sessions at full load) and a pair linked into one another whose walk is about 500
 * steps (the long session whose report is measured).
 */
import type { Node, TreeInput } from "@tdt/proto/tdt/trees/v1/trees";
import { WORDS } from "../tree-corpus.js";

/** A small, fast, seedable generator (mulberry32): the same seed, the same corpus. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
export const between = (rng: () => number, low: number, high: number) => low + Math.floor(rng() * (high - low + 1));

/** The words of bench/tree-corpus.ts's searches are among these, so its never-repeated searches match here too. */
export const DEVICES = [
  ...WORDS,
  "monitor",
  "keyboard",
  "headset",
  "docking",
  "projector",
  "phone",
  "tablet",
  "server",
  "switch",
  "terminal",
  "camera",
  "speaker",
  "mouse",
];
export const PARTS = [
  "power",
  "cable",
  "driver",
  "firmware",
  "fan",
  "port",
  "adapter",
  "update",
  "password",
  "signal",
  "certificate",
  "account",
  "display",
  "storage",
  "memory",
  "network",
  "bluetooth",
  "license",
  "profile",
  "settings",
];
const SYMPTOMS = [
  "not working",
  "keeps restarting",
  "very slow",
  "shows an error",
  "will not connect",
  "makes a noise",
  "overheating",
  "drops out",
  "is missing",
  "flickers",
  "is locked",
  "asks again",
];
const VERBS = ["check", "restart", "replace", "reseat", "update", "reset", "clean", "unplug", "test", "verify"];
const FILLER = [
  "the",
  "customer",
  "reports",
  "that",
  "after",
  "before",
  "while",
  "with",
  "light",
  "status",
  "menu",
  "office",
  "floor",
  "building",
  "ticket",
  "user",
  "again",
  "minutes",
  "device",
  "indicator",
  "label",
  "cover",
  "tray",
  "socket",
  "wall",
  "desk",
  "room",
  "green",
  "amber",
  "blinking",
  "morning",
  "evening",
  "shift",
  "warehouse",
  "reception",
  "meeting",
  "conference",
  "laboratory",
  "branch",
  "remote",
  "home",
  "vendor",
  "warranty",
  "invoice",
  "manager",
  "colleague",
  "visitor",
  "contractor",
  "intermittent",
  "constant",
  "sudden",
  "gradual",
  "screenshot",
  "message",
  "code",
  "number",
  "serial",
  "model",
  "version",
  "release",
  "patch",
  "policy",
  "group",
  "domain",
  "tenant",
  "mailbox",
  "calendar",
  "folder",
  "share",
  "drive",
  "queue",
  "spooler",
  "toner",
  "paper",
  "jam",
  "duplex",
  "wireless",
  "ethernet",
  "gateway",
  "dns",
  "dhcp",
  "address",
  "proxy",
  "browser",
  "cache",
  "cookie",
  "login",
  "token",
  "authenticator",
  "sync",
  "backup",
  "restore",
  "disk",
  "partition",
  "boot",
  "bios",
  "screen",
  "brightness",
  "volume",
  "microphone",
  "webcam",
  "charger",
  "dock",
  "hub",
  "antenna",
  "reader",
  "chip",
  "pin",
  "lock",
  "door",
  "counter",
  "register",
  "receipt",
  "label",
  "barcode",
  "handheld",
];
const CATEGORIES = ["hardware", "network", "accounts", "software", "printing", "mobile", "telephony", "security"];
const OUTCOME_WEIGHTS: Array<[string, number]> = [
  ["resolved", 0.7],
  ["escalated", 0.3],
];

/** What a tree is about: its nodes speak mostly of its own device and part, now and then of others. */
interface Topic {
  device: string;
  part: string;
}

function deviceOf(rng: () => number, topic: Topic | undefined): string {
  return topic && rng() < 0.85 ? topic.device : pick(rng, DEVICES);
}
function partOf(rng: () => number, topic: Topic | undefined): string {
  return topic && rng() < 0.6 ? topic.part : pick(rng, PARTS);
}

function sentence(rng: () => number, words: number, topic?: Topic): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const r = rng();
    out.push(
      r < 0.08 ? deviceOf(rng, topic) : r < 0.16 ? partOf(rng, topic) : r < 0.26 ? pick(rng, VERBS) : pick(rng, FILLER),
    );
  }
  const text = out.join(" ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** The people: two organizations, 2,000 technicians between them (60/40), engineers and admins. */
export interface Person {
  key: string;
  email: string;
  full_name: string;
  role: "technician" | "engineer" | "admin";
  org: 0 | 1;
}

export const TECHNICIANS = 2000;
export const ENGINEERS_PER_ORG = 20;
export const ADMINS_PER_ORG = 2;
/** Every loaded account signs in with this. */
export const PASSWORD = "scale-bench-password-1";

export function people(): Person[] {
  const list: Person[] = [];
  for (let org = 0 as 0 | 1; org <= 1; org = (org + 1) as 0 | 1) {
    const name = org === 0 ? "alpha" : "beta";
    for (let i = 0; i < ADMINS_PER_ORG; i++) {
      list.push({
        key: `a${org}-${i}`,
        email: `admin${i}@${name}.scale.example`,
        full_name: `Admin ${i} ${name}`,
        role: "admin",
        org,
      });
    }
    for (let i = 0; i < ENGINEERS_PER_ORG; i++) {
      const email = `engineer${i}@${name}.scale.example`;
      list.push({ key: `e${org}-${i}`, email, full_name: `Engineer ${i} ${name}`, role: "engineer", org });
    }
    const technicians = org === 0 ? TECHNICIANS * 0.6 : TECHNICIANS * 0.4;
    for (let i = 0; i < technicians; i++) {
      const email = `tech${i}@${name}.scale.example`;
      list.push({ key: `t${org}-${i}`, email, full_name: `Technician ${i} ${name}`, role: "technician", org });
    }
  }
  return list;
}

export const ORGANIZATIONS = [
  { name: "Alpha Support (scale)", slug: "alpha-scale" },
  { name: "Beta Field Service (scale)", slug: "beta-scale" },
] as const;

/** How much of everything a fraction loads. */
export interface Plan {
  fraction: number;
  trees: number;
  sessions: number;
  /** The index of the busiest tree, and how many sessions run on it. */
  busiest: number;
  busiestSessions: number;
  /** The linked pair of the long session: its own tree and the tree it links to. */
  longRoot: number;
  longLinked: number;
  /** The end of the loaded history (sessions start within the year before it). */
  end: number;
}

export const FULL = { trees: 100_000, sessions: 1_000_000, busiestSteps: 1_000_000 };
const DAY = 86_400_000;
export const SPAN_MS = 365 * DAY;

export function planOf(fraction: number, end: number): Plan {
  const trees = Math.max(12, Math.round(FULL.trees * fraction));
  const sessions = Math.max(200, Math.round(FULL.sessions * fraction));
  // The busiest tree's walks are about 10 steps: its share of the steps is its share of the sessions.
  const busiestSessions = Math.max(20, Math.round((FULL.busiestSteps * fraction) / BUSIEST_STEPS_PER_SESSION));
  return { fraction, trees, sessions, busiest: 0, busiestSessions, longRoot: 2, longLinked: 1, end };
}
/** What one walk of the busiest tree averages in events (measured on the generated tree). */
const BUSIEST_STEPS_PER_SESSION = 10;

/** A tree as the corpus makes it: its organization, author and each version's input and time. */
export interface CorpusTree {
  index: number;
  id: string;
  org: 0 | 1;
  /** Person keys. */
  author: string;
  createdAt: number;
  versions: Array<{ input: TreeInput; author: string; createdAt: number }>;
  /** The version technicians see (the latest published); 0 when none. */
  published: number;
}

/** A stable UUID (v4 layout) from a label and a number: the same corpus has the same ids. */
export function stableUuid(kind: number, n: number): string {
  const hex = (value: number, width: number) => (value >>> 0).toString(16).padStart(width, "0").slice(-width);
  const r = random(kind * 7_919 + n * 104_729 + 17);
  const a = hex(Math.floor(r() * 2 ** 32), 8);
  const b = hex(Math.floor(r() * 2 ** 16), 4);
  return `${a}-${b}-4${hex(kind, 3)}-8${hex(Math.floor(n / 2 ** 32), 3)}-${hex(Math.floor(n / 2 ** 16) & 0xffff, 4)}${hex(n & 0xffff, 4)}${hex(Math.floor(r() * 2 ** 16), 4)}`;
}

const TREE_ID_KIND = 0x7e1;

/** Which organization a tree belongs to: 60 % the first (the busiest and the long pair are its). */
export const orgOfTree = (index: number): 0 | 1 => (index < 3 || index % 5 < 3 ? 0 : 1);

function nodeCountOf(rng: () => number): number {
  const r = rng();
  if (r < 0.85) return between(rng, 10, 40);
  if (r < 0.97) return between(rng, 41, 120);
  return between(rng, 121, 300);
}

/**
 * The nodes of a tree of about `size` nodes: a question splits what is left among its 2–4
 * options, an action leads on to the rest; a leaf is a solution. A tree (no node shared), so
 * acyclic with every node reachable, as the trees service requires.
 */
function nodesOf(rng: () => number, size: number, actionShare: number, revision: number, topic: Topic): Node[] {
  const nodes: Node[] = [];
  const make = (budget: number): string => {
    const id = `n${nodes.length}`;
    const device = deviceOf(rng, topic);
    const part = partOf(rng, topic);
    const node: Node = {
      id,
      type: "solution",
      title: "",
      body: "",
      options: [],
      fields: [],
      rules: [],
    };
    nodes.push(node);
    const bodyText = `${sentence(rng, between(rng, 8, 30), topic)}${revision > 1 && rng() < 0.2 ? ` Revised in version ${revision}.` : ""}`;
    if (budget <= 1) {
      const r = rng();
      let outcome = "resolved";
      let sum = 0;
      for (const [name, weight] of OUTCOME_WEIGHTS) {
        sum += weight;
        if (r < sum) {
          outcome = name;
          break;
        }
      }
      node.title = `${pick(rng, VERBS)} the ${device} ${part}`.replace(/^./, (c) => c.toUpperCase());
      node.body = bodyText;
      node.outcome = outcome;
      return id;
    }
    if (budget === 2 || rng() < actionShare) {
      node.type = "action";
      node.title = `${pick(rng, VERBS)} the ${device} ${part}`.replace(/^./, (c) => c.toUpperCase());
      node.body = bodyText;
      node.next = make(budget - 1);
      return id;
    }
    node.type = "question";
    node.title = `Is the ${device} ${part} ${pick(rng, SYMPTOMS)}?`;
    node.body = bodyText;
    const rest = budget - 1;
    const count = Math.min(rest, between(rng, 2, 4));
    // Shares of what is left, each at least one node.
    const weights = Array.from({ length: count }, () => 0.2 + rng());
    const total = weights.reduce((a, b) => a + b, 0);
    const shares = weights.map((w) => Math.max(1, Math.floor((w / total) * rest)));
    let given = shares.reduce((a, b) => a + b, 0);
    for (let i = 0; given < rest; i = (i + 1) % count, given++) shares[i] = (shares[i] as number) + 1;
    for (let i = 0; given > rest; i = (i + 1) % count) {
      if ((shares[i] as number) > 1) {
        shares[i] = (shares[i] as number) - 1;
        given--;
      }
    }
    const labels = ["Yes", "No", "Not sure", "Sometimes"];
    for (let i = 0; i < count; i++) {
      const optionId = `o${i + 1}`;
      node.options.push({ id: optionId, label: labels[i] as string, next: "" });
    }
    for (let i = 0; i < count; i++) (node.options[i] as { next: string }).next = make(shares[i] as number);
    return id;
  };
  make(size);
  return nodes;
}

/** A chain of `length` action nodes ending at a solution, with a link to `linked` at `linkAt` when given. */
function chainOf(rng: () => number, length: number, linkAt?: { index: number; treeId: string }): Node[] {
  const nodes: Node[] = [];
  for (let i = 0; i < length; i++) {
    const id = `c${i}`;
    const next = i + 1 < length ? `c${i + 1}` : undefined;
    if (i === length - 1) {
      nodes.push({
        id,
        type: "solution",
        title: "Done: the fleet is back",
        body: sentence(rng, 10),
        options: [],
        fields: [],
        rules: [],
        outcome: "resolved",
      });
    } else if (linkAt && i === linkAt.index) {
      nodes.push({
        id,
        type: "link",
        title: "Run the device checklist",
        body: "",
        options: [],
        fields: [],
        rules: [],
        next,
        tree_id: linkAt.treeId,
      });
    } else {
      const title = `Step ${i + 1}: ${pick(rng, VERBS)} the ${pick(rng, DEVICES)} ${pick(rng, PARTS)}`;
      nodes.push({ id, type: "action", title, body: sentence(rng, 12), options: [], fields: [], rules: [], next });
    }
  }
  return nodes;
}

export const treeIdOf = (index: number) => stableUuid(TREE_ID_KIND, index);

/** The tree of `index`: made again from its index each time (a few tens of microseconds). */
export function corpusTree(plan: Plan, index: number): CorpusTree {
  const rng = random(index * 2_654_435_761 + 12_345);
  const org = orgOfTree(index);
  const engineers = ENGINEERS_PER_ORG;
  const author = `e${org}-${index % engineers}`;
  const start = plan.end - SPAN_MS;
  // Trees appear over the first half of the year; the special ones at its start.
  const special = index === plan.busiest || index === plan.longRoot || index === plan.longLinked;
  const createdAt = special ? start + index * 60_000 : start + Math.floor(rng() * 0.5 * SPAN_MS);
  const versionCount = special ? 1 : pickVersions(rng);
  const device = pick(rng, DEVICES);
  const part = pick(rng, PARTS);
  const symptom = pick(rng, SYMPTOMS);
  const category = pick(rng, CATEGORIES);
  const tags = [part, device, `batch-${index % 50}`].slice(0, between(rng, 1, 3));
  const size = index === plan.busiest ? 36 : nodeCountOf(rng);
  const actionShare = index === plan.busiest ? 0.55 : 0.55 + rng() * 0.35;
  const structureSeed = Math.floor(rng() * 2 ** 31);
  // The last version is a draft in a tenth of the trees with more than one (technicians see the one before).
  const draftLast = versionCount > 1 && rng() < 0.1;
  const versions: CorpusTree["versions"] = [];
  let at = createdAt;
  for (let v = 1; v <= versionCount; v++) {
    let nodes: Node[];
    if (index === plan.longLinked) nodes = chainOf(random(structureSeed), 240);
    else if (index === plan.longRoot) {
      nodes = chainOf(random(structureSeed), 262, { index: 130, treeId: treeIdOf(plan.longLinked) });
    } else nodes = nodesOf(random(structureSeed + v * 7), size, actionShare, v, { device, part });
    const title =
      index === plan.longLinked
        ? `Fleet device checklist ${index}`
        : index === plan.longRoot
          ? `Fleet rollout walkthrough ${index}`
          : `${device.charAt(0).toUpperCase()}${device.slice(1)} ${part} ${symptom} ${index}`;
    versions.push({
      input: {
        title,
        description: `Troubleshooting a ${device} whose ${part} is ${symptom}, case ${index}. ${sentence(rng, between(rng, 5, 20), { device, part })}`,
        category,
        tags,
        status: draftLast && v === versionCount ? "draft" : "published",
        root_node_id: nodes[0]?.id ?? "",
        change_note: v === 1 ? "First version" : `Revision ${v}: ${sentence(rng, 4)}`,
        nodes,
        variables: [],
        language: "",
      },
      author: v === 1 ? author : `e${org}-${(index + v) % engineers}`,
      createdAt: at,
    });
    at += between(rng, 1, 20) * 86_400_000 + between(rng, 0, 86_399_999);
  }
  const published = draftLast ? versionCount - 1 : versionCount;
  return { index, id: treeIdOf(index), org, author, createdAt, versions, published };
}

function pickVersions(rng: () => number): number {
  const r = rng();
  return r < 0.3 ? 1 : r < 0.55 ? 2 : r < 0.75 ? 3 : r < 0.9 ? 4 : 5;
}

export const SESSION_ID_KIND = 0x5e5;
export const sessionIdOf = (n: number) => stableUuid(SESSION_ID_KIND, n);

/**
 * The tree the `n`th session runs on: the busiest takes its share, the long root one, the rest
 * skewed toward the lower indices (some trees are run far more than others), in the
 * organization of the tree.
 */
export function sessionTreeOf(plan: Plan, n: number, rng: () => number): number {
  if (n === 0) return plan.longRoot;
  if (rng() < plan.busiestSessions / plan.sessions) return plan.busiest;
  const ordinary = plan.trees - 3;
  return 3 + Math.min(ordinary - 1, Math.floor(ordinary * rng() ** 1.7));
}
