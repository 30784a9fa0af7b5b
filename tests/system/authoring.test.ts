/**
 * Authoring without fear (issue 27) end to end through the gateway: a draft beside the live tree
 * that technicians never get, publish, rollback, reviews, archive and restore, history, diff,
 * and the portable format round trip, with the races that matter (two saves from one revision,
 * two publishes of one revision).
 */

import type { api } from "@tdt/test-support/api";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithAdmin;
let client: ReturnType<typeof api>;
let admin: string;
let engineer: string;
let reviewer: string;
let technician: string;

type Json = Record<string, unknown>;
interface Tree extends Json {
  id: string;
  version: number;
  status: string;
  title: string;
  nodes: Json[];
}
interface Draft extends Json {
  draft_revision: number;
  based_on_version: number;
  title: string;
  nodes: Json[];
}

beforeAll(async () => {
  running = await startSystemWithAdmin();
  ({ client, admin } = running);
  engineer = await client.engineer(admin);
  reviewer = await client.engineer(admin);
  technician = (await client.user("technician")).tokens.access_token;
});

afterAll(async () => {
  await running?.stop();
});

async function ok<T>(
  method: string,
  path: string,
  options: { token: string; json?: unknown },
  status = 200,
): Promise<T> {
  const response = await client.call<T>(method, path, options);
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(status);
  return response.body;
}

async function published(title = "Printer does not print"): Promise<Tree> {
  return ok<Tree>("POST", "/api/v1/trees", { token: engineer, json: printerTree({ title }) }, 201);
}

/** The tree's content as a draft save sends it, edited by `edit`. */
function contentOf(tree: Json, edit: (content: Json) => Json = (content) => content): Json {
  const { title, description, category, tags, root_node_id, nodes } = tree;
  return edit({ title, description, category, tags, root_node_id, nodes });
}

async function saveDraft(id: string, fromRevision: number, content: Json, token = engineer): Promise<Draft> {
  return ok<Draft>("PUT", `/api/v1/trees/${id}/draft`, { token, json: { ...content, draft_revision: fromRevision } });
}

/** A review of the tree's draft revision by `token`'s engineer, as answered. */
function reviewAs(id: string, token: string, draft_revision: number, decision: string, comment?: string) {
  return client.call("POST", `/api/v1/trees/${id}/reviews`, {
    token,
    json: { draft_revision, decision, ...(comment === undefined ? {} : { comment }) },
  });
}

