/** SPEC §5 end to end through the gateway: roles, versions, validation, listing and search. */

import type { api } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { chainTree, printerTree } from "@tdt/test-support/trees";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let admin: string;
let engineer: string;
let technician: string;

interface Tree {
  id: string;
  version: number;
  status: string;
  title: string;
  nodes: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ client, admin } = running);
  engineer = await client.engineer(admin);
  technician = (await client.user("technician")).tokens.access_token;
});

afterAll(async () => {
  await running?.stop();
});

async function create(body = printerTree(), token = engineer): Promise<Tree> {
  const response = await client.call<Tree>("POST", "/api/v1/trees", { token, json: body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

describe("roles", () => {
  it("lets engineers create, refuses technicians, and lets only admins delete", async () => {
    const refused = await client.call("POST", "/api/v1/trees", { token: technician, json: printerTree() });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: "forbidden" });

    const tree = await create();
    expect(tree).toMatchObject({ version: 1, status: "published", title: "Printer does not print" });
    expect(tree).toEqual({
      id: expect.any(String),
      title: "Printer does not print",
      description: expect.any(String),
      category: "Printers",
      tags: ["laser", "office"],
      status: "published",
      version: 1,
      root_node_id: "power",
      change_note: "First version",
      created_by: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
      nodes: printerTree().nodes,
      variables: [],
      language: "en",
      translations: [],
    });

    expect((await client.call("DELETE", `/api/v1/trees/${tree.id}`, { token: engineer })).status).toBe(403);
    expect((await client.call("DELETE", `/api/v1/trees/${tree.id}`, { token: admin })).status).toBe(204);
    expect((await client.call("GET", `/api/v1/trees/${tree.id}`, { token: admin })).status).toBe(404);
  });

  it("shows technicians published trees only", async () => {
    const draft = await create(printerTree({ status: "draft", title: "Draft only tree" }));
    expect((await client.call("GET", `/api/v1/trees/${draft.id}`, { token: technician })).status).toBe(404);
    expect((await client.call("GET", `/api/v1/trees/${draft.id}`, { token: engineer })).status).toBe(200);
    const listed = await client.call<Tree[]>("GET", "/api/v1/trees?limit=100", { token: technician });
    expect(listed.body.map((tree) => tree.id)).not.toContain(draft.id);
    expect(listed.body.every((tree) => tree.status === "published")).toBe(true);
    const versions = await client.call("GET", `/api/v1/trees/${draft.id}/versions`, { token: technician });
    expect(versions.status).toBe(403);
  });

  it("keeps showing technicians the published version while a draft follows it", async () => {
    const tree = await create(printerTree({ title: "Published then drafted" }));
    const edited = await client.call<Tree>("PUT", `/api/v1/trees/${tree.id}`, {
      token: engineer,
      json: { ...printerTree({ title: "Work in progress", status: "draft" }), version: 1 },
    });
    expect(edited.body).toMatchObject({ version: 2, status: "draft" });
    const seen = await client.call<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician });
    expect(seen.body).toMatchObject({ version: 1, title: "Published then drafted" });
  });
});

describe("versions", () => {
  it("makes every replace a new immutable version, readable with ?version=N", async () => {
    const tree = await create();
    const second = await client.call<Tree>("PUT", `/api/v1/trees/${tree.id}`, {
      token: engineer,
      json: { ...printerTree({ title: "Printer does not print (v2)", change_note: "Clearer title" }), version: 1 },
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: tree.id, version: 2, title: "Printer does not print (v2)" });
    const old = await client.call<Tree>("GET", `/api/v1/trees/${tree.id}?version=1`, { token: engineer });
    expect(old.body).toMatchObject({ version: 1, title: "Printer does not print" });
    const latest = await client.call<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: engineer });
    expect(latest.body.version).toBe(2);
    const history = await client.call("GET", `/api/v1/trees/${tree.id}/versions`, { token: engineer });
    expect(history.body).toEqual([
      { version: 2, created_by: expect.any(String), created_at: expect.any(String), change_note: "Clearer title" },
      { version: 1, created_by: expect.any(String), created_at: expect.any(String), change_note: "First version" },
    ]);
  });

  it("refuses a stale version with 409 version_conflict, never overwriting", async () => {
    const tree = await create();
    const edits = await Promise.all(
      ["A", "B", "C"].map((label) =>
        client.call<Tree>("PUT", `/api/v1/trees/${tree.id}`, {
          token: engineer,
          json: { ...printerTree({ title: `Edit ${label}` }), version: 1 },
        }),
      ),
    );
    expect(edits.map((edit) => edit.status).sort()).toEqual([200, 409, 409]);
    expect(edits.filter((edit) => edit.status === 409).map((edit) => edit.body)).toEqual([
      { detail: "version_conflict" },
      { detail: "version_conflict" },
    ]);
    const history = await client.call<unknown[]>("GET", `/api/v1/trees/${tree.id}/versions`, { token: engineer });
    expect(history.body).toHaveLength(2);
  });
});

