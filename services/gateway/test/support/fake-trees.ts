import { createHash, randomUUID } from "node:crypto";
import type { Handlers } from "@tdt/kit";
import { outcomeCounts } from "@tdt/proto/contracts/outcomes";
import type { Media } from "@tdt/proto/tdt/trees/v1/media";
import type { Tree, TreeSummary, TreeVersion } from "@tdt/proto/tdt/trees/v1/trees";
import { printerTree } from "@tdt/test-support/trees";
import { TREES_PROCESS } from "../../src/api/downstream.js";
import { type TreeBody, treeInputOf } from "../../src/api/tree-documents.js";
import { FakeService } from "./fake-service.js";

/** The trees process: TreesService, and MediaService beside it. */
type Trees = typeof TREES_PROCESS;

const AUTHOR = "6f1c2b0e-8a4d-4c3e-9b1a-2d3e4f5a6b7c";
const CREATED_AT = "2025-01-02T03:04:05.000Z";

/** The SPEC's printer example as the trees service stores it, at version 3. */
export function sampleTree(overrides: Partial<Tree> = {}): Tree {
  return {
    id: randomUUID(),
    version: 3,
    created_by: AUTHOR,
    created_at: CREATED_AT,
    updated_at: "2025-02-03T04:05:06.000Z",
    ...treeInputOf(printerTree() as TreeBody),
    translations: [],
    ...overrides,
  };
}

export function sampleSummary(overrides: Partial<TreeSummary> = {}): TreeSummary {
  const { nodes, root_node_id: _root, change_note: _note, variables: _variables, ...header } = sampleTree();
  return { ...header, node_count: nodes.length, ...overrides };
}

export const SAMPLE_VERSIONS: TreeVersion[] = [2, 1].map((version) => ({
  version,
  created_by: AUTHOR,
  created_at: CREATED_AT,
  change_note: `Version ${version}`,
}));

/** Every upload's answer and every read's bytes: a PNG signature and a few bytes, as the service would store them. */
export const SAMPLE_IMAGE = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.from("sample image bytes")]);

export function sampleMedia(id: string = randomUUID(), content: Buffer = SAMPLE_IMAGE): Media {
  return {
    id,
    url: `/api/v1/media/${id}`,
    sha256: createHash("sha256").update(content).digest("hex"),
    content_type: "image/png",
    width: 2,
    height: 1,
    bytes: content.length,
  };
}

/** The trees service, faked (see FakeService): three trees to list, trees written as sent, one image. */
export class FakeTrees extends FakeService<Trees> {
  private constructor() {
    super(TREES_PROCESS, "tdt.trees.v1.TreesService");
  }

  static async start(): Promise<FakeTrees> {
    const fake = new FakeTrees();
    await fake.listen();
    return fake;
  }

  protected readonly defaults: Handlers<Trees> = {
    listTrees: async (request) => {
      const all = ["A", "B", "C"].map((letter) => sampleSummary({ title: `Tree ${letter}` }));
      return {
        trees: all.slice(request.skip, request.skip + request.limit),
        total: all.length,
        total_capped: false,
        next_cursor: "",
      };
    },
    listCategories: async () => ({ categories: ["Network", "Printers"] }),
    searchTrees: async (request) => ({
      trees: Array.from({ length: 30 }, (_, i) => sampleSummary({ title: `Hit ${i}` })).slice(0, request.limit),
    }),
    getTree: async (request) => ({
      tree: sampleTree({ id: request.id, ...(request.version === undefined ? {} : { version: request.version }) }),
    }),
    listTreeVersions: async () => ({ versions: SAMPLE_VERSIONS }),
    createTree: async (request) => ({ tree: sampleTree({ ...request.tree, version: 1 }) }),
    updateTree: async (request) => ({
      tree: sampleTree({ ...request.tree, id: request.id, version: request.version + 1 }),
    }),
    deleteTree: async () => ({}),
    getPublishedTree: async (request) => ({ tree: sampleTree({ id: request.id }), translations: [] }),
    getTreeAnalytics: async () => ({
      sessions: {
        started: 1,
        completed: 1,
        resolved: 1,
        escalated: 0,
        unresolved: 0,
        abandoned: 0,
        outcomes: outcomeCounts({ resolved: 1 }),
      },
      resolution_rate: 1,
      duration_ms: { median: 1000, p90: 1000 },
      nodes: [],
      paths: [],
      days: [{ day: "2026-11-28", started: 1, completed: 1, resolved: 1 }],
    }),
    getTreeDraft: async (request) => ({ draft: sampleDraft(request.id) }),
    saveTreeDraft: async (request) => ({
      draft: { ...sampleDraft(request.id), ...request.tree, draft_revision: request.draft_revision + 1 },
    }),
    discardTreeDraft: async () => ({}),
    publishTreeDraft: async (request) => ({ tree: sampleTree({ id: request.id, version: 2 }) }),
    rollbackTree: async (request) => ({ tree: sampleTree({ id: request.id, version: 3 }) }),
    getTreeSettings: async () => ({ settings: { review_required: false } }),
    setTreeSettings: async (request) => ({ settings: { review_required: request.review_required ?? false } }),
    reviewTreeDraft: async (request) => ({
      review: { ...request, reviewer: AUTHOR, reviewed_at: CREATED_AT },
    }),
    archiveTree: async () => ({}),
    restoreTree: async () => ({}),
    getTreeHistory: async () => ({
      entries: [{ at: CREATED_AT, actor: AUTHOR, action: "created", version: 1, note: "" }],
    }),
    diffTree: async () => ({ diff: { from: "1", to: "draft", added: [], removed: [], changed: [], fields: [] } }),
    exportTree: async () => ({ tree: { format: "tdt-tree", format_version: 1, ...sampleContent() } }),
    importTree: async (request) => ({ tree: sampleTree({ ...request.tree, version: 1 }) }),
    listTreeTranslations: async () => ({ translations: [{ locale: "de", translated: 1, outdated: 0, total: 2 }] }),
    getTreeTranslation: async (request) => ({ translation: sampleTranslation(request.id, request.locale) }),
    setTreeTranslation: async (request) => ({ translation: sampleTranslation(request.id, request.locale) }),
    uploadMedia: async () => ({ media: sampleMedia() }),
    getMedia: async (request) => ({ media: sampleMedia(request.id), content: SAMPLE_IMAGE }),
  };
}

/** A draft at revision 0: the sample tree's content, nothing saved yet. */
function sampleTranslation(treeId: string, locale: string) {
  return {
    tree_id: treeId,
    locale,
    language: "en",
    version: 3,
    texts: [
      { node_id: "power", field: "title", item_id: "", primary: "Is the power light on?", text: "", outdated: false },
    ],
  };
}

/** What a tree's content is (a draft's, an export's): the sample tree's authored fields. */
function sampleContent() {
  const { title, description, category, tags, root_node_id, nodes, variables, language } = sampleTree();
  return { title, description, category, tags, root_node_id, nodes, variables, language };
}

function sampleDraft(treeId: string) {
  return {
    tree_id: treeId,
    draft_revision: 0,
    based_on_version: 1,
    ...sampleContent(),
    review_required: false,
    approved: false,
  };
}