describe("a draft beside the live tree", () => {
  it("never changes what technicians get; publishing does, as a new version", async () => {
    const tree = await published();
    const technicianSees = await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician });

    const empty = await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer });
    expect(empty).toMatchObject({ tree_id: tree.id, draft_revision: 0, based_on_version: 1, title: tree.title });
    expect(empty.saved_by).toBeNull();
    expect(empty.saved_at).toBeNull();

    const saved = await saveDraft(
      tree.id,
      0,
      contentOf(tree, (c) => ({ ...c, title: "Printer prints nothing" })),
    );
    expect(saved).toMatchObject({ draft_revision: 1, based_on_version: 1, title: "Printer prints nothing" });
    expect(saved.saved_at).toEqual(expect.any(String));
    const again = await saveDraft(
      tree.id,
      1,
      contentOf(saved, (c) => ({ ...c, description: "Second pass" })),
    );
    expect(again.draft_revision).toBe(2);

    // Technicians, and authors reading the tree, still get version 1 exactly.
    expect(await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician })).toEqual(technicianSees);
    expect((await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: engineer })).version).toBe(1);
    // Technicians never get the draft.
    expect((await client.call("GET", `/api/v1/trees/${tree.id}/draft`, { token: technician })).status).toBe(403);

    const v2 = await ok<Tree>(
      "POST",
      `/api/v1/trees/${tree.id}/publish`,
      { token: engineer, json: { draft_revision: 2, change_note: "Clearer title" } },
      201,
    );
    expect(v2).toMatchObject({
      version: 2,
      status: "published",
      title: "Printer prints nothing",
      change_note: "Clearer title",
    });
    expect(await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician })).toMatchObject({
      version: 2,
      description: "Second pass",
    });
    // The draft is gone: what authors edit next starts from version 2.
    expect(await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).toMatchObject({
      draft_revision: 0,
      based_on_version: 2,
    });
  });

  it("refuses a stale save or publish with 409 draft_conflict, and writes nothing", async () => {
    const tree = await published();
    await saveDraft(tree.id, 0, contentOf(tree));
    const stale = await client.call("PUT", `/api/v1/trees/${tree.id}/draft`, {
      token: engineer,
      json: { ...contentOf(tree, (c) => ({ ...c, title: "Lost edit" })), draft_revision: 0 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({ detail: "draft_conflict" });
    const publish = await client.call("POST", `/api/v1/trees/${tree.id}/publish`, {
      token: engineer,
      json: { draft_revision: 7 },
    });
    expect(publish.status).toBe(409);
    expect(publish.body).toEqual({ detail: "draft_conflict" });
    expect((await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).title).toBe(tree.title);
  });

  it("keeps an unfinished draft, and refuses to publish it with 422s pointing into the draft", async () => {
    const tree = await published();
    // A new node not connected yet, and an action without its next: fine while drafting.
    const unfinished = contentOf(tree, (c) => ({
      ...c,
      nodes: [...(c.nodes as Json[]), { id: "reboot", type: "action", title: "Restart the printer" }],
    }));
    const saved = await saveDraft(tree.id, 0, unfinished);
    expect(saved.nodes.at(-1)).toEqual({ id: "reboot", type: "action", title: "Restart the printer", body: "" });

    const refused = await client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "POST",
      `/api/v1/trees/${tree.id}/publish`,
      { token: engineer, json: { draft_revision: saved.draft_revision } },
    );
    expect(refused.status).toBe(422);
    const index = (unfinished.nodes as Json[]).length - 1;
    expect(refused.body.detail).toEqual([
      expect.objectContaining({ loc: ["draft", "nodes", index, "next"], type: "missing" }),
    ]);
    // Given its next, the new node is still one no path reaches.
    const connected = (unfinished.nodes as Json[]).map((node, i) => (i === index ? { ...node, next: "repair" } : node));
    const next = await saveDraft(tree.id, saved.draft_revision, { ...unfinished, nodes: connected });
    const unreachable = await client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "POST",
      `/api/v1/trees/${tree.id}/publish`,
      { token: engineer, json: { draft_revision: next.draft_revision } },
    );
    expect(unreachable.body.detail).toEqual([
      expect.objectContaining({ loc: ["draft", "nodes", index, "id"], type: "unreachable_node" }),
    ]);
    // Limits still hold for a draft, at the field.
    const tooLong = await client.call<{ detail: Array<{ loc: unknown[]; type: string }> }>(
      "PUT",
      `/api/v1/trees/${tree.id}/draft`,
      { token: engineer, json: { ...unfinished, title: "x".repeat(201), draft_revision: next.draft_revision } },
    );
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail).toContainEqual(
      expect.objectContaining({ loc: ["body", "title"], type: "string_too_long" }),
    );
    expect((await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician })).version).toBe(1);
  });

  it("accepts a draft or tree read back as it is", async () => {
    const tree = await published();
    const draft = await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer });
    const saved = await ok<Draft>("PUT", `/api/v1/trees/${tree.id}/draft`, { token: engineer, json: draft });
    expect(saved.draft_revision).toBe(1);
    const fromTree = await ok<Draft>("PUT", `/api/v1/trees/${tree.id}/draft`, {
      token: engineer,
      json: { ...tree, draft_revision: 1 },
    });
    expect(fromTree.draft_revision).toBe(2);
  });

  it("discards a draft", async () => {
    const tree = await published();
    await saveDraft(
      tree.id,
      0,
      contentOf(tree, (c) => ({ ...c, title: "Abandoned idea" })),
    );
    expect((await client.call("DELETE", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).status).toBe(204);
    expect((await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).title).toBe(tree.title);
    expect((await client.call("DELETE", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).status).toBe(404);
  });
});