describe("validation", () => {
  it("answers an invalid tree with 422 pointing at the field, and stores nothing", async () => {
    const body = printerTree({ title: "Broken tree" });
    (body.nodes[3]?.options as Array<Record<string, string>>)[1] = { id: "no", label: "No", next: "nowhere" };
    const response = await client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>("POST", "/api/v1/trees", {
      token: engineer,
      json: body,
    });
    expect(response.status).toBe(422);
    expect(response.body.detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc: ["body", "nodes", 3, "options", 1, "next"], type: "unknown_node" }),
      ]),
    );
    const search = await client.call<Tree[]>("GET", "/api/v1/trees?limit=100", { token: engineer });
    expect(search.body.map((tree) => tree.title)).not.toContain("Broken tree");
  });

  it("reads the old outcome spelling `escalate` as `escalated`, the one spelling answers use", async () => {
    const body = printerTree({ title: "Old spelling" });
    const repair = body.nodes.find((node) => node.id === "repair");
    if (repair) repair.outcome = "escalate";
    const created = await create(body);
    expect(created.nodes.find((node) => node.id === "repair")?.outcome).toBe("escalated");
    const read = await client.call<Tree>("GET", `/api/v1/trees/${created.id}`, { token: technician });
    expect(read.body.nodes.find((node) => node.id === "repair")?.outcome).toBe("escalated");
    const outcomes = new Set(read.body.nodes.flatMap((node) => (node.outcome ? [node.outcome] : [])));
    expect([...outcomes].sort()).toEqual(["escalated", "resolved"]);
  });

  it("saves a 2,000-node tree and reads it back whole", async () => {
    const body = chainTree(2000, { status: "published" });
    const tree = await create(body);
    const read = await client.call<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician });
    expect(read.status).toBe(200);
    expect(read.body.nodes).toHaveLength(2000);
    expect(read.body.nodes).toEqual(body.nodes);
    const over = await client.call("POST", "/api/v1/trees", { token: engineer, json: chainTree(2001) });
    expect(over.status).toBe(422);
  });
});