describe("races", () => {
  it("of saves from one revision, exactly one wins; the rest are 409 and lose nothing of the winner's", async () => {
    const outcomes: Record<string, number> = {};
    for (let trial = 0; trial < 5; trial += 1) {
      const tree = await published(`Race ${trial}`);
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          client.call<Draft>("PUT", `/api/v1/trees/${tree.id}/draft`, {
            token: engineer,
            json: { ...contentOf(tree, (c) => ({ ...c, title: `Edit ${i}` })), draft_revision: 0 },
          }),
        ),
      );
      for (const answer of answers) outcomes[answer.status] = (outcomes[answer.status] ?? 0) + 1;
      const winners = answers.filter((answer) => answer.status === 200);
      expect(winners).toHaveLength(1);
      const draft = await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer });
      expect(draft).toMatchObject({ draft_revision: 1, title: winners[0]?.body.title });
    }
    expect(outcomes).toEqual({ 200: 5, 409: 25 });
  });

  it("of publishes of one revision, exactly one makes a version", async () => {
    const outcomes: Record<string, number> = {};
    for (let trial = 0; trial < 5; trial += 1) {
      const tree = await published(`Publish race ${trial}`);
      const draft = await saveDraft(
        tree.id,
        0,
        contentOf(tree, (c) => ({ ...c, description: "Edited" })),
      );
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          client.call("POST", `/api/v1/trees/${tree.id}/publish`, {
            token: engineer,
            json: { draft_revision: draft.draft_revision },
          }),
        ),
      );
      for (const answer of answers) outcomes[answer.status] = (outcomes[answer.status] ?? 0) + 1;
      const versions = await ok<Json[]>("GET", `/api/v1/trees/${tree.id}/versions`, { token: engineer });
      expect(versions.map((version) => version.version)).toEqual([2, 1]);
    }
    expect(outcomes).toEqual({ 201: 5, 409: 15 });
  });
});

describe("rollback", () => {
  it("publishes an earlier version's content again as a new version, and leaves the draft alone", async () => {
    const tree = await published();
    await saveDraft(
      tree.id,
      0,
      contentOf(tree, (c) => ({ ...c, title: "Version two" })),
    );
    await ok("POST", `/api/v1/trees/${tree.id}/publish`, { token: engineer, json: { draft_revision: 1 } }, 201);
    const work = await saveDraft(
      tree.id,
      0,
      contentOf(tree, (c) => ({ ...c, title: "Work in progress" })),
    );

    const v3 = await ok<Tree>(
      "POST",
      `/api/v1/trees/${tree.id}/rollback`,
      { token: engineer, json: { version: 1, change_note: "Version two confused people" } },
      201,
    );
    expect(v3).toMatchObject({ version: 3, status: "published", title: tree.title, nodes: tree.nodes });
    expect(await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician })).toMatchObject({ version: 3 });
    expect(await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).toMatchObject({
      draft_revision: work.draft_revision,
      title: "Work in progress",
    });

    const unknown = await client.call<{ detail: Json[] }>("POST", `/api/v1/trees/${tree.id}/rollback`, {
      token: engineer,
      json: { version: 9 },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toEqual([
      expect.objectContaining({ loc: ["body", "version"], type: "unknown_version" }),
    ]);
    expect(
      (await client.call("POST", `/api/v1/trees/${tree.id}/rollback`, { token: technician, json: { version: 1 } }))
        .status,
    ).toBe(403);
  });
});

describe("review when wanted", () => {
  it("needs another engineer's approval of that exact revision; self-approval is refused", async () => {
    const tree = await published();
    expect(
      await ok("PATCH", `/api/v1/trees/${tree.id}/settings`, { token: engineer, json: { review_required: true } }),
    ).toEqual({ review_required: true });
    expect(await ok("GET", `/api/v1/trees/${tree.id}/settings`, { token: reviewer })).toEqual({
      review_required: true,
    });

    const draft = await saveDraft(
      tree.id,
      0,
      contentOf(tree, (c) => ({ ...c, description: "Reviewed change" })),
    );
    const unreviewed = await client.call("POST", `/api/v1/trees/${tree.id}/publish`, {
      token: engineer,
      json: { draft_revision: draft.draft_revision },
    });
    expect(unreviewed.status).toBe(409);
    expect(unreviewed.body).toEqual({ detail: "review_required" });

    const self = await reviewAs(tree.id, engineer, draft.draft_revision, "approve");
    expect(self.status).toBe(403);
    expect(self.body).toEqual({ detail: "self_review" });

    const review = await ok<Json>(
      "POST",
      `/api/v1/trees/${tree.id}/reviews`,
      { token: reviewer, json: { draft_revision: draft.draft_revision, decision: "approve", comment: "Fine" } },
      201,
    );
    expect(review).toMatchObject({ draft_revision: draft.draft_revision, decision: "approve", comment: "Fine" });
    expect(await ok<Draft>("GET", `/api/v1/trees/${tree.id}/draft`, { token: engineer })).toMatchObject({
      approved: true,
      review_required: true,
    });

    // An approval is of that revision: a later save needs its own.
    const changed = await saveDraft(
      tree.id,
      draft.draft_revision,
      contentOf(tree, (c) => ({ ...c, description: "Sneaky" })),
    );
    expect(changed.approved).toBe(false);
    const stale = await client.call("POST", `/api/v1/trees/${tree.id}/publish`, {
      token: engineer,
      json: { draft_revision: changed.draft_revision },
    });
    expect(stale.body).toEqual({ detail: "review_required" });
    const staleReview = await reviewAs(tree.id, reviewer, draft.draft_revision, "approve");
    expect(staleReview.body).toEqual({ detail: "draft_conflict" });

    expect((await reviewAs(tree.id, reviewer, changed.draft_revision, "approve")).status).toBe(201);
    // Asking for changes takes the approval back.
    expect((await reviewAs(tree.id, reviewer, changed.draft_revision, "request_changes", "Wait")).status).toBe(201);
    const withdrawn = await client.call("POST", `/api/v1/trees/${tree.id}/publish`, {
      token: engineer,
      json: { draft_revision: changed.draft_revision },
    });
    expect(withdrawn.body).toEqual({ detail: "review_required" });
    expect((await reviewAs(tree.id, reviewer, changed.draft_revision, "approve")).status).toBe(201);
    await ok(
      "POST",
      `/api/v1/trees/${tree.id}/publish`,
      {
        token: engineer,
        json: { draft_revision: changed.draft_revision },
      },
      201,
    );
  });
});

describe("archive and restore", () => {
  it("hides a tree from lists and new reads until restored; nothing is deleted", async () => {
    const tree = await published("Archived printer tree");
    expect((await client.call("POST", `/api/v1/trees/${tree.id}/archive`, { token: engineer })).status).toBe(204);
    expect((await client.call("POST", `/api/v1/trees/${tree.id}/archive`, { token: engineer })).status).toBe(204);
    expect((await client.call("GET", `/api/v1/trees/${tree.id}`, { token: technician })).status).toBe(404);
    const live = await ok<Tree[]>("GET", "/api/v1/trees?limit=100", { token: engineer });
    expect(live.map((t) => t.id)).not.toContain(tree.id);
    const archived = await ok<Tree[]>("GET", "/api/v1/trees?archived=true&limit=100", { token: engineer });
    expect(archived.map((t) => t.id)).toContain(tree.id);
    expect((await client.call("GET", "/api/v1/trees?archived=true", { token: technician })).status).toBe(403);

    expect((await client.call("POST", `/api/v1/trees/${tree.id}/restore`, { token: engineer })).status).toBe(204);
    expect(await ok<Tree>("GET", `/api/v1/trees/${tree.id}`, { token: technician })).toMatchObject({ version: 1 });
    expect((await client.call("POST", `/api/v1/trees/${tree.id}/restore`, { token: engineer })).status).toBe(204);
  });
});