describe("listing and search", () => {
  it("filters by category, tag and status, pages with X-Total-Count, and lists categories sorted", async () => {
    const category = `Cat ${Date.now()}`;
    for (const [i, status] of (["published", "published", "draft"] as const).entries()) {
      await create(printerTree({ title: `Listed ${i}`, category, status, tags: i === 0 ? ["special"] : ["plain"] }));
    }
    const page = await client.call<Tree[]>(
      "GET",
      `/api/v1/trees?category=${encodeURIComponent(category)}&limit=1&skip=0`,
      { token: engineer },
    );
    expect(page.body).toHaveLength(1);
    expect(page.headers.get("x-total-count")).toBe("3");
    const pastTheEnd = await client.call<Tree[]>(
      "GET",
      `/api/v1/trees?category=${encodeURIComponent(category)}&skip=10`,
      { token: engineer },
    );
    expect(pastTheEnd.body).toEqual([]);
    expect(pastTheEnd.headers.get("x-total-count")).toBe("3");
    const tagged = await client.call<Tree[]>(
      "GET",
      `/api/v1/trees?category=${encodeURIComponent(category)}&tag=special`,
      {
        token: engineer,
      },
    );
    expect(tagged.body.map((tree) => tree.title)).toEqual(["Listed 0"]);
    const drafts = await client.call<Tree[]>(
      "GET",
      `/api/v1/trees?category=${encodeURIComponent(category)}&status=draft`,
      { token: engineer },
    );
    expect(drafts.body.map((tree) => tree.title)).toEqual(["Listed 2"]);
    const forTechnician = await client.call<Tree[]>("GET", `/api/v1/trees?category=${encodeURIComponent(category)}`, {
      token: technician,
    });
    expect(forTechnician.headers.get("x-total-count")).toBe("2");
    const categories = await client.call<string[]>("GET", "/api/v1/trees/categories", { token: engineer });
    expect(categories.body).toContain(category);
    expect(categories.body).toEqual([...categories.body].sort());
  });

  it("counts every visible tree in X-Total-Count without filters: drafts for authors, not deleted ones", async () => {
    const totals = async () =>
      Promise.all(
        [engineer, technician].map(async (token) =>
          Number((await client.call("GET", "/api/v1/trees?limit=1", { token })).headers.get("x-total-count")),
        ),
      );
    const [authors, technicians] = await totals();
    await create(printerTree({ title: "Counted draft", status: "draft" }));
    const published = await create(printerTree({ title: "Counted published" }));
    expect(await totals()).toEqual([authors + 2, technicians + 1]);
    expect((await client.call("DELETE", `/api/v1/trees/${published.id}`, { token: admin })).status).toBe(204);
    expect(await totals()).toEqual([authors + 1, technicians]);
  });

  it("lists newest first with summaries only, and a draft edit of a published tree shows each its version", async () => {
    const tree = await create(printerTree({ title: "Listed newest", category: `Newest ${Date.now()}` }));
    const edited = await client.call<Tree>("PUT", `/api/v1/trees/${tree.id}`, {
      token: engineer,
      json: {
        ...printerTree({ title: "Listed newest, draft", category: tree.category as string, status: "draft" }),
        version: 1,
      },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    const forAuthors = await client.call<Tree[]>("GET", "/api/v1/trees?limit=1", { token: engineer });
    expect(forAuthors.body.map((entry) => [entry.id, entry.version, entry.title])).toEqual([
      [tree.id, 2, "Listed newest, draft"],
    ]);
    expect(forAuthors.body[0]).not.toHaveProperty("nodes");
    const listed = await client.call<Tree[]>(
      "GET",
      `/api/v1/trees?category=${encodeURIComponent(tree.category as string)}`,
      {
        token: technician,
      },
    );
    expect(listed.body.map((entry) => [entry.id, entry.version])).toEqual([[tree.id, 1]]);
  });

  it("ranks a title match above a body match, matches a prefix and tolerates a typo", async () => {
    const inTitle = await create(printerTree({ title: "Zephyrine scanner jams", category: "Scanners" }));
    const body = printerTree({ title: "Paper feed problems", category: "Scanners" });
    (body.nodes[0] as Record<string, unknown>).body = "If the zephyrine unit beeps, read its manual.";
    const inBody = await create(body);
    const ranked = await client.call<Tree[]>("GET", "/api/v1/trees/search?q=zephyrine", { token: technician });
    expect(ranked.body.map((tree) => tree.id).slice(0, 2)).toEqual([inTitle.id, inBody.id]);

    const prefix = await client.call<Tree[]>("GET", "/api/v1/trees/search?q=scanner%20zephyr", { token: technician });
    expect(prefix.body.map((tree) => tree.id)).toContain(inTitle.id);

    const typo = await client.call<Tree[]>("GET", "/api/v1/trees/search?q=zephyrin%20scaner", { token: technician });
    expect(typo.body.map((tree) => tree.id)).toContain(inTitle.id);
  });

  it("counts two swapped letters as one typo, and says where each hit matched with the words marked", async () => {
    const router = await create(
      printerTree({ title: "Wireless router keeps dropping", category: "Network", description: "Office Wi-Fi." }),
    );
    const inNode = printerTree({ title: "Slow laptop", category: "Laptops" });
    (inNode.nodes[2] as Record<string, unknown>).body = "Restart the router in the cupboard, then wait a minute.";
    const byNode = await create(inNode);
    type Hit = Tree & {
      match: { field: string; node_id: string; snippet: string; highlights: Array<{ start: number; length: number }> };
    };
    // "ruoter": the o and the u swapped, which trigram similarity alone scores too low (0.27) to correct.
    const found = await client.call<Hit[]>("GET", "/api/v1/trees/search?q=ruoter", { token: technician });
    expect(found.status).toBe(200);
    const hit = (id: string) => found.body.find((tree) => tree.id === id);
    expect(hit(router.id)?.match).toMatchObject({ field: "title", node_id: "" });
    const inTitle = hit(router.id)?.match;
    expect(inTitle?.snippet).toBe("Wireless router keeps dropping");
    expect(inTitle?.highlights.map(({ start, length }) => inTitle.snippet.slice(start, start + length))).toEqual([
      "router",
    ]);
    const node = hit(byNode.id)?.match;
    expect(node).toMatchObject({ field: "node", node_id: (inNode.nodes[2] as { id: string }).id });
    expect(node?.snippet).toContain("Restart the router in the cupboard");
    expect(node?.highlights.map(({ start, length }) => node.snippet.slice(start, start + length))).toEqual(["router"]);
    // Listing is not search: no match there.
    const listed = await client.call<Hit[]>("GET", "/api/v1/trees?limit=5", { token: technician });
    for (const tree of listed.body) expect(tree).not.toHaveProperty("match");
  });

  it("filters by category whatever its letter case", async () => {
    const tree = await create(printerTree({ title: "Case of the category", category: "Label Printers Q" }));
    for (const category of ["Label Printers Q", "label printers q", "LABEL PRINTERS Q"]) {
      const listed = await client.call<Tree[]>("GET", `/api/v1/trees?category=${encodeURIComponent(category)}`, {
        token: technician,
      });
      expect(
        listed.body.map((entry) => entry.id),
        category,
      ).toEqual([tree.id]);
      expect(listed.headers.get("x-total-count"), category).toBe("1");
    }
  });

  it("never shows deleted trees in lists or search", async () => {
    const tree = await create(printerTree({ title: "Quokkalicious kiosk fails" }));
    const found = await client.call<Tree[]>("GET", "/api/v1/trees/search?q=quokkalicious", { token: engineer });
    expect(found.body.map((entry) => entry.id)).toEqual([tree.id]);
    expect((await client.call("DELETE", `/api/v1/trees/${tree.id}`, { token: admin })).status).toBe(204);
    const after = await client.call<Tree[]>("GET", "/api/v1/trees/search?q=quokkalicious", { token: engineer });
    expect(after.body).toEqual([]);
    const listed = await client.call<Tree[]>("GET", "/api/v1/trees?limit=100", { token: engineer });
    expect(listed.body.map((entry) => entry.id)).not.toContain(tree.id);
  });
});