describe("history and diff", () => {
  it("says who did what, newest first, and what changed node by node", async () => {
    const tree = await published();
    // "No" now leads to a restart, then to repair: plug and power2 are gone.
    const edited = contentOf(tree, (c) => ({
      ...c,
      description: "Now with a restart step",
      nodes: (c.nodes as Json[])
        .filter((node) => node.id !== "plug" && node.id !== "power2")
        .map((node) =>
          node.id === "power"
            ? {
                ...node,
                title: "Is the power light on at all?",
                options: [
                  { id: "yes", label: "Yes", next: "paper" },
                  { id: "no", label: "No", next: "reboot" },
                ],
              }
            : node,
        )
        .concat([{ id: "reboot", type: "action", title: "Restart", body: "", next: "repair" }]),
    }));
    const draft = await saveDraft(tree.id, 0, edited);

    const diff = await ok<Json>("GET", `/api/v1/trees/${tree.id}/diff`, { token: engineer });
    expect(diff).toEqual({
      from: "1",
      to: "draft",
      added: ["reboot"],
      removed: ["plug", "power2"],
      changed: [{ node_id: "power", fields: ["title", "options"] }],
      fields: ["description"],
    });
    await ok(
      "POST",
      `/api/v1/trees/${tree.id}/publish`,
      {
        token: engineer,
        json: { draft_revision: draft.draft_revision, change_note: "Restart step" },
      },
      201,
    );
    expect(await ok<Json>("GET", `/api/v1/trees/${tree.id}/diff?from=2&to=1`, { token: engineer })).toMatchObject({
      added: ["plug", "power2"],
      removed: ["reboot"],
    });
    const bad = await client.call<{ detail: Json[] }>("GET", `/api/v1/trees/${tree.id}/diff?from=two&to=9`, {
      token: engineer,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual([expect.objectContaining({ loc: ["query", "from"], type: "version_or_draft" })]);
    const missing = await client.call<{ detail: Json[] }>("GET", `/api/v1/trees/${tree.id}/diff?to=9`, {
      token: engineer,
    });
    expect(missing.body.detail).toEqual([expect.objectContaining({ loc: ["query", "to"], type: "unknown_version" })]);

    await ok("POST", `/api/v1/trees/${tree.id}/rollback`, { token: engineer, json: { version: 1 } }, 201);
    await ok("POST", `/api/v1/trees/${tree.id}/archive`, { token: engineer }, 204);
    const history = await ok<Json[]>("GET", `/api/v1/trees/${tree.id}/history`, { token: engineer });
    expect(history.map((entry) => entry.action)).toEqual([
      "archived",
      "rolled_back",
      "published",
      "draft_saved",
      "created",
    ]);
    expect(history[2]).toMatchObject({ version: 2, draft_revision: draft.draft_revision, note: "Restart step" });
    expect(history[1]).toMatchObject({ version: 3, note: "Version 1's content again" });
    expect(history.every((entry) => typeof entry.actor === "string" && typeof entry.at === "string")).toBe(true);
  });
});

describe("the portable format", () => {
  it("exports a tree that the published JSON Schema describes, and imports it as the same tree", async () => {
    const tree = await published();
    const exported = await client.call<Json>("GET", `/api/v1/trees/${tree.id}/export`, { token: engineer });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-disposition")).toBe('attachment; filename="Printer_does_not_print.tree.json"');
    expect(exported.body).toMatchObject({
      format: "tdt-tree",
      format_version: 1,
      title: tree.title,
      nodes: tree.nodes,
    });

    const schema = await client.call<Json>("GET", "/api/v1/schemas/tree.json", {});
    expect(schema.status).toBe(200);
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema.body);
    expect(validate(exported.body), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...exported.body, title: "x".repeat(201) })).toBe(false);
    expect(validate.errors?.[0]?.instancePath).toBe("/title");

    const imported = await ok<Tree>("POST", "/api/v1/trees/import", { token: engineer, json: exported.body }, 201);
    expect(imported).toMatchObject({ version: 1, status: "draft", title: tree.title, nodes: tree.nodes });
    const again = await client.call<Json>("GET", `/api/v1/trees/${imported.id}/export`, { token: engineer });
    expect(again.body).toEqual(exported.body);

    const broken = await client.call<{ detail: Json[] }>("POST", "/api/v1/trees/import", {
      token: engineer,
      json: { ...exported.body, root_node_id: "nowhere" },
    });
    expect(broken.status).toBe(422);
    expect(broken.body.detail).toContainEqual(expect.objectContaining({ loc: ["body", "root_node_id"] }));
    const wrongFormat = await client.call<{ detail: Json[] }>("POST", "/api/v1/trees/import", {
      token: engineer,
      json: { ...exported.body, format_version: 2 },
    });
    expect(wrongFormat.status).toBe(422);
    expect(wrongFormat.body.detail).toContainEqual(expect.objectContaining({ loc: ["body", "format_version"] }));
  });
});
